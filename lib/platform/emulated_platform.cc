#include "pmemd/emulated_platform.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "platform/label_store.h"
#include "platform/memory_blocks.h"
#include "platform/namespace_plan.h"
#include "platform/namespace_rules.h"
#include "pmemd/events.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/log.h"
#include "pmemd/mutex.h"

namespace pmemd {

namespace {

// Where emulated regions sit in the (pretend) physical address space: above
// 4 GiB, each region starting on a 1 GiB boundary, so memory block ids and
// 1 GiB alignment behave as they would on a real machine.
constexpr uint64_t kPhysBase = 4ull << 30;
constexpr uint64_t kSector = 512;

struct RegionState {
  EmulatedRegionConfig config;
  std::string dev;   // "regionN"
  std::string dimm;  // "nmemN"
  std::string file;
  uint64_t phys_start = 0;
  std::string number;  // "N"
};

std::shared_ptr<spdlog::logger> Log() {
  static auto log = GetLogger("platform");
  return log;
}

std::string NamespaceDev(const Label& l) { return "namespace" + l.region.substr(6) + "." + std::to_string(l.id); }
std::string DaxDev(const Label& l) { return "dax" + l.region.substr(6) + "." + std::to_string(l.id); }

std::string BlockDev(const Label& l) {
  std::string s = "pmem" + l.region.substr(6) + (l.id ? "." + std::to_string(l.id) : "");
  return l.mode == "sector" ? s + "s" : s;
}

NamespaceSpec SpecOf(const Label& l) {
  NamespaceSpec s;
  s.region = l.region;
  s.mode = l.mode;
  if (!l.map.empty()) s.map = l.map;
  if (l.align) s.align = l.align;
  if (l.sector_size) s.sector_size = l.sector_size;
  s.name = l.name;
  s.uuid = l.uuid;
  return s;
}

std::string Join(const std::vector<uint64_t>& ids) {
  std::string s;
  for (uint64_t id : ids) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s;
}

class EmulatedPlatformImpl final : public EmulatedPlatform {
 public:
  EmulatedPlatformImpl(EmulatedConfig config, std::vector<RegionState> regions, LabelStore labels,
                       std::string badblocks_path, std::map<std::string, std::vector<BadRange>> badblocks,
                       EventBus* events)
      : config_(std::move(config)), regions_(std::move(regions)), labels_(std::move(labels)),
        badblocks_path_(std::move(badblocks_path)), badblocks_(std::move(badblocks)), events_(events) {}

  std::string_view Kind() const override { return "emulated"; }

  Result<Inventory> List() override {
    MutexLock lock(mu_);
    return ListLocked();
  }

  Result<NamespacePlan> PlanCreateNamespace(const NamespaceSpec& spec) override {
    MutexLock lock(mu_);
    return PlanCreate(spec);
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
    const RegionState* rs = FindRegion(l->region);
    if (!rs->config.labels)
      return Status::Unsupported(dev + " is in " + l->region + ", which has no labels (memmap= or a label-less "
                                 "NVDIMM): its one namespace always covers the whole region; use "
                                 "reconfigure-namespace to change its mode");
    PMEMD_RETURN_IF_ERROR(nsplan::CheckNotInUse(FactsOf(*l), "destroy"));
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
      if (FindRegion(l.region)->config.labels) {
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
                                      bool movable) override {
    MutexLock lock(mu_);
    if (mode != "system-ram" && mode != "devdax")
      return Status::InvalidArgument("mode '" + mode + "' is unknown; use system-ram or devdax");
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindDax(chardev));
    if (l->daxmode == mode) return FindDaxLocked(chardev);  // already there: nothing to do
    auto labels = labels_.labels();
    Label* m = &*std::find_if(labels.begin(), labels.end(), [&](const Label& x) { return x == *l; });
    if (mode == "system-ram") {
      std::vector<uint64_t> blocks = BlocksOf(*l);
      if (blocks.empty())
        return Status::FailedPrecondition(chardev + " holds no whole, aligned memory block of " +
                                          std::to_string(config_.memory_block_size) +
                                          " bytes; create a devdax namespace of at least 1 GiB");
      m->daxmode = "system-ram";
      m->movable = movable;
      if (online) m->online_blocks = blocks;
      PMEMD_RETURN_IF_ERROR(labels_.Replace(labels));
      Publish("dax_device", chardev, "devdax", "system-ram", {{"blocks", blocks.size()}});
      for (uint64_t b : blocks)
        Publish("memory_block", "memory" + std::to_string(b), "", online ? "online" : "offline",
                {{"dax_device", chardev}, {"movable", movable}});
    } else {
      if (!l->online_blocks.empty())
        return Status::Busy(chardev + " has online memory blocks (" + Join(l->online_blocks) +
                            "); run offline-memory " + chardev + " first");
      std::vector<uint64_t> blocks = BlocksOf(*l);
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
  Result<MemoryOpResult> OnlineMemory(const std::string& chardev, bool movable) override {
    PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, SystemRamBlocks(chardev));
    return OnlineBlocks(chardev, blocks, movable, Writer(), PublishBlockTransitions(events_, chardev, movable));
  }

  Result<MemoryOpResult> OfflineMemory(const std::string& chardev) override {
    PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, SystemRamBlocks(chardev));
    return OfflineBlocks(chardev, blocks, Writer(), PublishBlockTransitions(events_, chardev, std::nullopt));
  }

