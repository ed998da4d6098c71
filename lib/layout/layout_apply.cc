// LayoutApplier::Apply: the plan made and run under every region's lock,
// each step through the operation its JSON-RPC method calls.
#include "pmemd/json_reader.h"
#include "pmemd/layout.h"
#include "pmemd/log.h"
#include "pmemd/platform_json.h"
#include "pmemd/text.h"

namespace pmemd {

using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto log = GetLogger("layout");
  return log;
}

// A memory operation that failed part way was rolled back by the platform:
// its first failed block says why.
Status MemoryStatus(const Result<MemoryOpResult>& r) {
  if (!r.ok()) return r.status();
  for (const auto& b : r->blocks)
    if (!b.status.ok())
      return b.status.Annotate(r->chardev + " memory block " + std::to_string(b.id) +
                               (r->rolled_back ? " (the blocks already changed were put back)" : ""));
  return Status::Ok();
}

Status BlocksStatus(const Result<PoolBlockOpResult>& r) {
  if (!r.ok()) return r.status();
  return r->status;
}

std::string StepName(size_t i, const PlanStep& s) { return std::to_string(i + 1) + ". " + s.op + " " + s.object; }

// The error of an apply that stopped at step `failed`: what ran, what did
// not, and that applying again goes on from here.
Status Stopped(const LayoutPlan& plan, size_t failed, const Status& why) {
  std::string done, not_run;
  json steps = json::array();
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    json j = PlanStepJson(plan.steps[i]);
    j["state"] = i < failed ? "done" : i == failed ? "failed" : "not_run";
    if (i == failed) j["error"] = why.message();
    steps.push_back(std::move(j));
    if (i < failed) done += (done.empty() ? "" : ", ") + StepName(i, plan.steps[i]);
    if (i > failed) not_run += (not_run.empty() ? "" : ", ") + StepName(i, plan.steps[i]);
  }
  std::string message = "apply stopped at step " + StepName(failed, plan.steps[failed]) + " of " +
                        std::to_string(plan.steps.size()) + ": " + why.message() + ". Done: " +
                        (done.empty() ? "none" : done) + "; not run: " + (not_run.empty() ? "none" : not_run) +
                        ". The steps done stay done (each is whole); fix the cause and apply again, which "
                        "plans from what the host has now";
  return Status(why.code(), message, why.sys_errno()).WithDetail({{"steps", std::move(steps)}, {"failed_step", failed}});
}

}  // namespace

