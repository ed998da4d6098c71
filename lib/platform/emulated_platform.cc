#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "platform/emulated_layout.h"
#include "platform/memory_blocks.h"
#include "platform/namespace_plan.h"
#include "platform/namespace_rules.h"
#include "pmemd/events.h"
#include "pmemd/health.h"
#include "pmemd/mutex.h"
#include "pmemd/uuid.h"

// The emulated platform's operations (emulated_layout.h says which file
// holds what): one lock over the label store, the injected bad ranges and
// block faults; each change replaces the label store and publishes its
// events.

namespace pmemd {

namespace emulated {
namespace {

std::string Join(const std::vector<uint64_t>& ids) {
  std::string s;
  for (uint64_t id : ids) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s;
}

class EmulatedPlatformImpl final : public EmulatedPlatform {
 public:
  EmulatedPlatformImpl(Layout layout, LabelStore labels, InjectedState injected, EventBus* events)
      : layout_(std::move(layout)), labels_(std::move(labels)), badblocks_path_(std::move(injected.badblocks_path)),
        badblocks_(std::move(injected.badblocks)), health_path_(std::move(injected.health_path)),
        health_(std::move(injected.health)), events_(events) {}

  std::string_view Kind() const override { return "emulated"; }

  Result<Inventory> List() override {
    MutexLock lock(mu_);
    return layout_.List(labels_.labels(), badblocks_);
  }

  Result<NamespacePlan> PlanCreateNamespace(const NamespaceSpec& spec) override {
    MutexLock lock(mu_);
    return PlanCreate(spec);
  }

  std::vector<Result<NamespacePlan>> PlanCreateSeries(const std::vector<std::string>& released,
                                                      const std::vector<NamespaceSpec>& specs) override {
    MutexLock lock(mu_);
    return nsplan::PlanCreateSeries(layout_.GatherFacts(labels_.labels()), released, specs);
  }

  Result<Namespace> CreateNamespace(const NamespaceSpec& spec) override {
    MutexLock lock(mu_);
    PMEMD_ASSIGN_OR_RETURN(NamespacePlan plan, PlanCreate(spec));
    Label l;
    l.uuid = plan.uuid;
    l.info_uuid = plan.mode == "raw" ? "" : NewUuid();  // the pfn/dax/btt's own, as the kernel's
    l.name = plan.name;
    l.region = plan.region;
    l.id = static_cast<uint32_t>(std::stoul(plan.dev.substr(plan.dev.find('.') + 1)));
    l.mode = plan.mode;
    l.map = plan.map;
    l.offset = plan.offset;
    l.raw_size = plan.raw_size;
    l.align = plan.align;
    l.sector_size = plan.sector_size;
    auto labels = labels_.labels();
    labels.push_back(l);
    PMEMD_RETURN_IF_ERROR(labels_.Replace(std::move(labels)));
    Publish("namespace", plan.dev, "", l.mode, {{"region", l.region}, {"size", plan.size}, {"uuid", l.uuid}});
    return FindNamespaceLocked(plan.dev);
  }

  Status DestroyNamespace(const std::string& dev, bool force) override {
    MutexLock lock(mu_);
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindLabel(dev));
    const RegionState* rs = layout_.FindRegion(l->region);
    if (!rs->config.labels)
      return Status::Unsupported(dev + " is in " + l->region + ", which has no labels (memmap= or a label-less "
                                 "NVDIMM): its one namespace always covers the whole region; use "
                                 "reconfigure-namespace to change its mode");
    PMEMD_RETURN_IF_ERROR(nsplan::CheckNotInUse(layout_.FactsOf(*l), "destroy"));
    if (l->enabled && !force)
      return Status::FailedPrecondition(dev + " is enabled; disable it first, or pass force to disable and destroy it");
    std::vector<Label> labels;
    for (const Label& x : labels_.labels())
      if (NamespaceDev(x) != dev) labels.push_back(x);
    std::string mode = l->mode;
    PMEMD_RETURN_IF_ERROR(labels_.Replace(std::move(labels)));
    Publish("namespace", dev, mode, "", {});
    return Status::Ok();
  }

