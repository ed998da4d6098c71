#include "platform/ndctl_snapshot.h"

// The kernel uapi header: ndctl/ndctl.h from libndctl-dev v76 needs ccan.
#include <linux/ndctl.h>

#include <climits>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include "platform/ndctl_lib.h"
#include "platform/sysfs_memory.h"
#include "pmemd/fs.h"
#include "pmemd/log.h"
#include "pmemd/uuid.h"

namespace pmemd::nd {

namespace {

std::string PersistenceDomainName(enum ndctl_persistence_domain pd) {
  switch (pd) {
    case PERSISTENCE_CPU_CACHE: return "cpu_cache";
    case PERSISTENCE_MEM_CTRL: return "memory_controller";
    case PERSISTENCE_NONE: return "none";
    default: return "unknown";
  }
}

std::string RegionTypeName(ndctl_region* region) {
  switch (ndctl_region_get_type(region)) {
    case ND_DEVICE_REGION_PMEM: return "pmem";
    case ND_DEVICE_REGION_BLK: return "blk";
    default: return "unknown";
  }
}

// The number of label slots of an initialized label area, as the kernel
// sizes it; nullopt when the DIMM has no label area or it holds no valid
// index block.
std::optional<uint64_t> LabelSlots(ndctl_dimm* dimm) {
  if (!ndctl_dimm_is_cmd_supported(dimm, ND_CMD_GET_CONFIG_SIZE) ||
      !ndctl_dimm_is_cmd_supported(dimm, ND_CMD_GET_CONFIG_DATA))
    return std::nullopt;
  NdctlCmdPtr cmd(ndctl_dimm_read_label_index(dimm));
  if (!cmd) return std::nullopt;
  // Validates the index blocks just read and returns the slot count.
  int slots = ndctl_dimm_validate_labels(dimm);
  if (slots < 0) return std::nullopt;
  return static_cast<uint64_t>(slots);
}

uint64_t RegionBadblockCount(ndctl_region* region) {
  uint64_t count = 0;
  struct badblock* bb;
  ndctl_region_badblock_foreach(region, bb) count += bb->len;
  return count;
}

// ndctl's dev_badblocks_to_json(): the 512-byte sectors of the region's bad
// blocks that fall inside [dev_begin, dev_begin + dev_size), with ndctl's
// boundary rules kept as they are so that the counts agree.
uint64_t DeviceBadblockCount(ndctl_region* region, unsigned long long dev_begin,
                             unsigned long long dev_size) {
  unsigned long long region_begin = ndctl_region_get_resource(region);
  if (region_begin == ULLONG_MAX) return 0;
  unsigned long long dev_end = dev_begin + dev_size - 1;
  uint64_t count = 0;
  struct badblock* bb;
  ndctl_region_badblock_foreach(region, bb) {
    unsigned long long bb_begin = region_begin + (bb->offset << 9);
    unsigned long long bb_end = bb_begin + (static_cast<unsigned long long>(bb->len) << 9) - 1;
    if (bb_end <= dev_begin || bb_begin >= dev_end) continue;
    unsigned long long begin = bb_begin < dev_begin ? dev_begin : bb_begin;
    unsigned long long end = bb_end > dev_end ? dev_end : bb_end;
    count += static_cast<unsigned int>((end - begin + 1) >> 9);
  }
  return count;
}

// One snapshot: walks a fresh context into an Inventory.

class Snapshot {
 public:
  Snapshot(ndctl_ctx* ctx, std::string sysfs_root)
      : ctx_(ctx), sysfs_root_(std::move(sysfs_root)), log_(GetLogger("platform")) {}

  Result<Inventory> Take() {
    ndctl_bus* bus;
    ndctl_bus_foreach(ctx_, bus) AddBus(bus);
    AddDaxDevices();
    PMEMD_RETURN_IF_ERROR(AddMemoryBlocks());
    return std::move(inv_);
  }

 private:
  void AddBus(ndctl_bus* bus) {
    Bus b;
    b.provider = Str(ndctl_bus_get_provider(bus));
    b.dev = Str(ndctl_bus_get_devname(bus));
    inv_.buses.push_back(b);

    ndctl_dimm* dimm;
    ndctl_dimm_foreach(bus, dimm) AddDimm(dimm, b.dev);

    ndctl_region* region;
    ndctl_region_foreach(bus, region) AddRegion(region, b.dev);
  }

