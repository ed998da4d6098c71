#include "pmemd/ndctl_platform.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <utility>

#include "platform/inventory_cache.h"
#include "platform/namespace_plan.h"
#include "platform/namespace_rules.h"
#include "platform/ndctl_facts.h"
#include "platform/ndctl_health.h"
#include "platform/ndctl_kmem.h"
#include "platform/ndctl_lib.h"
#include "platform/ndctl_namespace_steps.h"
#include "platform/ndctl_snapshot.h"
#include "platform/sysfs_memory.h"
#include "pmemd/events.h"
#include "pmemd/log.h"
#include "pmemd/mutex.h"
#include "pmemd/uuid.h"

// The coordination of the ndctl platform: which context each call reads,
// the locks, the order of the steps and their undo, and the events. The
// reads are in ndctl_snapshot.cc and ndctl_facts.cc, the namespace steps in
// ndctl_namespace_steps.cc, kmem in ndctl_kmem.cc.

namespace pmemd {

namespace {

using namespace nd;  // NOLINT: this file is the nd:: pieces' one user
using nsplan::Facts;
using nsplan::NamespaceFacts;

class NdctlPlatform final : public Platform {
 public:
  NdctlPlatform(NdctlPlatformOptions options, EventBus* events)
      : options_(std::move(options)), events_(events), log_(GetLogger("platform")) {
    // libndctl reads /sys whatever the root: only there do uevents describe
    // what List() reads.
    if (!options_.watch_uevents || options_.sysfs_root != "/sys") return;
    auto source = OpenKernelUeventSource();
    if (!source.ok()) {
      log_->warn("{}; every list re-reads the kernel", source.status().message());
      return;
    }
    InventoryReaders readers{
        .read_all = [this] { return ReadAll(); },
        .read_block = [this](uint64_t id) {
          return sysfs::ReadMemoryBlock(sysfs::MemoryDir(options_.sysfs_root), id, block_size_.load());
        },
        .fingerprint = [this] { return NdFingerprint(options_.sysfs_root); }};
    cache_ = std::make_unique<InventoryCache>(std::move(*source), std::move(readers), events_);
    log_->info("inventory served from memory, kept by kernel uevents (nd, dax, memory)");
  }

  NdctlPlatform(const NdctlPlatform&) = delete;
  NdctlPlatform& operator=(const NdctlPlatform&) = delete;

  std::string_view Kind() const override { return "ndctl"; }

  Result<Inventory> List() override { return cache_ ? cache_->List() : ReadAll(); }

  Result<NamespacePlan> PlanCreateNamespace(const NamespaceSpec& spec) override {
    MutexLock lock(ops_mu_);
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    return nsplan::PlanCreate(GatherFacts(ctx.get()), spec);
  }

  std::vector<Result<NamespacePlan>> PlanCreateSeries(const std::vector<std::string>& released,
                                                      const std::vector<NamespaceSpec>& specs) override {
    MutexLock lock(ops_mu_);
    Result<NdctlCtxPtr> ctx = NewNdctlCtx();
    if (!ctx.ok()) return std::vector<Result<NamespacePlan>>(specs.size(), ctx.status());
    return nsplan::PlanCreateSeries(GatherFacts(ctx->get()), released, specs);
  }

  Status CheckUnused(const std::string& dev, const std::string& op) override {
    MutexLock lock(ops_mu_);
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    ndctl_namespace* ndns = FindNamespaceObj(ctx.get(), dev);
    if (!ndns) return Status::Ok();  // unknown: the operation itself names it
    return CheckNamespaceUnused(ndns, op);
  }