  Status EnableNamespace(const std::string& dev) override { return SetEnabled(dev, true); }
  Status DisableNamespace(const std::string& dev) override { return SetEnabled(dev, false); }

  Result<NamespacePlan> PlanReconfigureNamespace(const std::string& dev, const NamespaceSpec& spec) override {
    MutexLock lock(mu_);
    return PlanReconfigure(dev, spec);
  }

  Result<Namespace> ReconfigureNamespace(const std::string& dev, const NamespaceSpec& spec) override {
    MutexLock lock(mu_);
    PMEMD_ASSIGN_OR_RETURN(NamespacePlan plan, PlanReconfigure(dev, spec));
    auto labels = labels_.labels();
    std::string from;
    for (Label& l : labels) {
      if (NamespaceDev(l) != dev) continue;
      from = l.mode;
      l.mode = plan.mode;
      l.map = plan.map;
      l.align = plan.align;
      l.sector_size = plan.sector_size;
      if (layout_.FindRegion(l.region)->config.labels) {
        l.uuid = plan.uuid;
        l.info_uuid = plan.mode == "raw" ? "" : NewUuid();
      } else {
        // No label to hold a uuid: the caller's goes into the info block.
        l.uuid = plan.uuid;
        l.info_uuid.clear();
      }
      l.name = plan.name;
      l.enabled = true;
      l.daxmode = "devdax";
      l.online_blocks.clear();
    }
    PMEMD_RETURN_IF_ERROR(labels_.Replace(std::move(labels)));
    Publish("namespace", dev, from, plan.mode, {{"size", plan.size}, {"uuid", plan.uuid}});
    return FindNamespaceLocked(dev);
  }

  Result<DaxDevice> ReconfigureDevice(const std::string& chardev, const std::string& mode, bool online,
                                      bool movable, const ProgressFn& progress) override {
    MutexLock lock(mu_);
    if (mode != "system-ram" && mode != "devdax")
      return Status::InvalidArgument("mode '" + mode + "' is unknown; use system-ram or devdax");
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindDax(chardev));
    if (l->daxmode == mode) return FindDaxLocked(chardev);  // already there: nothing to do
    auto labels = labels_.labels();
    Label* m = &*std::find_if(labels.begin(), labels.end(), [&](const Label& x) { return x == *l; });
    if (mode == "system-ram") {
      std::vector<uint64_t> blocks = layout_.BlocksOf(*l);
      if (blocks.empty())
        return Status::FailedPrecondition(chardev + " holds no whole, aligned memory block of " +
                                          std::to_string(layout_.config().memory_block_size) +
                                          " bytes; create a devdax namespace of at least 1 GiB");
      m->daxmode = "system-ram";
      m->movable = movable;
      if (online) m->online_blocks = blocks;
      PMEMD_RETURN_IF_ERROR(labels_.Replace(labels));
      Publish("dax_device", chardev, "devdax", "system-ram", {{"blocks", blocks.size()}});
      // The emulated kernel onlines every block at once with the label; the
      // blocks are reported as the real walk reports them.
      if (online) ReportProgress(progress, "online", 0, blocks.size(), "blocks");
      for (size_t i = 0; i < blocks.size(); ++i) {
        Publish("memory_block", "memory" + std::to_string(blocks[i]), "", online ? "online" : "offline",
                {{"dax_device", chardev}, {"movable", movable}});
        if (online) ReportProgress(progress, "online", i + 1, blocks.size(), "blocks");
      }
    } else {
      if (!l->online_blocks.empty())
        return Status::Busy(chardev + " has online memory blocks (" + Join(l->online_blocks) +
                            "); run offline-memory " + chardev + " first");
      std::vector<uint64_t> blocks = layout_.BlocksOf(*l);
      m->daxmode = "devdax";
      m->online_blocks.clear();
      PMEMD_RETURN_IF_ERROR(labels_.Replace(labels));
      for (uint64_t b : blocks) Publish("memory_block", "memory" + std::to_string(b), "offline", "", {});
      Publish("dax_device", chardev, "system-ram", "devdax", {});
    }
    return FindDaxLocked(chardev);
  }

