#include "pmemd/api.h"
#include "pmemd/json_reader.h"

namespace pmemd {

using nlohmann::json;

Status RegisterDaemonMethods(Registry* registry, const DaemonInfo& info) {
  return registry->Add(
      {"version", "The daemon's version, the API version and the platform kind", Access::kRead,
       [info](const json& params, const CallContext&) -> Result<json> {
         PMEMD_RETURN_IF_ERROR(JsonReader(params, "params").Finish());
         return json{{"version", info.version},
                     {"api_version", info.api_version},
                     {"platform", info.platform_kind},
                     {"socket", info.socket_path},
                     {"state_dir", info.state_dir}};
       }});
}

}  // namespace pmemd