  void AddDimm(ndctl_dimm* dimm, const std::string& bus) {
    Dimm d;
    d.dev = Str(ndctl_dimm_get_devname(dimm));
    if (const char* id = ndctl_dimm_get_unique_id(dimm)) d.id = id;
    // ndctl leaves out a handle of UINT_MAX and a phys_id of USHRT_MAX
    // ("unknown"); the model keeps the raw value.
    d.handle = ndctl_dimm_get_handle(dimm);
    d.phys_id = ndctl_dimm_get_phys_id(dimm);
    d.bus = bus;
    d.enabled = ndctl_dimm_is_enabled(dimm) == 1;
    d.label_slots_total = LabelSlots(dimm);
    inv_.dimms.push_back(std::move(d));
  }

  void AddRegion(ndctl_region* region, const std::string& bus) {
    Region r;
    r.dev = Str(ndctl_region_get_devname(region));
    r.bus = bus;
    r.size = ndctl_region_get_size(region);
    unsigned long align = ndctl_region_get_align(region);
    r.align = align == ULONG_MAX ? 0 : align;
    r.available_size = ndctl_region_get_available_size(region);
    unsigned long long extent = ndctl_region_get_max_available_extent(region);
    r.max_available_extent = extent == ULLONG_MAX ? 0 : extent;
    r.type = RegionTypeName(region);
    r.numa_node = NodeOrNone(ndctl_region_get_numa_node(region));
    r.target_node = NodeOrNone(ndctl_region_get_target_node(region));
    if (ndctl_interleave_set* iset = ndctl_region_get_interleave_set(region))
      r.iset_id = ndctl_interleave_set_get_cookie(iset);
    ndctl_mapping* m;
    ndctl_mapping_foreach(region, m) {
      Mapping mapping;
      if (ndctl_dimm* mdimm = ndctl_mapping_get_dimm(m)) mapping.dimm = Str(ndctl_dimm_get_devname(mdimm));
      mapping.offset = ndctl_mapping_get_offset(m);
      mapping.length = ndctl_mapping_get_length(m);
      int position = ndctl_mapping_get_position(m);
      mapping.position = position < 0 ? 0 : static_cast<uint32_t>(position);
      r.mappings.push_back(std::move(mapping));
    }
    r.enabled = ndctl_region_is_enabled(region) == 1;
    r.badblock_count = RegionBadblockCount(region);
    r.persistence_domain = PersistenceDomainName(ndctl_region_get_persistence_domain(region));
    // The kernel gives a region label-based (pmem) namespaces only when its
    // DIMMs hold a valid label index; memmap=/e820 regions and NVDIMMs with
    // uninitialized labels get one fixed "io" namespace instead.
    r.label_support = ndctl_region_get_nstype(region) == ND_DEVICE_NAMESPACE_PMEM;
    inv_.regions.push_back(r);

    ndctl_namespace* ndns;
    ndctl_namespace_foreach(region, ndns) AddNamespace(region, ndns, r.dev);
  }