  Result<DaxBacking> GetDaxBacking(const std::string& chardev) override {
    MutexLock lock(mu_);
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindDax(chardev));
    if (l->daxmode != "devdax")
      return Status::Busy(chardev + " is system-ram; reconfigure-device " + chardev + " --mode devdax first");
    const RegionState* rs = FindRegion(l->region);
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
    const RegionState* rs = FindRegion(region);
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
    PMEMD_RETURN_IF_ERROR(SaveBadblocks(all));
    badblocks_ = std::move(all);
    return Status::Ok();
  }

 private:
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
      std::vector<uint64_t> all = BlocksOf(x);
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

  // A system-ram device's blocks as sysfs would show them, sorted by id.
  std::vector<MemoryBlock> MemoryBlocksOf(const Label& l, const RegionState& rs) const {
    std::set<uint64_t> online(l.online_blocks.begin(), l.online_blocks.end());
    std::vector<MemoryBlock> v;
    for (uint64_t b : BlocksOf(l)) {
      MemoryBlock m;
      m.id = b;
      m.phys_index = b;
      m.start = b * config_.memory_block_size;
      m.size = config_.memory_block_size;
      bool on = online.count(b);
      m.state = KmemStateName(on ? KmemState::kOnline : KmemState::kOffline);
      m.zone = on ? (l.movable ? "Movable" : "Normal") : "";
      m.valid_zones = on ? m.zone : "Normal Movable";
      m.node = rs.config.numa_node.value_or(0);
      m.dax_device = DaxDev(l);
      m.removable = !on || l.movable;
      v.push_back(std::move(m));
    }
    return v;
  }

  Result<std::vector<MemoryBlock>> SystemRamBlocks(const std::string& chardev) {
    MutexLock lock(mu_);
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindSystemRam(chardev));
    return MemoryBlocksOf(*l, *FindRegion(l->region));
  }

