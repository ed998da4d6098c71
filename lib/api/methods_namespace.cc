// Namespace and kmem methods: thin readers of params over PlatformOwner.
#include "pmemd/api.h"
#include "pmemd/json_reader.h"
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
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {"create-namespace",
       "Create a namespace (fsdax, devdax, sector, raw) in a region; dry_run returns the exact plan",
       Access::kMutate, [owner](const json& params, const CallContext&) -> Result<json> {
         JsonReader r(params, "params");
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
      {"destroy-namespace", "Destroy a namespace; force also disables an enabled one", Access::kMutate,
       [owner](const json& params, const CallContext&) -> Result<json> {
         JsonReader r(params, "params");
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
        {name, enable ? "Enable a namespace (its block or dax device appears)" : "Disable a namespace",
         Access::kMutate, [owner, enable](const json& params, const CallContext&) -> Result<json> {
           JsonReader r(params, "params");
           std::string dev;
           r.Required("namespace", &dev);
           PMEMD_RETURN_IF_ERROR(r.Finish());
           PMEMD_RETURN_IF_ERROR(enable ? owner->EnableNamespace(dev) : owner->DisableNamespace(dev));
           return json{{enable ? "enabled" : "disabled", dev}};
         }}));
  }
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {"reconfigure-namespace",
       "Change a namespace's mode in place (destroys its data: needs force); dry_run returns the plan",
       Access::kMutate, [owner](const json& params, const CallContext&) -> Result<json> {
         JsonReader r(params, "params");
         std::string dev;
         NamespaceSpec spec;
         bool force = false, dry_run = false;
         r.Required("namespace", &dev);
         ReadNamespaceSpec(r, &spec);
         r.Optional("force", &force);
         r.Optional("dry_run", &dry_run);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         if (!params.contains("mode"))
           return Status::InvalidArgument("params: missing required key 'mode' (fsdax, devdax, sector or raw)");
         if (dry_run) {
           PMEMD_ASSIGN_OR_RETURN(NamespacePlan plan, owner->PlanReconfigureNamespace(dev, spec));
           return json{{"dry_run", true}, {"plan", PlanJson(plan)}};
         }
         PMEMD_ASSIGN_OR_RETURN(Namespace n, owner->ReconfigureNamespace(dev, spec, force));
         return ToJson(n);
       }}));
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {"reconfigure-device", "Switch a dax device between devdax and system-ram (kmem)", Access::kMutate,
       [owner](const json& params, const CallContext& ctx) -> Result<json> {
         JsonReader r(params, "params");
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
       kReportsProgress}));
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {"online-memory", "Online every memory block of a system-ram dax device (all or nothing)", Access::kMutate,
       [owner](const json& params, const CallContext& ctx) -> Result<json> {
         JsonReader r(params, "params");
         std::string dev;
         bool movable = true;
         r.Required("device", &dev);
         r.Optional("movable", &movable);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         return MemoryResult("online-memory", owner->OnlineMemory(dev, movable, ctx.progress));
       },
       kReportsProgress}));
  return reg->Add(
      {"offline-memory",
       "Offline every memory block of a system-ram dax device; a busy block rolls the others back",
       Access::kMutate, [owner](const json& params, const CallContext& ctx) -> Result<json> {
         JsonReader r(params, "params");
         std::string dev;
         r.Required("device", &dev);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         return MemoryResult("offline-memory", owner->OfflineMemory(dev, ctx.progress));
       },
       kReportsProgress});
}

Status RegisterEmulatedMethods(Registry* reg, EmulatedPlatform* platform) {
  return reg->Add(
      {"inject-error",
       "Emulated platform only: make a memory block busy or stuck, or mark a region range as bad media",
       Access::kMutate, [platform](const json& params, const CallContext&) -> Result<json> {
         JsonReader r(params, "params");
         uint64_t block = 0, offset = 0, length = 0;
         uint32_t attempts = UINT32_MAX;
         std::string region;
         bool clear = false, stuck = false;
         bool has_block = r.Optional("memory_block", &block);
         bool has_attempts = r.Optional("busy_attempts", &attempts);
         bool has_stuck = r.Optional("stuck", &stuck);
         bool has_region = r.Optional("region", &region);
         r.Optional("offset", &offset);
         r.Optional("length", &length);
         r.Optional("clear", &clear);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         if (has_block == has_region)
           return Status::InvalidArgument(
               "inject-error takes either memory_block (with busy_attempts or stuck) or region (with offset, length)");
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
       }});
}

}  // namespace pmemd
