#include "pmemd/platform_json.h"

#include <algorithm>
#include <type_traits>

#include "pmemd/health.h"
#include "pmemd/json_schema.h"

namespace pmemd {

using nlohmann::json;

namespace {

template <typename T>
void PutIf(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

// "0" and "region0" both name region0, as ndctl's filters allow.
bool RegionMatches(const std::string& filter, const std::string& dev) {
  if (filter.empty()) return true;
  if (filter == dev) return true;
  return dev == "region" + filter;
}

json BadblocksJson(const std::vector<BadRange>& v) {
  json a = json::array();
  for (const auto& b : v) a.push_back({{"offset", b.offset}, {"length", b.length}});
  return a;
}

}  // namespace

json ToJson(const Bus& b) { return {{"provider", b.provider}, {"dev", b.dev}}; }

namespace {

// One table for every direction: ToJson writes every field present,
// ReadDimmHealthFields reads them back (the tripped alarms only when
// asked), DimmHealthParams declares them and DimmHealthSchema describes them.
template <typename F>
void ForEachHealthField(F&& f) {
  f("temperature_millicelsius", &DimmHealth::temperature_mc, false, "Media temperature, millidegrees Celsius");
  f("controller_temperature_millicelsius", &DimmHealth::controller_temperature_mc, false,
    "Controller temperature, millidegrees Celsius");
  f("spares_percentage", &DimmHealth::spares_percentage, false, "Spare capacity left, percent (0 to 100)");
  f("alarm_temperature", &DimmHealth::alarm_temperature, true, "The media temperature alarm tripped");
  f("alarm_controller_temperature", &DimmHealth::alarm_controller_temperature, true,
    "The controller temperature alarm tripped");
  f("alarm_spares", &DimmHealth::alarm_spares, true, "The spares alarm tripped");
  f("alarm_enabled_media_temperature", &DimmHealth::alarm_enabled_media_temperature, false,
    "Whether the media temperature alarm is enabled");
  f("temperature_threshold_millicelsius", &DimmHealth::temperature_threshold_mc, false,
    "Media temperature alarm threshold, millidegrees Celsius");
  f("alarm_enabled_ctrl_temperature", &DimmHealth::alarm_enabled_ctrl_temperature, false,
    "Whether the controller temperature alarm is enabled");
  f("controller_temperature_threshold_millicelsius", &DimmHealth::controller_temperature_threshold_mc, false,
    "Controller temperature alarm threshold, millidegrees Celsius");
  f("alarm_enabled_spares", &DimmHealth::alarm_enabled_spares, false, "Whether the spares alarm is enabled");
  f("spares_threshold", &DimmHealth::spares_threshold, false, "Spares alarm threshold, percent (0 to 100)");
  f("life_used_percentage", &DimmHealth::life_used_percentage, false, "Life used, percent (0 to 100)");
  f("shutdown_state", &DimmHealth::shutdown_state, false, "The last shutdown: clean or dirty");
  f("shutdown_count", &DimmHealth::shutdown_count, false, "Unsafe (dirty) shutdowns the DIMM counted");
}

const std::vector<std::string> kShutdownStates = {"clean", "dirty"};

// The declared type of a health field of type std::optional<T>.
template <typename T>
ParamType HealthFieldType() {
  if constexpr (std::is_same_v<T, int64_t>) return ParamType::kInteger;
  if constexpr (std::is_same_v<T, uint32_t>) return ParamType::kUnsigned32;
  if constexpr (std::is_same_v<T, uint64_t>) return ParamType::kUnsigned;
  if constexpr (std::is_same_v<T, bool>) return ParamType::kBoolean;
  static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t> ||
                    std::is_same_v<T, bool> || std::is_same_v<T, std::string>,
                "a health field of a type DimmHealthParams cannot declare");
  return ParamType::kString;
}

template <typename M>
using HealthFieldValue = typename std::remove_cvref_t<decltype(std::declval<DimmHealth>().*std::declval<M>())>::value_type;

}  // namespace

json ToJson(const DimmHealth& h) {
  json j = {{"health_state", h.health_state}};
  ForEachHealthField([&](const char* key, auto member, bool, const char*) { PutIf(j, key, h.*member); });
  return j;
}

bool ReadDimmHealthFields(JsonReader& r, DimmHealth* h, bool with_alarms) {
  bool any = r.Optional("health_state", &h->health_state);
  ForEachHealthField([&](const char* key, auto member, bool alarm, const char*) {
    if (alarm && !with_alarms) return;
    HealthFieldValue<decltype(member)> v{};
    if (r.Optional(key, &v)) {
      h->*member = v;
      any = true;
    }
  });
  return any;
}

Params DimmHealthParams() {
  Params out = {Param::String("health_state", "The DIMM's health state").OneOf(kDimmHealthStates)};
  ForEachHealthField([&](const char* key, auto member, bool alarm, const char* description) {
    if (alarm) return;
    Param p{key, HealthFieldType<HealthFieldValue<decltype(member)>>(), description};
    if (std::string_view(key) == "shutdown_state") p = p.OneOf(kShutdownStates);
    out.push_back(std::move(p));
  });
  return out;
}

json DimmHealthSchema() {
  std::vector<std::string> states = kDimmHealthStates;
  states.push_back("unknown");
  schema::Fields optional;
  ForEachHealthField([&](const char* key, auto member, bool, const char*) {
    const ParamType type = HealthFieldType<HealthFieldValue<decltype(member)>>();
    optional.emplace_back(key, std::string_view(key) == "shutdown_state" ? schema::Enum(kShutdownStates)
                                                                          : schema::OfParam({key, type}));
  });
  return schema::Object({{"health_state", schema::Enum(states)}}, optional);
}

json ToJson(const Dimm& d, bool health) {
  json j = {{"dev", d.dev}, {"id", d.id}, {"handle", d.handle}, {"phys_id", d.phys_id},
            {"bus", d.bus}};
  if (!d.enabled) j["state"] = "disabled";
  if (d.health) j["health"] = health ? ToJson(*d.health) : json{{"health_state", d.health->health_state}};
  PutIf(j, "label_slots", d.label_slots_total);
  return j;
}

json ToJson(const Region& r) {
  json j = {{"dev", r.dev},
            {"size", r.size},
            {"align", r.align},
            {"available_size", r.available_size},
            {"max_available_extent", r.max_available_extent},
            {"type", r.type}};
  PutIf(j, "numa_node", r.numa_node);
  PutIf(j, "target_node", r.target_node);
  j["iset_id"] = r.iset_id;
  if (!r.mappings.empty()) {
    json maps = json::array();
    for (const auto& m : r.mappings)
      maps.push_back({{"dimm", m.dimm}, {"offset", m.offset}, {"length", m.length},
                      {"position", m.position}});
    j["mappings"] = std::move(maps);
  }
  if (!r.enabled) j["state"] = "disabled";
  if (r.badblock_count) j["badblock_count"] = r.badblock_count;
  if (!r.badblocks.empty()) j["badblocks"] = BadblocksJson(r.badblocks);
  j["persistence_domain"] = r.persistence_domain;
  j["label_support"] = r.label_support;
  j["bus"] = r.bus;
  return j;
}

json ToJson(const Namespace& n) {
  json j = {{"dev", n.dev}, {"mode", n.mode}};
  PutIf(j, "map", n.map);
  j["size"] = n.size;
  j["raw_size"] = n.raw_size;
  PutIf(j, "uuid", n.uuid);
  PutIf(j, "raw_uuid", n.raw_uuid);
  PutIf(j, "sector_size", n.sector_size);
  PutIf(j, "align", n.align);
  PutIf(j, "blockdev", n.blockdev);
  PutIf(j, "chardev", n.chardev);
  if (!n.enabled) j["state"] = "disabled";
  PutIf(j, "name", n.name);
  PutIf(j, "numa_node", n.numa_node);
  PutIf(j, "target_node", n.target_node);
  if (n.badblock_count) j["badblock_count"] = n.badblock_count;
  if (!n.badblocks.empty()) j["badblocks"] = BadblocksJson(n.badblocks);
  j["region"] = n.region;
  return j;
}

json ToJson(const DaxDevice& d) {
  json j = {{"chardev", d.chardev}, {"size", d.size}};
  PutIf(j, "target_node", d.target_node);
  PutIf(j, "align", d.align);
  j["mode"] = d.mode;
  PutIf(j, "online_memblocks", d.online_memblocks);
  PutIf(j, "total_memblocks", d.total_memblocks);
  PutIf(j, "movable", d.movable);
  if (!d.enabled) j["state"] = "disabled";
  j["region"] = d.region;
  if (!d.ns.empty()) j["namespace"] = d.ns;
  return j;
}

json ToJson(const MemoryBlock& m) {
  json j = {{"id", m.id},       {"phys_index", m.phys_index}, {"start", m.start},
            {"size", m.size},   {"state", m.state},           {"valid_zones", m.valid_zones},
            {"removable", m.removable}};
  if (!m.zone.empty()) j["zone"] = m.zone;
  PutIf(j, "node", m.node);
  if (!m.dax_device.empty()) j["dax_device"] = m.dax_device;
  return j;
}

json NamespaceSchema() {
  using namespace schema;
  return Object({{"dev", String()}, {"mode", Enum({"fsdax", "devdax", "sector", "raw"})}, {"size", Unsigned()},
                 {"raw_size", Unsigned()}, {"region", String()}},
                {{"map", Enum({"dev", "mem"})}, {"uuid", String()}, {"raw_uuid", String()},
                 {"sector_size", Unsigned()}, {"align", Unsigned()}, {"blockdev", String()}, {"chardev", String()},
                 {"state", Enum({"disabled"})}, {"name", String()}, {"numa_node", Integer()},
                 {"target_node", Integer()}, {"badblock_count", Unsigned()}, {"badblocks", ArrayOf(Object({}))}});
}

json DaxDeviceSchema() {
  using namespace schema;
  return Object({{"chardev", String()}, {"size", Unsigned()}, {"mode", Enum({"devdax", "system-ram"})},
                 {"region", String()}},
                {{"target_node", Integer()}, {"align", Unsigned()}, {"online_memblocks", Unsigned()},
                 {"total_memblocks", Unsigned()}, {"movable", Boolean()}, {"state", Enum({"disabled"})},
                 {"namespace", String()}});
}

json InventorySchema() {
  using namespace schema;
  json region = Object({{"dev", String()}, {"size", Unsigned()}, {"align", Unsigned()},
                        {"available_size", Unsigned()}, {"max_available_extent", Unsigned()}, {"type", String()},
                        {"iset_id", Unsigned()}, {"persistence_domain", String()}, {"label_support", Boolean()},
                        {"bus", String()}},
                       {{"numa_node", Integer()}, {"target_node", Integer()}, {"mappings", ArrayOf(Object({}))},
                        {"state", Enum({"disabled"})}, {"badblock_count", Unsigned()},
                        {"badblocks", ArrayOf(Object({}))}});
  json block = Object({{"id", Unsigned()}, {"phys_index", Unsigned()}, {"start", Unsigned()}, {"size", Unsigned()},
                       {"state", String()}, {"valid_zones", String()}, {"removable", Boolean()}},
                      {{"zone", String()}, {"node", Integer()}, {"dax_device", String()}});
  return Object({}, {{"buses", ArrayOf(Object({{"provider", String()}, {"dev", String()}}))},
                     {"dimms", ArrayOf(Object({{"dev", String()}, {"id", String()}, {"handle", Unsigned()},
                                               {"phys_id", Unsigned()}, {"bus", String()}},
                                              {{"state", Enum({"disabled"})}, {"health", DimmHealthSchema()},
                                               {"label_slots", Unsigned()}}))},
                     {"regions", ArrayOf(region)},
                     {"namespaces", ArrayOf(NamespaceSchema())},
                     {"devices", ArrayOf(DaxDeviceSchema())},
                     {"memory_blocks", ArrayOf(block)},
                     {"memory_block_size", Unsigned()},
                     {"auto_online_blocks", String()}});
}

json ToJson(const Inventory& inv, const ListFilter& f) {
  json out = json::object();
  const std::string& rf = f.region;
  // Objects that belong to no region (buses, DIMMs) are listed regardless of
  // the region filter, but a DIMM is dropped when none of its mappings is in
  // the region asked for.
  if (f.buses) {
    json a = json::array();
    for (const auto& b : inv.buses) a.push_back(ToJson(b));
    out["buses"] = std::move(a);
  }
  if (f.dimms) {
    json a = json::array();
    for (const auto& d : inv.dimms) {
      bool in_region = rf.empty() || std::any_of(inv.regions.begin(), inv.regions.end(),
                                                 [&](const Region& r) {
        return RegionMatches(rf, r.dev) &&
               std::any_of(r.mappings.begin(), r.mappings.end(),
                           [&](const Mapping& m) { return m.dimm == d.dev; });
      });
      if (in_region) a.push_back(ToJson(d, f.health));
    }
    out["dimms"] = std::move(a);
  }
  if (f.regions) {
    json a = json::array();
    for (const auto& r : inv.regions)
      if (RegionMatches(rf, r.dev) && (f.include_disabled || r.enabled)) a.push_back(ToJson(r));
    out["regions"] = std::move(a);
  }
  if (f.namespaces) {
    json a = json::array();
    for (const auto& n : inv.namespaces)
      if (RegionMatches(rf, n.region) && (f.include_disabled || n.enabled)) a.push_back(ToJson(n));
    out["namespaces"] = std::move(a);
  }
  if (f.devices) {
    json a = json::array();
    for (const auto& d : inv.dax_devices)
      if (RegionMatches(rf, d.region) && (f.include_disabled || d.enabled)) a.push_back(ToJson(d));
    out["devices"] = std::move(a);
  }
  if (f.memory_blocks) {
    json a = json::array();
    for (const auto& m : inv.memory_blocks) {
      if (!rf.empty()) {
        auto dev = std::find_if(inv.dax_devices.begin(), inv.dax_devices.end(),
                                [&](const DaxDevice& d) { return d.chardev == m.dax_device; });
        if (dev == inv.dax_devices.end() || !RegionMatches(rf, dev->region)) continue;
      }
      a.push_back(ToJson(m));
    }
    out["memory_blocks"] = std::move(a);
    out["memory_block_size"] = inv.memory_block_size;
    if (!inv.auto_online_blocks.empty()) out["auto_online_blocks"] = inv.auto_online_blocks;
  }
  return out;
}

Params NamespaceSpecParams(bool mode_required) {
  Param mode = Param::String("mode", "fsdax, devdax, sector or raw").OneOf({"fsdax", "devdax", "sector", "raw"});
  return {mode_required ? mode.Required() : mode.Default(NamespaceSpec{}.mode),
          Param::Unsigned("size",
                          "Bytes taken from the region: a multiple of its alignment and of align; default: the "
                          "largest free extent"),
          Param::Unsigned("align", "fsdax and devdax: 4096, 2097152 (the default) or 1073741824"),
          Param::String("map", "fsdax and devdax: where the struct page array lives, dev (the default) or mem")
              .OneOf({"dev", "mem"}),
          Param::String("name", "Up to 63 bytes; makes a create idempotent"),
          Param::String("uuid", "The label's uuid; default: generated"),
          Param::Unsigned32("sector_size", "512 or 4096 (sector mode: 512, 520, 528, 4096, 4104, 4160 or 4224; "
                                           "default 4096); not devdax")};
}

void ReadNamespaceSpec(JsonReader& r, NamespaceSpec* s) {
  r.Optional("mode", &s->mode);
  uint64_t u = 0;
  if (r.Optional("size", &u)) s->size = u;
  if (r.Optional("align", &u)) s->align = u;
  std::string map;
  if (r.Optional("map", &map)) s->map = map;
  r.Optional("name", &s->name);
  r.Optional("uuid", &s->uuid);
  uint32_t ss = 0;
  if (r.Optional("sector_size", &ss)) s->sector_size = ss;
}

}  // namespace pmemd