  Status SetEnabled(const std::string& dev, bool enabled) {
    MutexLock lock(mu_);
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindLabel(dev));
    if (l->enabled == enabled) return Status::Ok();
    if (!enabled) PMEMD_RETURN_IF_ERROR(nsplan::CheckNotInUse(FactsOf(*l), "disable"));
    auto labels = labels_.labels();
    for (Label& x : labels)
      if (NamespaceDev(x) == dev) x.enabled = enabled;
    PMEMD_RETURN_IF_ERROR(labels_.Replace(std::move(labels)));
    Publish("namespace", dev, enabled ? "disabled" : "enabled", enabled ? "enabled" : "disabled", {});
    return Status::Ok();
  }

  // The planner's facts, gathered from the labels: everything else (sizes,
  // first fit, alignment, uuids, label slots, in-use) is the shared planner's.
  nsplan::Facts GatherFacts() const REQUIRES(mu_) {
    nsplan::Facts f;
    for (const RegionState& rs : regions_) {
      nsplan::RegionFacts r;
      r.dev = rs.dev;
      r.number = rs.number;
      r.phys_start = rs.phys_start;
      r.size = rs.config.size;
      r.align = kEmulatedRegionAlign;
      r.labels = rs.config.labels;
      uint64_t used = 0;
      for (const Label& l : labels_.labels())
        if (l.region == rs.dev) {
          ++used;
          r.used.emplace_back(l.offset, l.raw_size);
        }
      if (rs.config.labels) {
        r.free_label_slots = used >= config_.label_slots ? 0 : config_.label_slots - used;
        r.full_dimm = rs.dimm;
        r.seed = "namespace" + rs.number + "." + std::to_string(FreeId(rs.dev));
      } else {
        r.io_namespace = "namespace" + rs.number + ".0";
      }
      nsplan::RegionSpace space = nsplan::ComputeRegionSpace(r);
      r.available_size = space.available_size;
      r.max_available_extent = space.max_available_extent;
      f.regions.push_back(std::move(r));
    }
    for (const Label& l : labels_.labels()) f.namespaces.push_back(FactsOf(l));
    return f;
  }

  nsplan::NamespaceFacts FactsOf(const Label& l) const {
    nsplan::NamespaceFacts n;
    n.dev = NamespaceDev(l);
    n.region = l.region;
    n.mode = l.mode;
    n.raw_size = l.raw_size;
    n.offset = l.offset;
    n.label_less = !FindRegion(l.region)->config.labels;
    // Label-less: no label uuid; the info block holds the caller's.
    if (!n.label_less) n.raw_uuid = l.uuid;
    n.uuid = !n.label_less && !l.info_uuid.empty() ? l.info_uuid : l.uuid;
    n.name = l.name;
    n.enabled = l.enabled;
    if (l.mode == "devdax" && l.daxmode == "system-ram") n.system_ram = DaxDev(l);
    return n;
  }

  Result<NamespacePlan> PlanCreate(const NamespaceSpec& spec) const REQUIRES(mu_) { return nsplan::PlanCreate(GatherFacts(), spec); }

  Result<NamespacePlan> PlanReconfigure(const std::string& dev, const NamespaceSpec& spec) const REQUIRES(mu_) {
    return nsplan::PlanReconfigure(GatherFacts(), dev, spec);
  }

  Result<Inventory> ListLocked() const REQUIRES(mu_) {
    const nsplan::Facts facts = GatherFacts();
    Inventory inv;
    inv.buses.push_back({"pmemd_emulated", "ndbus0"});
    inv.memory_block_size = config_.memory_block_size;
    inv.auto_online_blocks = "offline";
    for (size_t i = 0; i < regions_.size(); ++i) {
      const RegionState& rs = regions_[i];
      Dimm d;
      d.dev = rs.dimm;
      d.id = "pmem-emul-" + std::to_string(1000 + i);
      d.handle = static_cast<uint32_t>(i);
      d.phys_id = static_cast<uint32_t>(i);
      d.bus = "ndbus0";
      d.health_state = "ok";
      if (rs.config.labels) d.label_slots_total = config_.label_slots;
      inv.dimms.push_back(std::move(d));

      Region r;
      r.dev = rs.dev;
      r.bus = "ndbus0";
      r.size = rs.config.size;
      r.align = kEmulatedRegionAlign;
      r.numa_node = rs.config.numa_node;
      r.target_node = rs.config.numa_node;
      r.iset_id = 0x1000 + i;
      r.mappings.push_back({rs.dimm, 0, rs.config.size, 0});
      r.persistence_domain = "memory_controller";
      r.label_support = rs.config.labels;
      r.available_size = facts.regions[i].available_size;
      r.max_available_extent = facts.regions[i].max_available_extent;
      if (auto it = badblocks_.find(rs.dev); it != badblocks_.end()) {
        r.badblocks = it->second;
        for (const auto& b : it->second) r.badblock_count += b.length;
      }
      inv.regions.push_back(std::move(r));
    }
    for (const Label& l : labels_.labels()) {
      const RegionState* rs = FindRegion(l.region);
      inv.namespaces.push_back(ToNamespace(l, *rs));
      if (l.mode == "devdax" && l.enabled) inv.dax_devices.push_back(ToDax(l, *rs));
      if (l.mode == "devdax" && l.enabled && l.daxmode == "system-ram")
        for (MemoryBlock& m : MemoryBlocksOf(l, *rs)) inv.memory_blocks.push_back(std::move(m));
    }
    std::sort(inv.memory_blocks.begin(), inv.memory_blocks.end(),
              [](const MemoryBlock& a, const MemoryBlock& b) { return a.id < b.id; });
    return inv;
  }

  Namespace ToNamespace(const Label& l, const RegionState& rs) const REQUIRES(mu_) {
    Namespace n;
    n.dev = NamespaceDev(l);
    n.region = l.region;
    n.mode = l.mode;
    n.raw_size = l.raw_size;
    n.size = UsableSize(SpecOf(l), l.raw_size);
    nsplan::NamespaceFacts facts = FactsOf(l);
    if (!facts.uuid.empty()) n.uuid = facts.uuid;
    if (!facts.raw_uuid.empty()) n.raw_uuid = facts.raw_uuid;
    n.enabled = l.enabled;
    if (!l.name.empty()) n.name = l.name;
    if (!l.map.empty()) n.map = l.map;
    if (l.align) n.align = l.align;
    if (l.sector_size) n.sector_size = l.sector_size;
    n.numa_node = rs.config.numa_node;
    n.target_node = rs.config.numa_node;
    if (l.mode == "devdax")
      n.chardev = DaxDev(l);
    else if (l.enabled)
      n.blockdev = BlockDev(l);
    if (auto it = badblocks_.find(rs.dev); it != badblocks_.end()) {
      // Namespace-relative sectors of the region's bad ranges that fall in it.
      uint64_t first = l.offset / kSector, end = (l.offset + l.raw_size) / kSector;
      for (const auto& b : it->second) {
        uint64_t s = std::max(first, b.offset), e = std::min(end, b.offset + b.length);
        if (s < e) {
          n.badblocks.push_back({s - first, e - s});
          n.badblock_count += e - s;
        }
      }
    }
    return n;
  }

  DaxDevice ToDax(const Label& l, const RegionState& rs) const {
    DaxDevice d;
    d.chardev = DaxDev(l);
    d.region = l.region;
    d.ns = NamespaceDev(l);
    d.size = UsableSize(SpecOf(l), l.raw_size);
    d.target_node = rs.config.numa_node;
    d.align = l.align;
    d.mode = l.daxmode;
    if (l.daxmode == "system-ram") {
      d.total_memblocks = BlocksOf(l).size();
      d.online_memblocks = l.online_blocks.size();
      d.movable = l.movable;
    }
    return d;
  }

  // The whole, aligned memory blocks inside a devdax device's data area.
  std::vector<uint64_t> BlocksOf(const Label& l) const {
    const RegionState* rs = FindRegion(l.region);
    uint64_t bs = config_.memory_block_size;
    uint64_t data_start = rs->phys_start + l.offset + (l.raw_size - UsableSize(SpecOf(l), l.raw_size));
    uint64_t data_end = rs->phys_start + l.offset + l.raw_size;
    std::vector<uint64_t> ids;
    for (uint64_t b = (data_start + bs - 1) / bs; (b + 1) * bs <= data_end; ++b) ids.push_back(b);
    return ids;
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
    return ToNamespace(*l, *FindRegion(l->region));
  }

  Result<DaxDevice> FindDaxLocked(const std::string& chardev) const REQUIRES(mu_) {
    PMEMD_ASSIGN_OR_RETURN(const Label* l, FindDax(chardev));
    return ToDax(*l, *FindRegion(l->region));
  }

  const RegionState* FindRegion(const std::string& dev) const {
    for (const auto& r : regions_)
      if (r.dev == dev) return &r;
    return nullptr;
  }

  // The smallest namespace id not in use in the region, as the kernel's ida.
  uint32_t FreeId(const std::string& region) const REQUIRES(mu_) {
    std::set<uint32_t> used;
    for (const Label& l : labels_.labels())
      if (l.region == region) used.insert(l.id);
    uint32_t id = 0;
    while (used.count(id)) ++id;
    return id;
  }

  Status SaveBadblocks(const std::map<std::string, std::vector<BadRange>>& all) const {
    nlohmann::json doc = nlohmann::json::object();
    for (const auto& [region, v] : all) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& b : v) a.push_back({{"offset", b.offset}, {"length", b.length}});
      doc[region] = std::move(a);
    }
    return WriteFileAtomic(badblocks_path_, doc.dump() + "\n", 0600);
  }

  void Publish(const std::string& kind, const std::string& object, const std::string& from, const std::string& to,
               nlohmann::json detail) {
    if (!events_) return;
    events_->Publish({.kind = kind, .object = object, .from = from, .to = to, .detail = std::move(detail)});
  }

  mutable Mutex mu_;
  const EmulatedConfig config_;
  const std::vector<RegionState> regions_;
  LabelStore labels_ GUARDED_BY(mu_);
  const std::string badblocks_path_;
  std::map<std::string, std::vector<BadRange>> badblocks_ GUARDED_BY(mu_);  // in sectors
  std::map<uint64_t, uint32_t> busy_blocks_ GUARDED_BY(mu_);
  std::set<uint64_t> stuck_blocks_ GUARDED_BY(mu_);
  CondVar unstuck_;  // stuck_blocks_ shrank
  EventBus* const events_;  // borrowed, may be null (NewEmulatedPlatform)
};