  Result<Namespace> CreateNamespace(const NamespaceSpec& spec) override {
    MutexLock lock(ops_mu_);
    OwnChange own(cache_.get());
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    PMEMD_ASSIGN_OR_RETURN(NamespacePlan plan, nsplan::PlanCreate(GatherFacts(ctx.get()), spec));
    ndctl_region* region = FindRegionObj(ctx.get(), plan.region);
    ndctl_namespace* ndns = FindNamespaceObj(ctx.get(), plan.dev);
    if (!region || !ndns) return Status::Unavailable(plan.dev + " disappeared while planning; retry");
    unsigned char uu[16];
    if (!ParseUuid(plan.uuid, uu)) return Status::Internal("planned uuid " + plan.uuid + " is malformed");
    PMEMD_ASSIGN_OR_RETURN(ndns, ClearStaleUuid(ctx.get(), ndns, plan.dev));

    // From the first write on, a failure must leave no half-made namespace:
    // release any claim, force raw and give the size back (size 0 also drops
    // the uuid), as ndctl's autorecover does.
    struct Undo {
      ndctl_namespace* ndns;
      std::shared_ptr<spdlog::logger> log;
      bool armed = true;
      ~Undo() {
        if (!armed) return;
        // ndctl_namespace_delete() frees ndns (and its devname) when it
        // succeeds: name it before.
        const std::string dev = Str(ndctl_namespace_get_devname(ndns));
        ndctl_namespace_disable_invalidate(ndns);
        ndctl_namespace_set_enforce_mode(ndns, NDCTL_NS_MODE_RAW);
        if (int rc = ndctl_namespace_delete(ndns); rc < 0)
          log->error("{}: could not undo the failed create ({}); destroy-namespace {} -f removes it", dev,
                     Errno(rc), dev);
        else
          log->info("{}: undid the failed create; its extent is free again", dev);
      }
    } undo{ndns, log_};

    auto step = [&](const std::string& what, int rc) -> Status {
      if (rc >= 0) return Status::Ok();
      Code code = rc == -ENOSPC ? Code::kNoSpace : rc == -EBUSY ? Code::kBusy : Code::kIoError;
      return Status(code, "create " + plan.dev + ": setting its " + what + " failed (" + Errno(rc) +
                              "); the kernel log (dmesg) says why", -rc);
    };
    PMEMD_RETURN_IF_ERROR(UuidWriteStatus("create " + plan.dev, plan.uuid, ndctl_namespace_set_uuid(ndns, uu)));
    PMEMD_RETURN_IF_ERROR(step("name", ndctl_namespace_set_alt_name(ndns, plan.name.c_str())));
    PMEMD_RETURN_IF_ERROR(step("size", ndctl_namespace_set_size(ndns, plan.raw_size)));
    PMEMD_RETURN_IF_ERROR(SetNamespaceSectorSize(ndns, plan));
    PMEMD_RETURN_IF_ERROR(ApplyPersonality(region, ndns, plan, NewUuid()));
    undo.armed = false;

    PMEMD_ASSIGN_OR_RETURN(Namespace n, FreshNamespace(plan.dev));
    CheckAgainstPlan(plan, n);
    log_->info("{}: created {} in {} ({} bytes usable of {}, uuid {}) in {} ms", plan.dev, plan.mode, plan.region,
               n.size, n.raw_size, plan.uuid, MsSince(t0));
    Publish("namespace", plan.dev, "", plan.mode,
            {{"region", plan.region}, {"size", n.size}, {"uuid", plan.uuid}});
    return n;
  }

  Status DestroyNamespace(const std::string& dev, bool force) override {
    MutexLock lock(ops_mu_);
    OwnChange own(cache_.get());
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    Facts facts = GatherFacts(ctx.get());
    const NamespaceFacts* n = nsplan::FindNamespace(facts, dev);
    if (!n) return nsplan::UnknownNamespace(facts, dev);
    PMEMD_RETURN_IF_ERROR(nsplan::CheckNotInUse(*n, "destroy"));
    if (n->enabled && !force)
      return Status::FailedPrecondition(dev + " is enabled; disable it first, or pass force to disable and destroy it");
    ndctl_namespace* ndns = FindNamespaceObj(ctx.get(), dev);
    if (!ndns) return Status::Unavailable(dev + " disappeared; retry");
    std::string from = n->enabled ? n->mode : "disabled";
    PMEMD_RETURN_IF_ERROR(PrepareReconfig(ndns, "destroy", log_));
    if (n->label_less) {
      // A label-less namespace always spans its region: like ndctl, destroy
      // clears its personality and leaves it disabled.
      log_->info("{}: destroyed (label-less: cleared and left disabled; reconfigure-namespace brings it back) "
                 "in {} ms", dev, MsSince(t0));
      Publish("namespace", dev, from, "disabled", {{"label_less", true}});
      return Status::Ok();
    }
    if (int rc = ndctl_namespace_delete(ndns); rc < 0)
      return Status(Code::kIoError, "destroy " + dev + ": giving its extent back failed (" + Errno(rc) +
                                        "); it is disabled and raw now, retry destroy-namespace " + dev + " -f", -rc);
    log_->info("{}: destroyed ({} bytes in {} freed) in {} ms", dev, n->raw_size, n->region, MsSince(t0));
    Publish("namespace", dev, n->mode, "", {});
    return Status::Ok();
  }