  void AddNamespace(ndctl_region* region, ndctl_namespace* ndns, const std::string& region_dev) {
    // As `ndctl list -N -c`: active namespaces and configured disabled ones;
    // not the idle zero-size seeds.
    unsigned long long raw_size = ndctl_namespace_get_size(ndns);
    bool active = ndctl_namespace_is_active(ndns);
    if (!active && !(raw_size > 0 && raw_size < ULLONG_MAX)) return;

    Namespace n;
    n.dev = Str(ndctl_namespace_get_devname(ndns));
    n.region = region_dev;
    n.raw_size = raw_size == ULLONG_MAX ? 0 : raw_size;
    n.enabled = active;

    ndctl_btt* btt = ndctl_namespace_get_btt(ndns);
    ndctl_dax* dax = ndctl_namespace_get_dax(ndns);
    ndctl_pfn* pfn = ndctl_namespace_get_pfn(ndns);
    unsigned long long size = ULLONG_MAX;
    enum ndctl_pfn_loc loc = NDCTL_PFN_LOC_NONE;
    enum ndctl_namespace_mode mode = ndctl_namespace_get_mode(ndns);
    switch (mode) {
      case NDCTL_NS_MODE_MEMORY:
        if (pfn) {
          size = ndctl_pfn_get_size(pfn);
          loc = ndctl_pfn_get_location(pfn);
        } else {  // static fsdax: a pagemap-capable io namespace (memmap=)
          size = raw_size;
          loc = NDCTL_PFN_LOC_RAM;
        }
        n.mode = "fsdax";
        break;
      case NDCTL_NS_MODE_DAX:
        if (dax) {
          size = ndctl_dax_get_size(dax);
          loc = ndctl_dax_get_location(dax);
        }
        n.mode = "devdax";
        break;
      case NDCTL_NS_MODE_SECTOR:
        if (btt) size = ndctl_btt_get_size(btt);
        n.mode = "sector";
        break;
      case NDCTL_NS_MODE_RAW:
        size = raw_size;
        n.mode = "raw";
        break;
      default:
        log_->warn("{}: unknown namespace mode (error {}); reported with mode \"\"", n.dev,
                   static_cast<int>(mode));
        break;
    }
    if (mode != NDCTL_NS_MODE_SECTOR && mode != NDCTL_NS_MODE_RAW) {
      switch (loc) {
        case NDCTL_PFN_LOC_RAM: n.map = "mem"; break;
        case NDCTL_PFN_LOC_PMEM: n.map = "dev"; break;
        default: n.map = "none"; break;
      }
    }
    n.size = size == ULLONG_MAX ? 0 : size;

    unsigned char uu[16];
    const char* bdev = nullptr;
    unsigned long align = 0;
    if (btt) {
      ndctl_btt_get_uuid(btt, uu);
      n.uuid = FormatUuid(uu);
      bdev = ndctl_btt_get_block_device(btt);
    } else if (pfn) {
      align = ndctl_pfn_get_align(pfn);
      ndctl_pfn_get_uuid(pfn, uu);
      n.uuid = FormatUuid(uu);
      bdev = ndctl_pfn_get_block_device(pfn);
    } else if (dax) {
      align = ndctl_dax_get_align(dax);
      ndctl_dax_get_uuid(dax, uu);
      n.uuid = FormatUuid(uu);
      if (daxctl_region* dregion = ndctl_dax_get_daxctl_region(dax)) {
        daxctl_dev* dev;
        daxctl_dev_foreach(dregion, dev) {
          const char* name = daxctl_dev_get_devname(dev);
          if (!name) continue;
          if (!n.chardev) n.chardev = name;  // ndctl shows the first
          dax_owner_[name] = {region_dev, n.dev};
        }
      }
    } else if (ndctl_namespace_get_type(ndns) != ND_DEVICE_NAMESPACE_IO) {
      ndctl_namespace_get_uuid(ndns, uu);
      n.uuid = FormatUuid(uu);
      bdev = ndctl_namespace_get_block_device(ndns);
    } else {
      bdev = ndctl_namespace_get_block_device(ndns);
    }

    if (ndctl_namespace_get_type(ndns) != ND_DEVICE_NAMESPACE_IO) {
      ndctl_namespace_get_uuid(ndns, uu);
      n.raw_uuid = FormatUuid(uu);
    }
    if (btt) {
      n.sector_size = ndctl_btt_get_sector_size(btt);
    } else if (!dax) {
      unsigned int ss = ndctl_namespace_get_sector_size(ndns);
      // The kernel uses 512 where a namespace has no explicit sector size.
      n.sector_size = (ss == 0 || ss == UINT_MAX) ? 512u : ss;
    }
    if (align != 0 && align != ULONG_MAX) n.align = align;
    if (bdev && bdev[0]) n.blockdev = bdev;
    if (const char* name = ndctl_namespace_get_alt_name(ndns); name && name[0]) n.name = name;
    n.numa_node = NodeOrNone(ndctl_namespace_get_numa_node(ndns));
    n.target_node = NodeOrNone(ndctl_namespace_get_target_node(ndns));

    if (pfn) {
      unsigned long long begin = ndctl_pfn_get_resource(pfn);
      unsigned long long psize = ndctl_pfn_get_size(pfn);
      // ndctl counts nothing for an inactive pfn (no resource) unless asked
      // for the media error list.
      if (begin != ULLONG_MAX && psize != ULLONG_MAX)
        n.badblock_count = DeviceBadblockCount(region, begin, psize);
    } else if (dax) {
      unsigned long long begin = ndctl_dax_get_resource(dax);
      unsigned long long dsize = ndctl_dax_get_size(dax);
      if (begin != ULLONG_MAX && dsize != ULLONG_MAX)
        n.badblock_count = DeviceBadblockCount(region, begin, dsize);
    } else if (btt) {
      unsigned long long begin = ndctl_namespace_get_resource(ndns);
      if (begin != ULLONG_MAX && raw_size != ULLONG_MAX)
        n.badblock_count = DeviceBadblockCount(region, begin, raw_size);
    } else {
      // A raw namespace reports every bad block of its region, as ndctl does.
      n.badblock_count = RegionBadblockCount(region);
    }
    inv_.namespaces.push_back(std::move(n));
  }

