#include "pmemd/api.h"
#include "pmemd/json_reader.h"
#include "pmemd/json_schema.h"
#include "pmemd/pool_manager.h"

namespace pmemd {

using nlohmann::json;

Status RegisterDaemonMethods(Registry* registry, const DaemonInfo& info) {
  using namespace schema;
  return registry->Add(
      {.name = "version",
       .summary = "The daemon's version, the API version, the platform kind and the memmap budget",
       .access = Access::kRead,
       .params = {},
       .result = Object({{"version", String()}, {"api_version", String()}, {"platform", String()},
                         {"socket", String()}, {"state_dir", String()}},
                        {{"memmap_budget", Unsigned()}, {"memmap_budget_used", Unsigned()}}),
       .handler = [info](JsonReader& params, const CallContext&) -> Result<json> {
         PMEMD_RETURN_IF_ERROR(params.Finish());
         json j = {{"version", info.version},
                   {"api_version", info.api_version},
                   {"platform", info.platform_kind},
                   {"socket", info.socket_path},
                   {"state_dir", info.state_dir}};
         if (info.pools != nullptr) {
           j["memmap_budget"] = info.pools->memmap_budget();
           j["memmap_budget_used"] = info.pools->memmap_budget_used();
         }
         return j;
       }});
}

}  // namespace pmemd