  Status EnableNamespace(const std::string& dev) override { return SetEnabled(dev, true); }
  Status DisableNamespace(const std::string& dev) override { return SetEnabled(dev, false); }

  Result<NamespacePlan> PlanReconfigureNamespace(const std::string& dev, const NamespaceSpec& spec) override {
    MutexLock lock(ops_mu_);
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    return nsplan::PlanReconfigure(GatherFacts(ctx.get()), dev, spec);
  }

  Result<Namespace> ReconfigureNamespace(const std::string& dev, const NamespaceSpec& spec) override {
    MutexLock lock(ops_mu_);
    OwnChange own(cache_.get());
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    Facts facts = GatherFacts(ctx.get());
    PMEMD_ASSIGN_OR_RETURN(NamespacePlan plan, nsplan::PlanReconfigure(facts, dev, spec));
    const NamespaceFacts* n = nsplan::FindNamespace(facts, dev);
    std::string from = n->enabled ? n->mode : "disabled";
    bool label_less = n->label_less;
    ndctl_region* region = FindRegionObj(ctx.get(), plan.region);
    ndctl_namespace* ndns = FindNamespaceObj(ctx.get(), dev);
    if (!region || !ndns) return Status::Unavailable(dev + " disappeared while planning; retry");
    PMEMD_RETURN_IF_ERROR(PrepareReconfig(ndns, "reconfigure", log_));
    // From here the old contents are gone (the user said so); a failure
    // leaves the namespace disabled and raw, and a retry finishes the job.
    auto left = [&](const Status& s) {
      return s.Annotate("reconfigure " + dev + " (left disabled and raw; retry reconfigure-namespace to finish)");
    };
    if (!label_less) {
      unsigned char uu[16];
      if (!ParseUuid(plan.uuid, uu)) return Status::Internal("planned uuid " + plan.uuid + " is malformed");
      if (Status st = UuidWriteStatus("setting its uuid", plan.uuid, ndctl_namespace_set_uuid(ndns, uu)); !st.ok())
        return left(st);
      if (int rc = ndctl_namespace_set_alt_name(ndns, plan.name.c_str()); rc < 0)
        return left(Status(Code::kIoError, "setting its name failed (" + Errno(rc) + ")", -rc));
      if (Status s = SetNamespaceSectorSize(ndns, plan); !s.ok()) return left(s);
    }
    // A label-less namespace keeps no uuid of its own: the caller's goes
    // into the info block, where the journal can find it again.
    if (Status s = ApplyPersonality(region, ndns, plan, label_less ? plan.uuid : NewUuid()); !s.ok()) return left(s);
    PMEMD_ASSIGN_OR_RETURN(Namespace out, FreshNamespace(dev));
    CheckAgainstPlan(plan, out);
    log_->info("{}: reconfigured {} -> {} ({} bytes usable of {}) in {} ms", dev, from, plan.mode, out.size,
               out.raw_size, MsSince(t0));
    Publish("namespace", dev, from, plan.mode, {{"size", out.size}, {"uuid", plan.uuid}});
    return out;
  }

  Result<DaxDevice> ReconfigureDevice(const std::string& chardev, const std::string& mode, bool online,
                                      bool movable, const ProgressFn& progress) override {
    if (mode != "system-ram" && mode != "devdax")
      return Status::InvalidArgument("mode '" + mode + "' is unknown; use system-ram or devdax");
    MutexLock lock(ops_mu_);
    OwnChange own(cache_.get());
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    PMEMD_ASSIGN_OR_RETURN(daxctl_dev * dev, FindDax(ctx.get(), chardev));
    std::string current = daxctl_dev_get_memory(dev) ? "system-ram" : "devdax";
    if (current == mode) return FreshDax(chardev);  // already there: nothing to do
    KmemEnv env{options_.sysfs_root, events_, log_, progress};
    if (mode == "system-ram")
      PMEMD_RETURN_IF_ERROR(ToSystemRam(dev, chardev, online, movable, env, t0));
    else
      PMEMD_RETURN_IF_ERROR(ToDevdax(dev, chardev, env, t0));
    return FreshDax(chardev);
  }

  // Block walks take no platform-wide lock: they touch only their device's
  // blocks (the owner serializes changes per region) and each reads on a
  // fresh context, so a walk that takes its whole deadline holds up no other
  // region's change.
  Result<MemoryOpResult> OnlineMemory(const std::string& chardev, bool movable,
                                      const ProgressFn& progress) override {
    OwnChange own(cache_.get());
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, SystemRamBlocks(chardev));
    MemoryOpResult r =
        OnlineBlocks(chardev, blocks, movable, Writer(), Transition(chardev, movable), WalkReporting(progress));
    LogMemoryOp("online", r, t0);
    return r;
  }