// Creates the backing file sparse, or checks an existing one's size. A
// missing file is created only while no namespace lives in the region: a
// file deleted under namespaces took their data with it, and recreating it
// empty would list them over zeros.
Status PrepareRegionFile(const RegionState& rs, const std::vector<std::string>& namespaces) {
  UniqueFd fd(::open(rs.file.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() && errno == ENOENT) {
    if (!namespaces.empty()) {
      std::string list;
      for (const auto& n : namespaces) list += (list.empty() ? "" : ", ") + n;
      return Status::FailedPrecondition("region file " + rs.file + " of " + rs.dev + " is missing, but the label "
                                        "store holds namespaces in it (" + list + "); restore the file, or remove "
                                        "the emulated state (labels.json) to start the region empty");
    }
    fd = UniqueFd(::open(rs.file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  }
  if (!fd.valid()) return Status::FromErrno(errno, "open region file " + rs.file);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat " + rs.file);
  if (!S_ISREG(st.st_mode))
    return Status::FailedPrecondition("region file " + rs.file + " is not a regular file; point " + rs.dev +
                                      " at a file (emulated.regions[].file)");
  uint64_t have = static_cast<uint64_t>(st.st_size);
  if (have == rs.config.size) return Status::Ok();
  if (have != 0)
    return Status::FailedPrecondition(
        "region file " + rs.file + " is " + std::to_string(have) + " bytes but " + rs.dev +
        " is configured as " + std::to_string(rs.config.size) +
        "; set the region's size to match the file, or point it at a new file");
  if (::ftruncate(fd.get(), static_cast<off_t>(rs.config.size)) != 0)
    return Status::FromErrno(errno, "size region file " + rs.file);
  return Status::Ok();
}

Result<std::map<std::string, std::vector<BadRange>>> LoadBadblocks(const std::string& path) {
  std::map<std::string, std::vector<BadRange>> out;
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return out;
    return text.status();
  }
  Result<nlohmann::json> doc = ParseJson(*text);
  if (!doc.ok() || !doc->is_object())
    return Status::Corruption("badblocks file " + path + " is unreadable; remove it to clear injected badblocks");
  for (const auto& [region, v] : doc->items()) {
    if (!v.is_array()) return Status::Corruption("badblocks file " + path + ": " + region + " is not an array");
    for (const auto& b : v) {
      BadRange r;
      JsonReader rd(b, "badblocks." + region);
      rd.Required("offset", &r.offset);
      rd.Required("length", &r.length);
      if (Status s = rd.Finish(); !s.ok()) return Status::Corruption("badblocks file " + path + ": " + s.message());
      out[region].push_back(r);
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<EmulatedPlatform>> NewEmulatedPlatform(const EmulatedConfig& config,
                                                              const std::string& state_dir, EventBus* events) {
  if (config.regions.empty())
    return Status::InvalidArgument("the emulated platform needs at least one region in emulated.regions");
  if (config.memory_block_size < (2u << 20) || (config.memory_block_size & (config.memory_block_size - 1)) != 0)
    return Status::InvalidArgument("emulated.memory_block_size " + std::to_string(config.memory_block_size) +
                                   " must be a power of two of at least 2097152 (2 MiB)");
  if (config.label_slots == 0) return Status::InvalidArgument("emulated.label_slots must be at least 1");
  std::string dir = state_dir + "/emulated";
  PMEMD_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::vector<RegionState> regions;
  uint64_t phys = kPhysBase;
  for (size_t i = 0; i < config.regions.size(); ++i) {
    RegionState rs;
    rs.config = config.regions[i];
    rs.number = std::to_string(i);
    rs.dev = "region" + rs.number;
    rs.dimm = "nmem" + rs.number;
    rs.file = rs.config.file.empty() ? dir + "/" + rs.dev + ".img" : rs.config.file;
    if (rs.config.size == 0 || rs.config.size % kEmulatedRegionAlign != 0)
      return Status::InvalidArgument("emulated.regions[" + rs.number + "].size " + std::to_string(rs.config.size) +
                                     " must be a non-zero multiple of " + std::to_string(kEmulatedRegionAlign) +
                                     " (16 MiB)");
    rs.phys_start = phys;
    phys += (rs.config.size + (1ull << 30) - 1) & ~((1ull << 30) - 1);
    regions.push_back(std::move(rs));
  }
  PMEMD_ASSIGN_OR_RETURN(LabelStore labels, LabelStore::Load(dir + "/labels.json"));
  std::vector<Label> all = labels.labels();
  for (const auto& rs : regions) {
    std::vector<std::string> namespaces;
    for (const Label& l : all)
      if (l.region == rs.dev && (rs.config.labels || l.mode != "raw")) namespaces.push_back(NamespaceDev(l));
    PMEMD_RETURN_IF_ERROR(PrepareRegionFile(rs, namespaces));
    Log()->info("emulated {}: {} bytes backed by {}{}", rs.dev, rs.config.size, rs.file,
                rs.config.labels ? "" : " (label-less)");
  }
  for (const Label& l : all) {
    auto it = std::find_if(regions.begin(), regions.end(), [&](const RegionState& r) { return r.dev == l.region; });
    if (it == regions.end() || l.offset + l.raw_size > it->config.size)
      return Status::Corruption("label store " + dir + "/labels.json holds namespace " + NamespaceDev(l) + " in " +
                                l.region + " beyond the configured regions; restore the region configuration");
  }
  // A label-less region always shows one raw namespace over all of it, as
  // the kernel does for memmap= and label-less NVDIMMs.
  bool added = false;
  for (const auto& rs : regions) {
    if (rs.config.labels) continue;
    if (std::any_of(all.begin(), all.end(), [&](const Label& l) { return l.region == rs.dev; })) continue;
    Label l;
    l.region = rs.dev;
    l.mode = "raw";
    l.raw_size = rs.config.size;
    l.sector_size = 512;
    all.push_back(l);
    added = true;
  }
  if (added) PMEMD_RETURN_IF_ERROR(labels.Replace(std::move(all)));
  PMEMD_ASSIGN_OR_RETURN(auto badblocks, LoadBadblocks(dir + "/badblocks.json"));
  return std::unique_ptr<EmulatedPlatform>(new EmulatedPlatformImpl(
      config, std::move(regions), std::move(labels), dir + "/badblocks.json", std::move(badblocks), events));
}

}  // namespace pmemd