Result<ApplyResult> LayoutApplier::Apply(const Layout& layout, const ApplyOptions& options) {
  MutexLock lock(mu_);
  PMEMD_ASSIGN_OR_RETURN(std::unique_ptr<PlatformOwner::RegionsHold> hold, owner_->HoldAllRegions());
  PMEMD_ASSIGN_OR_RETURN(LayoutSnapshot now, Snapshot());
  ApplyResult result;
  result.dry_run = options.dry_run;
  PMEMD_ASSIGN_OR_RETURN(result.plan, PlanLayout(layout, now, *owner_, options));
  if (options.dry_run || result.plan.steps.empty()) return result;
  const auto t0 = std::chrono::steady_clock::now();
  const size_t n = result.plan.steps.size();
  for (size_t i = 0; i < n; ++i) {
    const PlanStep& step = result.plan.steps[i];
    Status s = RunStep(step);
    if (!s.ok()) {
      Log()->error("layout apply: step {} of {} failed: {} {}: {}; {} steps done, {} not run", i + 1, n, step.op,
                   step.object, s.message(), i, n - i - 1);
      return Stopped(result.plan, i, s);
    }
    Log()->info("layout apply: step {} of {}: {} {} ({})", i + 1, n, step.op, step.object, step.reason);
    result.done = i + 1;
  }
  Log()->info("layout applied: {} steps in {} ms", n,
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
  return result;
}

Status LayoutApplier::RunStep(const PlanStep& step) {
  const json& p = step.params;
  JsonReader r(p, "step " + step.op);
  // A dax device named, or made by an earlier step for a namespace.
  auto device = [&]() -> Result<std::string> {
    std::string dev, ns;
    r.Optional("device", &dev);
    if (!r.Optional("of_namespace", &ns)) return dev;
    PMEMD_ASSIGN_OR_RETURN(Inventory inv, owner_->List());
    for (const auto& n : inv.namespaces)
      if (n.name && *n.name == ns && n.chardev) return *n.chardev;
    return Status::NotFound("namespace " + Quote(ns) + " has no dax device (it is not devdax, or an earlier step "
                            "did not make it)");
  };
  if (step.op == "create-namespace" || step.op == "reconfigure-namespace") {
    NamespaceSpec spec;
    std::string dev;
    bool force = false;
    r.Optional("region", &spec.region);
    r.Optional("namespace", &dev);
    r.Optional("force", &force);
    ReadNamespaceSpec(r, &spec);
    PMEMD_RETURN_IF_ERROR(r.Finish());
    if (step.op == "create-namespace") return owner_->CreateNamespace(spec).status();
    return owner_->ReconfigureNamespace(dev, spec, force).status();
  }
  if (step.op == "destroy-namespace") {
    std::string dev;
    bool force = false;
    r.Required("namespace", &dev);
    r.Optional("force", &force);
    PMEMD_RETURN_IF_ERROR(r.Finish());
    return owner_->DestroyNamespace(dev, force);
  }
  if (step.op == "reconfigure-device" || step.op == "online-memory" || step.op == "offline-memory") {
    std::string mode;
    bool online = true, movable = true;
    r.Optional("mode", &mode);
    r.Optional("online", &online);
    r.Optional("movable", &movable);
    PMEMD_ASSIGN_OR_RETURN(std::string dev, device());
    PMEMD_RETURN_IF_ERROR(r.Finish());
    if (step.op == "online-memory") return MemoryStatus(owner_->OnlineMemory(dev, movable));
    if (step.op == "offline-memory") return MemoryStatus(owner_->OfflineMemory(dev));
    return owner_->ReconfigureDevice(dev, mode, online, movable).status();
  }
  if (step.op == "detach-pool") {
    std::string name;
    r.Required("pool", &name);
    PMEMD_RETURN_IF_ERROR(r.Finish());
    return pools_->DetachPool(name);
  }
  if (step.op == "create-pool") {
    CreatePoolSpec spec;
    std::string memmap;
    uint32_t id = 0;
    r.Required("name", &spec.name);
    r.Optional("path", &spec.target.path);
    r.Optional("size", &spec.size);
    r.Optional("block_size", &spec.block_size);
    r.Optional("max_leases", &spec.max_leases);
    r.Optional("memmap", &memmap);
    r.Optional("force", &spec.force);
    if (r.Optional("owner_uid", &id)) spec.owner_uid = id;
    if (r.Optional("owner_gid", &id)) spec.owner_gid = id;
    if (spec.target.path.empty()) {
      PMEMD_ASSIGN_OR_RETURN(spec.target.device, device());
    }
    PMEMD_RETURN_IF_ERROR(r.Finish());
    PMEMD_ASSIGN_OR_RETURN(spec.memmap, ParsePoolMemmap(memmap));
    return pools_->CreatePool(spec).status();
  }
  // The pool's own operations.
  std::string name;
  r.Required("pool", &name);
  if (step.op == "online-blocks" || step.op == "offline-blocks") {
    std::string blocks;
    r.Required("blocks", &blocks);
    PMEMD_RETURN_IF_ERROR(r.Finish());
    PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> pool, pools_->FindUsable(name));
    PMEMD_ASSIGN_OR_RETURN(std::vector<bool> set, ParseBlockSet(blocks, pool->Describe().blocks_total));
    // One operation per range, each all or nothing.
    for (uint64_t i = 0; i < set.size();) {
      if (!set[i]) {
        ++i;
        continue;
      }
      uint64_t j = i;
      while (j + 1 < set.size() && set[j + 1]) ++j;
      PMEMD_RETURN_IF_ERROR(BlocksStatus(step.op == "online-blocks" ? pool->OnlineBlocks(i, j - i + 1)
                                                                    : pool->OfflineBlocks(i, j - i + 1)));
      i = j + 1;
    }
    return Status::Ok();
  }
  if (step.op == "create-lease") {
    LeaseSpec spec;
    std::map<std::string, std::string> labels;
    json j;
    r.Required("name", &spec.name);
    r.Required("size", &spec.size);
    r.Optional("align", &spec.align);
    r.Optional("owner", &spec.owner);
    if (r.Optional("labels", &j)) spec.labels = j.get<std::map<std::string, std::string>>();
    PMEMD_RETURN_IF_ERROR(r.Finish());
    PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> pool, pools_->FindUsable(name));
    return pool->CreateLease(spec).status();
  }
  if (step.op == "delete-lease") {
    std::string lease;
    r.Required("name", &lease);
    PMEMD_RETURN_IF_ERROR(r.Finish());
    PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> pool, pools_->FindUsable(name));
    return pool->DeleteLease(lease);
  }
  return Status::Internal("layout step " + Quote(step.op) + " has no operation; this is a bug in pmemd");
}

}  // namespace pmemd