  Result<MemoryOpResult> OfflineMemory(const std::string& chardev, const ProgressFn& progress) override {
    OwnChange own(cache_.get());
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, SystemRamBlocks(chardev));
    MemoryOpResult r =
        OfflineBlocks(chardev, blocks, Writer(), Transition(chardev, std::nullopt), WalkReporting(progress));
    LogMemoryOp("offline", r, t0);
    return r;
  }

  Result<DimmHealthMap> ReadDimmHealth() override {
    MutexLock lock(health_mu_);
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    return ReadHealth(ctx.get());
  }

  Status Refresh() override {
    if (cache_) cache_->Invalidate();
    return Status::Ok();
  }

  std::shared_ptr<HealthNotifier> OpenHealthNotifier() override {
    auto n = OpenNdctlHealthNotifier();
    if (n.ok()) return *n;
    log_->warn("{}; DIMM health is read on the interval only", n.status().message());
    return Platform::OpenHealthNotifier();
  }

 private:
  // A fresh walk of the kernel.
  Result<Inventory> ReadAll() {
    MutexLock lock(mu_);
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    PMEMD_ASSIGN_OR_RETURN(Inventory inv, TakeSnapshot(ctx.get(), options_.sysfs_root));
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
    log_->debug(
        "listed {} buses, {} dimms, {} regions, {} namespaces, {} dax devices, {} memory "
        "blocks in {} us",
        inv.buses.size(), inv.dimms.size(), inv.regions.size(), inv.namespaces.size(),
        inv.dax_devices.size(), inv.memory_blocks.size(), us);
    block_size_ = inv.memory_block_size;
    return inv;
  }

  // Brackets one of pmemd's own changes for the cache (nothing without one).
  struct OwnChange {
    explicit OwnChange(InventoryCache* c) : cache(c) {
      if (cache) cache->BeginOwnChange();
    }
    ~OwnChange() {
      if (cache) cache->EndOwnChange();
    }
    OwnChange(const OwnChange&) = delete;
    OwnChange& operator=(const OwnChange&) = delete;
    InventoryCache* cache;
  };

  Status SetEnabled(const std::string& dev, bool enable) {
    MutexLock lock(ops_mu_);
    OwnChange own(cache_.get());
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    Facts facts = GatherFacts(ctx.get());
    const NamespaceFacts* n = nsplan::FindNamespace(facts, dev);
    if (!n) return nsplan::UnknownNamespace(facts, dev);
    if (n->enabled == enable) return Status::Ok();
    ndctl_namespace* ndns = FindNamespaceObj(ctx.get(), dev);
    if (!ndns) return Status::Unavailable(dev + " disappeared; retry");
    if (enable) {
      // Enabling the namespace lets the kernel find its info block and
      // bring back its pfn/dax/btt personality.
      if (int rc = ndctl_namespace_enable(ndns); rc < 0)
        return Status(Code::kIoError, "enable " + dev + ": " + Errno(rc) + "; the kernel log (dmesg) says why", -rc);
    } else {
      PMEMD_RETURN_IF_ERROR(nsplan::CheckNotInUse(*n, "disable"));
      PMEMD_RETURN_IF_ERROR(DisableAndRelease(ndns, "disable"));
    }
    log_->info("{}: {} in {} ms", dev, enable ? "enabled" : "disabled", MsSince(t0));
    Publish("namespace", dev, enable ? "disabled" : "enabled", enable ? "enabled" : "disabled", {});
    return Status::Ok();
  }

  Result<daxctl_dev*> FindDax(ndctl_ctx* ctx, const std::string& chardev) {
    std::string known;
    daxctl_dev* dev = FindDaxObj(ctx, chardev, &known);
    if (!dev)
      return Status::NotFound("dax device '" + chardev + "' does not exist; known dax devices: " +
                              (known.empty() ? "none" : known));
    return dev;
  }

  Result<std::vector<MemoryBlock>> SystemRamBlocks(const std::string& chardev) {
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    PMEMD_ASSIGN_OR_RETURN(daxctl_dev * dev, FindDax(ctx.get(), chardev));
    if (!daxctl_dev_get_memory(dev))
      return Status::FailedPrecondition(chardev + " is in devdax mode; reconfigure-device " + chardev +
                                        " --mode system-ram first");
    return DaxBlocks(dev, options_.sysfs_root, nullptr, nullptr);
  }

