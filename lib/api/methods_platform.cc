#include "pmemd/api.h"
#include "pmemd/health.h"
#include "pmemd/json_reader.h"
#include "pmemd/platform_json.h"

namespace pmemd {

using nlohmann::json;

namespace {

Params ListParams() {
  const char* what = "Return this collection; none set means regions, namespaces, devices and memory_blocks";
  return {Param::Boolean("buses", what),         Param::Boolean("dimms", what),
          Param::Boolean("regions", what),       Param::Boolean("namespaces", what),
          Param::Boolean("devices", what),       Param::Boolean("memory_blocks", what),
          Param::Boolean("health", "Each DIMM's SMART health from the monitor's last reading (ndctl list -DH "
                                   "fields); alone, it also means dimms"),
          Param::String("region", "Only this region's objects: region0 or 0")};
}

Result<json> List(PlatformOwner* platform, const HealthMonitor* health, JsonReader& r) {
  ListFilter f;
  r.Optional("buses", &f.buses);
  r.Optional("dimms", &f.dimms);
  r.Optional("regions", &f.regions);
  r.Optional("namespaces", &f.namespaces);
  r.Optional("devices", &f.devices);
  r.Optional("memory_blocks", &f.memory_blocks);
  r.Optional("health", &f.health);
  r.Optional("region", &f.region);
  PMEMD_RETURN_IF_ERROR(r.Finish());
  // Nothing asked for: everything an admin looks at day to day.
  // health alone means the DIMMs with it, as ndctl list -H.
  if (f.health) f.dimms = true;
  if (!f.buses && !f.dimms && !f.regions && !f.namespaces && !f.devices && !f.memory_blocks)
    f.regions = f.namespaces = f.devices = f.memory_blocks = true;
  PMEMD_ASSIGN_OR_RETURN(Inventory inv, platform->List());
  if (health && f.dimms) {
    // The monitor's last reading: no firmware command on a request's thread.
    const DimmHealthMap dimms = health->Latest().dimms;
    for (Dimm& d : inv.dimms)
      if (auto it = dimms.find(d.dev); it != dimms.end()) d.health = it->second;
  }
  if (!f.region.empty()) {
    bool known = false;
    std::string names;
    for (const auto& reg : inv.regions) {
      known = known || reg.dev == f.region || reg.dev == "region" + f.region;
      names += (names.empty() ? "" : ", ") + reg.dev;
    }
    if (!known)
      return Status::NotFound("region '" + f.region + "' does not exist; known regions: " +
                              (names.empty() ? "none" : names));
  }
  return ToJson(inv, f);
}

}  // namespace

Status RegisterPlatformMethods(Registry* registry, PlatformOwner* platform, const HealthMonitor* health) {
  return registry->Add(
      {.name = "list",
       .summary = "List buses, DIMMs, regions, namespaces, dax devices and memory blocks (ndctl/daxctl fields)",
       .access = Access::kRead,
       .params = ListParams(),
       .result = InventorySchema(),
       .handler = [platform, health](JsonReader& params, const CallContext&) {
         return List(platform, health, params);
       }});
}

}  // namespace pmemd
