// Namespace and kmem methods: thin readers of params over PlatformOwner.
#include "pmemd/api.h"
#include "pmemd/json_reader.h"
#include "pmemd/json_schema.h"
#include "pmemd/platform_json.h"

namespace pmemd {

using nlohmann::json;

namespace {

json PlanJson(const NamespacePlan& p) {
  json j = {{"region", p.region}, {"dev", p.dev}, {"mode", p.mode}, {"size", p.size},
            {"raw_size", p.raw_size}, {"metadata_size", p.metadata_size}, {"offset", p.offset},
            {"uuid", p.uuid}};
  if (!p.map.empty()) j["map"] = p.map;
  if (p.align) j["align"] = p.align;
  if (p.sector_size) j["sector_size"] = p.sector_size;
  if (!p.name.empty()) j["name"] = p.name;
  return j;
}

json PlanSchema() {
  using namespace schema;
  return Object({{"region", String()}, {"dev", String()}, {"mode", String()}, {"size", Unsigned()},
                 {"raw_size", Unsigned()}, {"metadata_size", Unsigned()}, {"offset", Unsigned()}, {"uuid", String()}},
                {{"map", String()}, {"align", Unsigned()}, {"sector_size", Unsigned()}, {"name", String()}});
}

// A dry run's answer: the plan, or (create-namespace) the namespace a retry
// by name would return.
json DryRunSchema() {
  using namespace schema;
  return AnyOf({Object({{"dry_run", Boolean()}, {"plan", PlanSchema()}}),
                Object({{"dry_run", Boolean()}, {"created", Boolean()}, {"namespace", NamespaceSchema()}})});
}

json MemoryJson(const MemoryOpResult& m) {
  json blocks = json::array();
  for (const auto& b : m.blocks) {
    json j = {{"id", b.id}, {"from", b.from}, {"to", b.to}};
    if (b.rolled_back) j["rolled_back"] = true;
    if (!b.status.ok()) j["error"] = b.status.message();
    blocks.push_back(std::move(j));
  }
  return {{"device", m.chardev}, {"blocks", std::move(blocks)}, {"rolled_back", m.rolled_back}};
}

json MemorySchema() {
  using namespace schema;
  return Object({{"device", String()},
                 {"blocks", ArrayOf(Object({{"id", Unsigned()}, {"from", String()}, {"to", String()}},
                                           {{"rolled_back", Boolean()}, {"error", String()}}))},
                 {"rolled_back", Boolean()}});
}

const Param kNamespaceParam = Param::String("namespace", "The namespace: namespace0.0").Required();
const Param kDeviceParam = Param::String("device", "The dax device: dax0.0").Required();
const Param kMovableParam =
    Param::Boolean("movable", "Online into ZONE_MOVABLE (true) or ZONE_NORMAL (false)").Default(true);
const Param kDryRunParam = Param::Boolean("dry_run", "Return the exact plan and change nothing").Default(false);

// A memory operation that failed part way was rolled back; the caller gets
// an error naming the block and why, and that nothing changed.
Result<json> MemoryResult(const std::string& op, Result<MemoryOpResult> r) {
  if (!r.ok()) return r.status();
  for (const auto& b : r->blocks)
    if (!b.status.ok()) {
      std::string changed;
      for (const auto& x : r->blocks)
        if (x.rolled_back) changed += (changed.empty() ? "" : ", ") + std::to_string(x.id);
      std::string msg = op + " " + r->chardev + " failed: " + b.status.message();
      msg += r->rolled_back ? (changed.empty() ? "; no block had changed" : "; blocks " + changed + " were put back")
                            : "";
      msg += "; nothing changed. Retry later, or move what holds the block";
      return Status(b.status.code(), msg, b.status.sys_errno());
    }
  return MemoryJson(*r);
}

}  // namespace

Status RegisterNamespaceMethods(Registry* reg, PlatformOwner* owner) {
  using namespace schema;
  Params create = {Param::String("region", "The region: region0 or 0").Required()};
  for (Param& p : NamespaceSpecParams(false)) create.push_back(std::move(p));
  create.push_back(kDryRunParam);
  json created = NamespaceSchema();  // and whether this call made it
  created["properties"]["created"] = Boolean();
  created["required"].push_back("created");
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "create-namespace",
       .summary = "Create a namespace (fsdax, devdax, sector, raw) in a region; dry_run returns the exact plan",
       .access = Access::kMutate,
       .params = std::move(create),
       .result = AnyOf({created, DryRunSchema()}),
       .handler = [owner](JsonReader& r, const CallContext&) -> Result<json> {
         NamespaceSpec spec;
         r.Required("region", &spec.region);
         ReadNamespaceSpec(r, &spec);
         bool dry_run = false;
         r.Optional("dry_run", &dry_run);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         if (dry_run) {
           PMEMD_ASSIGN_OR_RETURN(std::optional<Namespace> existing, owner->FindCreateRetry(spec));
           if (existing) return json{{"dry_run", true}, {"created", false}, {"namespace", ToJson(*existing)}};
           PMEMD_ASSIGN_OR_RETURN(NamespacePlan plan, owner->PlanCreateNamespace(spec));
           return json{{"dry_run", true}, {"plan", PlanJson(plan)}};
         }
         bool created = false;
         PMEMD_ASSIGN_OR_RETURN(Namespace n, owner->CreateNamespace(spec, &created));
         json out = ToJson(n);
         out["created"] = created;
         return out;
       }}));
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "destroy-namespace",
       .summary = "Destroy a namespace; force also disables an enabled one",
       .access = Access::kMutate,
       .params = {kNamespaceParam, Param::Boolean("force", "Disable it first if it is enabled").Default(false)},
       .result = Object({{"destroyed", String()}}),
       .handler = [owner](JsonReader& r, const CallContext&) -> Result<json> {
         std::string dev;
         bool force = false;
         r.Required("namespace", &dev);
         r.Optional("force", &force);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         PMEMD_RETURN_IF_ERROR(owner->DestroyNamespace(dev, force));
         return json{{"destroyed", dev}};
       }}));
  for (bool enable : {true, false}) {
    std::string name = enable ? "enable-namespace" : "disable-namespace";
    PMEMD_RETURN_IF_ERROR(reg->Add(
        {.name = name,
         .summary = enable ? "Enable a namespace (its block or dax device appears)" : "Disable a namespace",
         .access = Access::kMutate,
         .params = {kNamespaceParam},
         .result = Object({{enable ? "enabled" : "disabled", String()}}),
         .handler = [owner, enable](JsonReader& r, const CallContext&) -> Result<json> {
           std::string dev;
           r.Required("namespace", &dev);
           PMEMD_RETURN_IF_ERROR(r.Finish());
           PMEMD_RETURN_IF_ERROR(enable ? owner->EnableNamespace(dev) : owner->DisableNamespace(dev));
           return json{{enable ? "enabled" : "disabled", dev}};
         }}));
  }
  Params reconfigure = {kNamespaceParam};
  for (Param& p : NamespaceSpecParams(true)) reconfigure.push_back(std::move(p));
  reconfigure.push_back(
      Param::Boolean("force", "Required to act: the data on the namespace is destroyed").Default(false));
  reconfigure.push_back(kDryRunParam);
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "reconfigure-namespace",
       .summary = "Change a namespace's mode in place (destroys its data: needs force); dry_run returns the plan",
       .access = Access::kMutate,
       .params = std::move(reconfigure),
       .result = AnyOf({NamespaceSchema(), DryRunSchema()}),
       .handler = [owner](JsonReader& r, const CallContext&) -> Result<json> {
         std::string dev;
         NamespaceSpec spec;
         bool force = false, dry_run = false;
         r.Required("namespace", &dev);
         ReadNamespaceSpec(r, &spec);
         r.Optional("force", &force);
         r.Optional("dry_run", &dry_run);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         if (dry_run) {
           PMEMD_ASSIGN_OR_RETURN(NamespacePlan plan, owner->PlanReconfigureNamespace(dev, spec));
           return json{{"dry_run", true}, {"plan", PlanJson(plan)}};
         }
         PMEMD_ASSIGN_OR_RETURN(Namespace n, owner->ReconfigureNamespace(dev, spec, force));
         return ToJson(n);
       }}));
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "reconfigure-device",
       .summary = "Switch a dax device between devdax and system-ram (kmem)",
       .access = Access::kMutate,
       .params = {kDeviceParam, Param::String("mode", "The new mode").OneOf({"devdax", "system-ram"}).Required(),
                  Param::Boolean("online", "To system-ram: online the new memory blocks").Default(true),
                  kMovableParam},
       .result = DaxDeviceSchema(),
       .handler = [owner](JsonReader& r, const CallContext& ctx) -> Result<json> {
         std::string dev, mode;
         bool online = true, movable = true;
         r.Required("device", &dev);
         r.Required("mode", &mode);
         r.Optional("online", &online);
         r.Optional("movable", &movable);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         PMEMD_ASSIGN_OR_RETURN(DaxDevice d, owner->ReconfigureDevice(dev, mode, online, movable, ctx.progress));
         return ToJson(d);
       },
       .reports_progress = true}));
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "online-memory",
       .summary = "Online every memory block of a system-ram dax device (all or nothing)",
       .access = Access::kMutate,
       .params = {kDeviceParam, kMovableParam},
       .result = MemorySchema(),
       .handler = [owner](JsonReader& r, const CallContext& ctx) -> Result<json> {
         std::string dev;
         bool movable = true;
         r.Required("device", &dev);
         r.Optional("movable", &movable);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         return MemoryResult("online-memory", owner->OnlineMemory(dev, movable, ctx.progress));
       },
       .reports_progress = true}));
  return reg->Add(
      {.name = "offline-memory",
       .summary = "Offline every memory block of a system-ram dax device; a busy block rolls the others back",
       .access = Access::kMutate,
       .params = {kDeviceParam},
       .result = MemorySchema(),
       .handler = [owner](JsonReader& r, const CallContext& ctx) -> Result<json> {
         std::string dev;
         r.Required("device", &dev);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         return MemoryResult("offline-memory", owner->OfflineMemory(dev, ctx.progress));
       },
       .reports_progress = true});
}