  BlockStateWriter Writer() const { return sysfs::SysfsBlockWriter(sysfs::MemoryDir(options_.sysfs_root)); }

  // Events for block transitions, with the emulated platform's details.
  BlockTransitionFn Transition(const std::string& chardev, std::optional<bool> movable) {
    return PublishBlockTransitions(events_, chardev, movable);
  }

  void LogMemoryOp(const char* op, const MemoryOpResult& r, std::chrono::steady_clock::time_point t0) {
    size_t changed = 0;
    std::string failed;
    for (const auto& b : r.blocks) {
      changed += b.from != b.to;
      if (!b.status.ok()) failed = b.status.message();
    }
    if (r.rolled_back)
      log_->warn("{}: {}-memory failed and was rolled back ({}) in {} ms", r.chardev, op, failed, MsSince(t0));
    else
      log_->info("{}: {}-memory: {} of {} blocks changed in {} ms", r.chardev, op, changed, r.blocks.size(),
                 MsSince(t0));
  }

  Result<Namespace> FreshNamespace(const std::string& dev) {
    PMEMD_ASSIGN_OR_RETURN(Inventory inv, ReadAll());
    for (auto& n : inv.namespaces)
      if (n.dev == dev) return std::move(n);
    return Status::Internal(dev + " was configured but the kernel does not list it; see the kernel log (dmesg)");
  }

  Result<DaxDevice> FreshDax(const std::string& chardev) {
    PMEMD_ASSIGN_OR_RETURN(Inventory inv, ReadAll());
    for (auto& d : inv.dax_devices)
      if (d.chardev == chardev) return std::move(d);
    return Status::Internal(chardev + " is not listed after the change; see the kernel log (dmesg)");
  }

  // The plan promised exact numbers; say so loudly if the kernel disagrees.
  void CheckAgainstPlan(const NamespacePlan& plan, const Namespace& n) {
    if (n.raw_size != plan.raw_size || n.size != plan.size || !n.enabled)
      log_->warn("{}: the kernel made {} bytes ({} usable, {}) where the plan said {} ({} usable)", plan.dev,
                 n.raw_size, n.size, n.enabled ? "enabled" : "disabled", plan.raw_size, plan.size);
  }

  void Publish(const std::string& kind, const std::string& object, const std::string& from, const std::string& to,
               nlohmann::json detail) {
    nd::Publish(events_, kind, object, from, to, std::move(detail));
  }

  const NdctlPlatformOptions options_;
  EventBus* const events_;  // borrowed (NewNdctlPlatform), may be null
  std::shared_ptr<spdlog::logger> log_;
  // Serializes walks: libndctl contexts are single-threaded and DIMM
  // firmware commands should not be issued concurrently.
  Mutex mu_;
  // Serializes SMART reads (each on a fresh context), apart from mu_ so
  // that a slow firmware command never holds up a walk.
  Mutex health_mu_;
  // Serializes changes (and their plans), each on its own fresh context;
  // List() is not held up by a change, only sees it before or after a step.
  Mutex ops_mu_;
  std::atomic<uint64_t> block_size_{0};  // the last walk's block_size_bytes
  // The model List() answers from; null when uevents cannot be had (then
  // every List() walks the kernel). Declared last: its watcher calls ReadAll.
  std::unique_ptr<InventoryCache> cache_;
};

}  // namespace

Result<std::unique_ptr<Platform>> NewNdctlPlatform(const NdctlPlatformOptions& options,
                                                   EventBus* events) {
  const std::string nd_bus = options.sysfs_root + "/bus/nd";
  std::error_code ec;
  if (!std::filesystem::is_directory(nd_bus, ec)) {
    return Status::Unavailable(
        nd_bus + " does not exist: the kernel's libnvdimm subsystem is not loaded, so there is "
                 "no pmem to manage; load the driver for your pmem ('modprobe nfit' for ACPI "
                 "NVDIMMs, 'modprobe nd_e820' for memmap=nn!ss legacy pmem) or use the emulated "
                 "platform");
  }
  // Fail now, not at the first List(), when the library cannot work here.
  PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr probe, NewNdctlCtx());
  probe.reset();
  GetLogger("platform")->info("ndctl platform ready (sysfs at {})", options.sysfs_root);
  return std::unique_ptr<Platform>(std::make_unique<NdctlPlatform>(options, events));
}

}  // namespace pmemd
