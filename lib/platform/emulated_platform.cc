#include "pmemd/emulated_platform.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "platform/label_store.h"
#include "pmemd/events.h"
#include "pmemd/fs.h"
#include "pmemd/log.h"

namespace pmemd {

namespace {

// Where emulated regions sit in the (pretend) physical address space: above
// 4 GiB, each region starting on a 1 GiB boundary, so memory block ids and
// 1 GiB alignment behave as they would on a real machine.
constexpr uint64_t kPhysBase = 4ull << 30;

struct RegionState {
  EmulatedRegionConfig config;
  std::string dev;   // "regionN"
  std::string dimm;  // "nmemN"
  std::string file;
  uint64_t phys_start = 0;
};

class EmulatedPlatform final : public Platform {
 public:
  EmulatedPlatform(EmulatedConfig config, std::vector<RegionState> regions, LabelStore labels,
                   EventBus* events)
      : config_(std::move(config)), regions_(std::move(regions)), labels_(std::move(labels)),
        events_(events) {}

  std::string_view Kind() const override { return "emulated"; }

  Result<Inventory> List() override {
    std::lock_guard lock(mu_);
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
      auto gaps = FreeExtents(rs);
      for (const auto& [off, len] : gaps) {
        r.available_size += len;
        r.max_available_extent = std::max(r.max_available_extent, len);
      }
      inv.regions.push_back(std::move(r));
    }
    for (const Label& l : labels_.labels()) {
      Namespace n;
      n.dev = NamespaceDev(l);
      n.region = l.region;
      n.mode = l.mode;
      n.raw_size = l.raw_size;
      n.size = l.raw_size;
      n.uuid = l.uuid;
      n.enabled = l.enabled;
      if (!l.name.empty()) n.name = l.name;
      if (!l.map.empty()) n.map = l.map;
      if (l.align) n.align = l.align;
      if (l.sector_size) n.sector_size = l.sector_size;
      const RegionState* rs = FindRegion(l.region);
      if (rs) n.numa_node = rs->config.numa_node, n.target_node = rs->config.numa_node;
      std::string suffix = l.region.substr(6) + (l.id ? "." + std::to_string(l.id) : "");
      if (l.mode == "devdax") {
        n.chardev = "dax" + l.region.substr(6) + "." + std::to_string(l.id);
      } else if (l.enabled) {
        n.blockdev = "pmem" + suffix + (l.mode == "sector" ? "s" : "");
      }
      inv.namespaces.push_back(std::move(n));
    }
    return inv;
  }

 private:
  static std::string NamespaceDev(const Label& l) {
    return "namespace" + l.region.substr(6) + "." + std::to_string(l.id);
  }

  const RegionState* FindRegion(const std::string& dev) const {
    for (const auto& r : regions_)
      if (r.dev == dev) return &r;
    return nullptr;
  }

  // Free [offset, length) extents of a region, in address order.
  std::vector<std::pair<uint64_t, uint64_t>> FreeExtents(const RegionState& rs) const {
    std::vector<std::pair<uint64_t, uint64_t>> used;
    for (const Label& l : labels_.labels())
      if (l.region == rs.dev) used.emplace_back(l.offset, l.raw_size);
    std::sort(used.begin(), used.end());
    std::vector<std::pair<uint64_t, uint64_t>> gaps;
    uint64_t cur = 0;
    for (const auto& [off, len] : used) {
      if (off > cur) gaps.emplace_back(cur, off - cur);
      cur = std::max(cur, off + len);
    }
    if (cur < rs.config.size) gaps.emplace_back(cur, rs.config.size - cur);
    return gaps;
  }

  std::mutex mu_;
  EmulatedConfig config_;
  std::vector<RegionState> regions_;
  LabelStore labels_;  // guarded by mu_
  EventBus* events_;
};

// Creates the backing file sparse, or checks an existing one's size.
Status PrepareRegionFile(const RegionState& rs) {
  UniqueFd fd(::open(rs.file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::FromErrno(errno, "open region file " + rs.file);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat " + rs.file);
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

}  // namespace

Result<std::unique_ptr<Platform>> NewEmulatedPlatform(const EmulatedConfig& config,
                                                      const std::string& state_dir,
                                                      EventBus* events) {
  auto log = GetLogger("platform");
  if (config.regions.empty())
    return Status::InvalidArgument("the emulated platform needs at least one region in emulated.regions");
  if (config.memory_block_size < (2u << 20) ||
      (config.memory_block_size & (config.memory_block_size - 1)) != 0)
    return Status::InvalidArgument("emulated.memory_block_size " + std::to_string(config.memory_block_size) +
                                   " must be a power of two of at least 2097152 (2 MiB)");
  std::string dir = state_dir + "/emulated";
  PMEMD_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::vector<RegionState> regions;
  uint64_t phys = kPhysBase;
  for (size_t i = 0; i < config.regions.size(); ++i) {
    RegionState rs;
    rs.config = config.regions[i];
    rs.dev = "region" + std::to_string(i);
    rs.dimm = "nmem" + std::to_string(i);
    rs.file = rs.config.file.empty() ? dir + "/" + rs.dev + ".img" : rs.config.file;
    if (rs.config.size == 0 || rs.config.size % kEmulatedRegionAlign != 0)
      return Status::InvalidArgument("emulated.regions[" + std::to_string(i) + "].size " +
                                     std::to_string(rs.config.size) + " must be a non-zero multiple of " +
                                     std::to_string(kEmulatedRegionAlign) + " (16 MiB)");
    rs.phys_start = phys;
    phys += (rs.config.size + (1ull << 30) - 1) & ~((1ull << 30) - 1);
    PMEMD_RETURN_IF_ERROR(PrepareRegionFile(rs));
    log->info("emulated {}: {} bytes backed by {}", rs.dev, rs.config.size, rs.file);
    regions.push_back(std::move(rs));
  }
  PMEMD_ASSIGN_OR_RETURN(LabelStore labels, LabelStore::Load(dir + "/labels.json"));
  for (const Label& l : labels.labels()) {
    auto it = std::find_if(regions.begin(), regions.end(), [&](const RegionState& r) { return r.dev == l.region; });
    if (it == regions.end() || l.offset + l.raw_size > it->config.size)
      return Status::Corruption("label store " + dir + "/labels.json holds namespace " + l.uuid + " in " +
                                l.region + " beyond the configured regions; restore the region configuration");
  }
  return std::unique_ptr<Platform>(
      new EmulatedPlatform(config, std::move(regions), std::move(labels), events));
}

}  // namespace pmemd