  // `daxctl list -D`, plus the physical ranges used to find each memory
  // block's owner.
  void AddDaxDevices() {
    daxctl_ctx* dctx = ndctl_get_daxctl_ctx(ctx_);
    if (!dctx) return;
    std::set<std::string> seen;
    daxctl_region* dregion;
    daxctl_region_foreach(dctx, dregion) {
      daxctl_dev* dev;
      daxctl_dev_foreach(dregion, dev) {
        const char* name = daxctl_dev_get_devname(dev);
        if (!name || !seen.insert(name).second) continue;
        unsigned long long size = daxctl_dev_get_size(dev);
        if (size == 0) continue;  // an idle seed

        DaxDevice d;
        d.chardev = name;
        if (auto it = dax_owner_.find(d.chardev); it != dax_owner_.end()) {
          d.region = it->second.first;
          d.ns = it->second.second;
        }
        d.size = size;
        d.target_node = NodeOrNone(daxctl_dev_get_target_node(dev));
        unsigned long align = daxctl_dev_get_align(dev);
        if (align > 0 && align != ULONG_MAX) d.align = align;
        d.enabled = daxctl_dev_is_enabled(dev) == 1;

        daxctl_memory* mem = daxctl_dev_get_memory(dev);
        d.mode = mem ? "system-ram" : "devdax";
        unsigned long long resource = daxctl_dev_get_resource(dev);
        if (mem && resource != 0) {
          int online = daxctl_memory_is_online(mem);
          int total = daxctl_memory_num_sections(mem);
          int movable = daxctl_memory_is_movable(mem);
          if (online >= 0) d.online_memblocks = online;
          if (total >= 0) d.total_memblocks = total;
          if (movable == 0 || movable == 1) d.movable = movable == 1;
          if (online < 0 || total < 0)
            log_->warn("{}: cannot count its memory blocks: {}", d.chardev,
                       std::strerror(-(online < 0 ? online : total)));
        }

        bool have_mappings = false;
        daxctl_mapping* m;
        daxctl_mapping_foreach(dev, m) {
          have_mappings = true;
          ranges_.push_back({daxctl_mapping_get_start(m), daxctl_mapping_get_size(m), d.chardev});
        }
        if (!have_mappings && resource != 0 && resource != ULLONG_MAX)
          ranges_.push_back({resource, size, d.chardev});

        inv_.dax_devices.push_back(std::move(d));
      }
    }
  }

  Status AddMemoryBlocks() {
    std::error_code ec;
    if (!std::filesystem::exists(sysfs::MemoryDir(sysfs_root_), ec)) {
      // A kernel without memory hotplug: nothing to online, nothing to list.
      log_->debug("{} does not exist; no memory blocks listed", sysfs::MemoryDir(sysfs_root_));
      return Status::Ok();
    }
    auto topo = sysfs::ReadMemoryTopology(sysfs_root_);
    if (!topo.ok()) return topo.status().Annotate("list memory blocks");
    sysfs::AssignDaxDevices(topo->blocks, ranges_);
    inv_.memory_block_size = topo->block_size;
    inv_.auto_online_blocks = std::move(topo->auto_online_blocks);
    inv_.memory_blocks = std::move(topo->blocks);
    return Status::Ok();
  }

  ndctl_ctx* ctx_;
  std::string sysfs_root_;
  std::shared_ptr<spdlog::logger> log_;
  Inventory inv_;
  // dax chardev -> (region, namespace) of the nd dax device that holds it.
  std::map<std::string, std::pair<std::string, std::string>> dax_owner_;
  std::vector<sysfs::PhysRange> ranges_;
};

}  // namespace

std::string NdFingerprint(const std::string& sysfs_root) {
  std::string fp;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(sysfs_root + "/bus/nd/devices", ec)) {
    std::string name = entry.path().filename().string();
    const char* attr = name.starts_with("region") ? "available_size" : name.starts_with("namespace") ? "size" : nullptr;
    if (!attr) continue;
    Result<std::string> value = ReadFile(entry.path().string() + "/" + attr);
    fp += name + "=" + (value.ok() ? *value : "?") + ";";
  }
  return fp;
}

Result<Inventory> TakeSnapshot(ndctl_ctx* ctx, const std::string& sysfs_root) {
  return Snapshot(ctx, sysfs_root).Take();
}

}  // namespace pmemd::nd