namespace {

// inject-error's three forms share one declaration: a memory block, a
// region's range, or (emulated health) a DIMM with the health fields to set.
Params InjectErrorParams() {
  Params p = {Param::Unsigned("memory_block", "The memory block's id (with busy_attempts or stuck)"),
              Param::Unsigned32("busy_attempts", "How many offline attempts fail with EBUSY; default: until cleared"),
              Param::Boolean("stuck", "Offlining the block never finishes until the deadline stops it"),
              Param::String("region", "The region to mark bad media in (with offset and length)"),
              Param::Unsigned("offset", "Bytes into the region, a multiple of 512").Default(0),
              Param::Unsigned("length", "Bytes, a multiple of 512").Default(0),
              Param::String("dimm", "The DIMM whose emulated health to set (nmem0), with the health fields below: "
                                    "each given is set over its current health (or, with clear, its defaults)")};
  for (Param& f : DimmHealthParams()) {
    f.description = "With dimm: " + f.description;
    p.push_back(std::move(f));
  }
  p.push_back(Param::Boolean("clear", "Remove the injected error instead (with dimm: start from the default health)")
                  .Default(false));
  return p;
}

json InjectErrorSchema() {
  using namespace schema;
  return AnyOf({Object({{"memory_block", Unsigned()}, {"stuck", Boolean()}}),
                Object({{"memory_block", Unsigned()}, {"busy_attempts", Unsigned()}}),
                Object({{"region", String()}, {"offset", Unsigned()}, {"length", Unsigned()}, {"cleared", Boolean()}}),
                Object({{"dimm", String()}, {"health", DimmHealthSchema()}})});
}

Result<json> InjectError(EmulatedPlatform* platform, JsonReader& r) {
  uint64_t block = 0, offset = 0, length = 0;
  uint32_t attempts = UINT32_MAX;
  std::string region, dimm;
  bool clear = false, stuck = false;
  const bool has_block = r.Optional("memory_block", &block);
  const bool has_attempts = r.Optional("busy_attempts", &attempts);
  const bool has_stuck = r.Optional("stuck", &stuck);
  const bool has_region = r.Optional("region", &region);
  const bool has_offset = r.Optional("offset", &offset);
  const bool has_length = r.Optional("length", &length);
  const bool has_dimm = r.Optional("dimm", &dimm);
  DimmHealth given;
  const bool has_health = ReadDimmHealthFields(r, &given, /*with_alarms=*/false);
  r.Optional("clear", &clear);
  for (const char* k : {"alarm_temperature", "alarm_controller_temperature", "alarm_spares"})
    r.Refuse(k, "is the firmware's to set: set the value or its threshold (e.g. temperature_millicelsius, "
                "temperature_threshold_millicelsius) and the alarm trips");
  PMEMD_RETURN_IF_ERROR(r.Finish());
  const char* kForms =
      "inject-error takes one of memory_block (with busy_attempts or stuck), region (with offset, length) or dimm "
      "(with health fields)";
  if (int(has_block) + int(has_region) + int(has_dimm) != 1) return Status::InvalidArgument(kForms);
  std::string stray;  // params of the other forms
  for (const auto& [given, name] : {std::pair{has_attempts && !has_block, "busy_attempts"},
                                    {has_stuck && !has_block, "stuck"},
                                    {has_offset && !has_region, "offset"},
                                    {has_length && !has_region, "length"},
                                    {has_health && !has_dimm, "health fields"}})
    if (given) stray += (stray.empty() ? "" : ", ") + std::string(name);
  if (!stray.empty())
    return Status::InvalidArgument(std::string("inject-error with ") +
                                   (has_block ? "memory_block" : has_region ? "region" : "dimm") +
                                   " does not take " + stray + "; " + kForms);
  if (has_dimm) {
    // The fields given, over the DIMM's current health or its defaults: r
    // reads them again, onto that health (Finish above checked them).
    PMEMD_ASSIGN_OR_RETURN(DimmHealth h, platform->InjectHealth(dimm, clear, [&](DimmHealth* h) {
      ReadDimmHealthFields(r, h, /*with_alarms=*/false);
      return r.status();
    }));
    return json{{"dimm", dimm}, {"health", ToJson(h)}};
  }
  if (has_block && has_stuck) {
    if (has_attempts)
      return Status::InvalidArgument("inject-error takes busy_attempts or stuck for a memory block, not both");
    PMEMD_RETURN_IF_ERROR(platform->InjectStuckBlock(block, stuck && !clear));
    return json{{"memory_block", block}, {"stuck", stuck && !clear}};
  }
  if (has_block) {
    PMEMD_RETURN_IF_ERROR(platform->InjectBusyBlock(block, clear ? 0 : attempts));
    return json{{"memory_block", block}, {"busy_attempts", clear ? 0 : attempts}};
  }
  PMEMD_RETURN_IF_ERROR(platform->InjectBadblocks(region, offset, length, clear));
  return json{{"region", region}, {"offset", offset}, {"length", length}, {"cleared", clear}};
}

}  // namespace

Status RegisterEmulatedMethods(Registry* reg, EmulatedPlatform* platform) {
  return reg->Add({.name = "inject-error",
                   .summary = "Emulated platform only: make a memory block busy or stuck, mark a region range as bad "
                              "media, or set a DIMM's health",
                   .access = Access::kMutate,
                   .params = InjectErrorParams(),
                   .result = InjectErrorSchema(),
                   .handler = [platform](JsonReader& r, const CallContext&) { return InjectError(platform, r); }});
}

}  // namespace pmemd