  // The walker (memory_blocks.h) over this platform's block writer. mu_ is
  // held only while the blocks are read and while each one's state is
  // written, so a slow walk holds up no read and no other region.
  Result<MemoryOpResult> OnlineMemory(const std::string& chardev, bool movable,
                                      const ProgressFn& progress) override {
    PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, SystemRamBlocks(chardev));
    return OnlineBlocks(chardev, blocks, movable, Writer(), PublishBlockTransitions(events_, chardev, movable),
                        WalkReporting(progress));
  }

  Result<MemoryOpResult> OfflineMemory(const std::string& chardev, const ProgressFn& progress) override {
    PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, SystemRamBlocks(chardev));
    return OfflineBlocks(chardev, blocks, Writer(), PublishBlockTransitions(events_, chardev, std::nullopt),
                         WalkReporting(progress));
  }

  Result<DaxBacking> GetDaxBacking(const std::string& chardev) override {
    MutexLock lock(mu_);
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindDax(chardev));
    if (l->daxmode != "devdax")
      return Status::Busy(chardev + " is system-ram; reconfigure-device " + chardev + " --mode devdax first");
    const RegionState* rs = layout_.FindRegion(l->region);
    uint64_t size = UsableSize(SpecOf(*l), l->raw_size);
    return DaxBacking{rs->file, l->offset + (l->raw_size - size), size, l->align, false};
  }

  Status InjectBusyBlock(uint64_t block, uint32_t attempts) override {
    MutexLock lock(mu_);
    if (attempts == 0)
      busy_blocks_.erase(block);
    else
      busy_blocks_[block] = attempts;
    return Status::Ok();
  }

  Status InjectStuckBlock(uint64_t block, bool stuck) override {
    {
      MutexLock lock(mu_);
      if (stuck)
        stuck_blocks_.insert(block);
      else
        stuck_blocks_.erase(block);
    }
    unstuck_.NotifyAll();
    return Status::Ok();
  }

  Status InjectBadblocks(const std::string& region, uint64_t offset, uint64_t length, bool clear) override {
    MutexLock lock(mu_);
    const RegionState* rs = layout_.FindRegion(region);
    if (!rs) return Status::NotFound("region '" + region + "' does not exist");
    if (offset % kSector || length % kSector || length == 0)
      return Status::InvalidArgument("badblock offset and length must be non-zero multiples of 512 bytes");
    // offset + length may wrap around 2^64: compare without adding.
    if (offset > rs->config.size || length > rs->config.size - offset)
      return Status::InvalidArgument("badblock range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                                     ") ends past the end of " + region + " (" + std::to_string(rs->config.size) +
                                     " bytes); give offset + length within the region");
    auto all = badblocks_;
    auto& v = all[rs->dev];
    BadRange r{offset / kSector, length / kSector};
    if (clear)
      std::erase(v, r);
    else if (std::find(v.begin(), v.end(), r) == v.end())
      v.push_back(r);
    PMEMD_RETURN_IF_ERROR(SaveBadblocks(badblocks_path_, all));
    badblocks_ = std::move(all);
    return Status::Ok();
  }

  Result<DimmHealth> InjectHealth(const std::string& dimm, bool clear,
                                  const std::function<Status(DimmHealth*)>& edit) override {
    DimmHealth h;
    {
      MutexLock lock(mu_);
      const RegionState* rs = RegionOfDimm(dimm);
      if (!rs) {
        std::string known;
        for (const RegionState& r : layout_.regions()) known += (known.empty() ? "" : ", ") + r.dimm;
        return Status::NotFound("DIMM '" + dimm + "' does not exist; known DIMMs: " + known);
      }
      if (!rs->config.labels)
        return Status::Unsupported(dimm + " is the DIMM of label-less " + rs->dev +
                                   ", which models a DIMM without SMART (as QEMU's NVDIMM): it has no health to set");
      auto it = health_.find(dimm);
      h = clear || it == health_.end() ? DefaultHealth() : it->second;
      PMEMD_RETURN_IF_ERROR(edit(&h));
      PMEMD_RETURN_IF_ERROR(ValidateDimmHealth(h));
      SetFirmwareAlarms(&h);
      HealthModel all = health_;
      all[dimm] = h;
      PMEMD_RETURN_IF_ERROR(SaveHealth(health_path_, all));
      health_ = std::move(all);
    }
    NotifyHealth();
    return h;
  }

  Result<DimmHealthMap> ReadDimmHealth() override {
    MutexLock lock(mu_);
    DimmHealthMap m;
    for (const RegionState& rs : layout_.regions()) {
      if (!rs.config.labels) {
        m[rs.dimm] = std::nullopt;
        continue;
      }
      auto it = health_.find(rs.dimm);
      DimmHealth h = it == health_.end() ? DefaultHealth() : it->second;
      SetFirmwareAlarms(&h);
      m[rs.dimm] = h;
    }
    return m;
  }

  std::shared_ptr<HealthNotifier> OpenHealthNotifier() override {
    auto n = std::make_shared<ManualHealthNotifier>();
    MutexLock lock(notifiers_mu_);
    notifiers_.push_back(n);
    return n;
  }

 private:
  const RegionState* RegionOfDimm(const std::string& dimm) const {
    for (const RegionState& r : layout_.regions())
      if (r.dimm == dimm) return &r;
    return nullptr;
  }

  // The kernel's health event: wakes every monitor still listening.
  void NotifyHealth() EXCLUDES(notifiers_mu_) {
    MutexLock lock(notifiers_mu_);
    std::erase_if(notifiers_, [](const std::weak_ptr<ManualHealthNotifier>& w) { return w.expired(); });
    for (const auto& w : notifiers_)
      if (auto n = w.lock()) n->Notify();
  }

  // The emulated kernel's side of one block write. An injected busy block
  // refuses an offline with EBUSY (has_unmovable_pages()); a stuck one keeps
  // the writer waiting, as offline_pages() keeps migrating pinned pages,
  // until the deadline stops it (the kernel's EINTR: the block stays online)
  // or the injection is cleared. The wait does not hold mu_.
  Status WriteBlock(const BlockWrite& w) {
    MutexLock lock(mu_);
    if (w.to == KmemState::kOffline) {
      while (stuck_blocks_.count(w.id))
        if (!unstuck_.WaitUntil(mu_, w.deadline) && stuck_blocks_.count(w.id))
          return Status(Code::kBusy,
                      "offline of memory block " + std::to_string(w.id) +
                          " was stopped at its deadline while migrating pages that stay pinned (EINTR)",
                      EINTR);
      if (auto it = busy_blocks_.find(w.id); it != busy_blocks_.end()) {
        if (it->second != std::numeric_limits<uint32_t>::max() && --it->second == 0) busy_blocks_.erase(it);
        return Status(Code::kBusy, "write 'offline' to memory" + std::to_string(w.id) + "/state: Device or resource busy",
                      EBUSY);
      }
    }
    auto labels = labels_.labels();
    for (Label& x : labels) {
      if (x.mode != "devdax" || !x.enabled || x.daxmode != "system-ram") continue;
      std::vector<uint64_t> all = layout_.BlocksOf(x);
      if (std::find(all.begin(), all.end(), w.id) == all.end()) continue;
      std::set<uint64_t> online(x.online_blocks.begin(), x.online_blocks.end());
      if (w.to == KmemState::kOnline) {
        online.insert(w.id);
        x.movable = w.movable;
      } else {
        online.erase(w.id);
      }
      x.online_blocks.assign(online.begin(), online.end());
      return labels_.Replace(std::move(labels));
    }
    return Status::NotFound("memory block " + std::to_string(w.id) + " belongs to no system-ram dax device");
  }

  BlockStateWriter Writer() {
    return [this](const BlockWrite& w) { return WriteBlock(w); };
  }

  Result<std::vector<MemoryBlock>> SystemRamBlocks(const std::string& chardev) {
    MutexLock lock(mu_);
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindSystemRam(chardev));
    return layout_.MemoryBlocksOf(*l, *layout_.FindRegion(l->region));
  }

  Status SetEnabled(const std::string& dev, bool enabled) {
    MutexLock lock(mu_);
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindLabel(dev));
    if (l->enabled == enabled) return Status::Ok();
    if (!enabled) PMEMD_RETURN_IF_ERROR(nsplan::CheckNotInUse(layout_.FactsOf(*l), "disable"));
    auto labels = labels_.labels();
    for (Label& x : labels)
      if (NamespaceDev(x) == dev) x.enabled = enabled;
    PMEMD_RETURN_IF_ERROR(labels_.Replace(std::move(labels)));
    Publish("namespace", dev, enabled ? "disabled" : "enabled", enabled ? "enabled" : "disabled", {});
    return Status::Ok();
  }

  Result<NamespacePlan> PlanCreate(const NamespaceSpec& spec) const REQUIRES(mu_) {
    return nsplan::PlanCreate(layout_.GatherFacts(labels_.labels()), spec);
  }

  Result<NamespacePlan> PlanReconfigure(const std::string& dev, const NamespaceSpec& spec) const REQUIRES(mu_) {
    return nsplan::PlanReconfigure(layout_.GatherFacts(labels_.labels()), dev, spec);
  }

  Result<const Label*> FindLabel(const std::string& dev) const REQUIRES(mu_) {
    for (const Label& l : labels_.labels())
      if (NamespaceDev(l) == dev) return &l;
    std::string known;
    for (const Label& l : labels_.labels()) known += (known.empty() ? "" : ", ") + NamespaceDev(l);
    return Status::NotFound("namespace '" + dev + "' does not exist; known namespaces: " +
                            (known.empty() ? "none" : known));
  }

  Result<const Label*> FindDax(const std::string& chardev) const REQUIRES(mu_) {
    for (const Label& l : labels_.labels())
      if (l.mode == "devdax" && DaxDev(l) == chardev) {
        if (!l.enabled) return Status::FailedPrecondition(chardev + "'s namespace " + NamespaceDev(l) + " is disabled; enable-namespace it first");
        return &l;
      }
    std::string known;
    for (const Label& l : labels_.labels())
      if (l.mode == "devdax") known += (known.empty() ? "" : ", ") + DaxDev(l);
    return Status::NotFound("dax device '" + chardev + "' does not exist; known dax devices: " +
                            (known.empty() ? "none" : known));
  }

  Result<const Label*> FindSystemRam(const std::string& chardev) const REQUIRES(mu_) {
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindDax(chardev));
    if (l->daxmode != "system-ram")
      return Status::FailedPrecondition(chardev + " is in devdax mode; reconfigure-device " + chardev +
                                        " --mode system-ram first");
    return l;
  }

  Result<Namespace> FindNamespaceLocked(const std::string& dev) const REQUIRES(mu_) {
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindLabel(dev));
    return layout_.ToNamespace(*l, *layout_.FindRegion(l->region), badblocks_);
  }

  Result<DaxDevice> FindDaxLocked(const std::string& chardev) const REQUIRES(mu_) {
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindDax(chardev));
    return layout_.ToDax(*l, *layout_.FindRegion(l->region));
  }

  void Publish(const std::string& kind, const std::string& object, const std::string& from, const std::string& to,
               nlohmann::json detail) {
    if (!events_) return;
    events_->Publish({.kind = kind, .object = object, .from = from, .to = to, .detail = std::move(detail)});
  }

  mutable Mutex mu_;
  const Layout layout_;
  LabelStore labels_ GUARDED_BY(mu_);
  const std::string badblocks_path_;
  Badblocks badblocks_ GUARDED_BY(mu_);  // in sectors
  const std::string health_path_;
  HealthModel health_ GUARDED_BY(mu_);
  Mutex notifiers_mu_;
  std::vector<std::weak_ptr<ManualHealthNotifier>> notifiers_ GUARDED_BY(notifiers_mu_);
  std::map<uint64_t, uint32_t> busy_blocks_ GUARDED_BY(mu_);
  std::set<uint64_t> stuck_blocks_ GUARDED_BY(mu_);
  CondVar unstuck_;  // stuck_blocks_ shrank
  EventBus* const events_;  // borrowed, may be null (NewEmulatedPlatform)
};

}  // namespace

std::unique_ptr<EmulatedPlatform> MakeEmulatedPlatform(Layout layout, LabelStore labels, InjectedState injected,
                                                       EventBus* events) {
  return std::make_unique<EmulatedPlatformImpl>(std::move(layout), std::move(labels), std::move(injected), events);
}

}  // namespace emulated
}  // namespace pmemd
