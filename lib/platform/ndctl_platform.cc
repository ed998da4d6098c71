#include "pmemd/ndctl_platform.h"

#include <daxctl/libdaxctl.h>
#include <ndctl/libndctl.h>
// The kernel uapi header: ndctl/ndctl.h from libndctl-dev v76 needs ccan.
#include <linux/ndctl.h>
#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <system_error>
#include <utility>

#include "platform/namespace_rules.h"
#include "platform/namespace_plan.h"
#include "platform/sysfs_memory.h"
#include "pmemd/events.h"
#include "pmemd/fs.h"
#include "pmemd/log.h"

namespace pmemd {

namespace {

// ---------------------------------------------------------------------------
// RAII for the C libraries.

struct NdctlCtxUnref {
  void operator()(ndctl_ctx* c) const { ndctl_unref(c); }
};
using NdctlCtxPtr = std::unique_ptr<ndctl_ctx, NdctlCtxUnref>;

struct NdctlCmdUnref {
  void operator()(ndctl_cmd* c) const { ndctl_cmd_unref(c); }
};
using NdctlCmdPtr = std::unique_ptr<ndctl_cmd, NdctlCmdUnref>;

// libndctl and libdaxctl log through a callback; route them into the
// "platform" logger. Their errors stay warnings: the library reports things
// (an unsupported command, a missing optional attribute) that List() treats
// as "not available" rather than as failures.
void LogLibraryLine(const char* lib, int priority, const char* fn, const char* format,
                    va_list args) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, format, args);
  size_t n = std::strlen(buf);
  while (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
  auto log = GetLogger("platform");
  if (priority <= LOG_ERR)
    log->warn("{}: {}: {}", lib, fn, buf);
  else
    log->debug("{}: {}: {}", lib, fn, buf);
}

void NdctlLog(ndctl_ctx*, int priority, const char*, int, const char* fn, const char* format,
              va_list args) {
  LogLibraryLine("libndctl", priority, fn, format, args);
}

void DaxctlLog(daxctl_ctx*, int priority, const char*, int, const char* fn, const char* format,
               va_list args) {
  LogLibraryLine("libdaxctl", priority, fn, format, args);
}

// A fresh library context. libndctl caches what it reads and has no way to
// drop those caches (ndctl_invalidate() only forgets that the bus list was
// read; existing objects keep their cached attributes), so every snapshot gets
// its own context.
Result<NdctlCtxPtr> NewNdctlCtx() {
  ndctl_ctx* raw = nullptr;
  int rc = ndctl_new(&raw);
  if (rc < 0 || raw == nullptr) {
    int err = rc < 0 ? -rc : ENXIO;
    return Status(Code::kUnavailable,
                  std::string("libndctl cannot create a context (ndctl_new: ") +
                      std::strerror(err) +
                      "); it needs working libudev and libkmod: check that /run/udev and "
                      "/lib/modules/$(uname -r) are present and that the process is not "
                      "out of memory",
                  err);
  }
  NdctlCtxPtr ctx(raw);
  ndctl_set_log_fn(ctx.get(), NdctlLog);
  if (daxctl_ctx* dctx = ndctl_get_daxctl_ctx(ctx.get())) daxctl_set_log_fn(dctx, DaxctlLog);
  return ctx;
}

// A string from libndctl/libdaxctl: NULL (an attribute it could not read)
// becomes "".
std::string Str(const char* s) { return s ? s : ""; }

// ---------------------------------------------------------------------------
// Field conversions, each following what ndctl/daxctl v76 print.

std::string FormatUuid(const unsigned char u[16]) {
  char buf[37];
  std::snprintf(buf, sizeof buf,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
                u[15]);
  return buf;
}

std::optional<int> NodeOrNone(int node) {
  if (node < 0) return std::nullopt;
  return node;
}

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

// ndctl's util_dimm_health_to_json without the "unknown" it prints when the
// command fails: the model keeps "" for anything not known.
std::string DimmHealth(ndctl_dimm* dimm) {
  if (!ndctl_dimm_is_cmd_supported(dimm, ND_CMD_SMART)) return "";
  NdctlCmdPtr cmd(ndctl_dimm_cmd_new_smart(dimm));
  if (!cmd) return "";
  int rc = ndctl_cmd_submit_xlat(cmd.get());
  if (rc < 0) {
    GetLogger("platform")->warn("{}: SMART health command failed: {}",
                                Str(ndctl_dimm_get_devname(dimm)), std::strerror(-rc));
    return "";
  }
  if (!(ndctl_cmd_smart_get_flags(cmd.get()) & ND_SMART_HEALTH_VALID)) return "";
  unsigned int health = ndctl_cmd_smart_get_health(cmd.get());
  if (health & ND_SMART_FATAL_HEALTH) return "fatal";
  if (health & ND_SMART_CRITICAL_HEALTH) return "critical";
  if (health & ND_SMART_NON_CRITICAL_HEALTH) return "non-critical";
  return "ok";
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

// ---------------------------------------------------------------------------
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
    d.health_state = DimmHealth(dimm);
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

// ---------------------------------------------------------------------------
// Changing operations: finding objects, planning facts, and the steps ndctl
// and daxctl take (ndctl/namespace.c, daxctl/device.c, v76).

using nsplan::Facts;
using nsplan::NamespaceFacts;
using nsplan::RegionFacts;

constexpr uint64_t kDefaultRegionAlign = 16ull << 20;
constexpr size_t kInfoBlockBytes = 8192;  // what ndctl zeroes: the pfn/dax/btt info block

std::string Errno(int rc) { return std::strerror(rc < 0 ? -rc : rc); }

uint64_t MsSince(std::chrono::steady_clock::time_point t0) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
}

std::string ModeName(enum ndctl_namespace_mode mode) {
  switch (mode) {
    case NDCTL_NS_MODE_FSDAX: return "fsdax";
    case NDCTL_NS_MODE_DEVDAX: return "devdax";
    case NDCTL_NS_MODE_SECTOR: return "sector";
    case NDCTL_NS_MODE_RAW: return "raw";
    default: return "";
  }
}

enum ndctl_namespace_mode ModeOf(const std::string& mode) {
  if (mode == "fsdax") return NDCTL_NS_MODE_FSDAX;
  if (mode == "devdax") return NDCTL_NS_MODE_DEVDAX;
  if (mode == "sector") return NDCTL_NS_MODE_SECTOR;
  return NDCTL_NS_MODE_RAW;
}

ndctl_region* FindRegionObj(ndctl_ctx* ctx, const std::string& dev) {
  ndctl_bus* bus;
  ndctl_bus_foreach(ctx, bus) {
    ndctl_region* region;
    ndctl_region_foreach(bus, region) {
      if (dev == Str(ndctl_region_get_devname(region))) return region;
    }
  }
  return nullptr;
}

ndctl_namespace* FindNamespaceObj(ndctl_ctx* ctx, const std::string& dev) {
  ndctl_bus* bus;
  ndctl_bus_foreach(ctx, bus) {
    ndctl_region* region;
    ndctl_region_foreach(bus, region) {
      ndctl_namespace* ndns;
      ndctl_namespace_foreach(region, ndns) {
        if (dev == Str(ndctl_namespace_get_devname(ndns))) return ndns;
      }
    }
  }
  return nullptr;
}

daxctl_dev* FindDaxObj(ndctl_ctx* ctx, const std::string& chardev, std::string* known) {
  daxctl_ctx* dctx = ndctl_get_daxctl_ctx(ctx);
  if (!dctx) return nullptr;
  daxctl_region* dregion;
  daxctl_region_foreach(dctx, dregion) {
    daxctl_dev* dev;
    daxctl_dev_foreach(dregion, dev) {
      const char* name = daxctl_dev_get_devname(dev);
      if (!name || daxctl_dev_get_size(dev) == 0) continue;
      if (chardev == name) return dev;
      if (known) *known += (known->empty() ? "" : ", ") + std::string(name);
    }
  }
  return nullptr;
}

// ndctl's region_get_namespace(): the 0th namespace when it is idle, else
// the region's seed; nullptr when neither is idle.
ndctl_namespace* CreateSeed(ndctl_region* region) {
  ndctl_namespace* ndns;
  ndctl_namespace_foreach(region, ndns) {
    if (ndctl_namespace_get_id(ndns) == 0 && ndctl_namespace_is_configuration_idle(ndns) == 1) return ndns;
  }
  ndns = ndctl_region_get_namespace_seed(region);
  if (ndns && ndctl_namespace_is_configuration_idle(ndns) == 1) return ndns;
  return nullptr;
}

// The dax device of a namespace that is onlined as system RAM, or "".
std::string SystemRamDevice(ndctl_namespace* ndns) {
  ndctl_dax* dax = ndctl_namespace_get_dax(ndns);
  if (!dax) return "";
  daxctl_region* dregion = ndctl_dax_get_daxctl_region(dax);
  if (!dregion) return "";
  daxctl_dev* dev;
  daxctl_dev_foreach(dregion, dev) {
    if (daxctl_dev_get_memory(dev) && daxctl_dev_get_devname(dev)) return Str(daxctl_dev_get_devname(dev));
  }
  return "";
}

constexpr const char* kNullUuidText = "00000000-0000-0000-0000-000000000000";

Facts GatherFacts(ndctl_ctx* ctx) {
  Facts f;
  ndctl_bus* bus;
  ndctl_bus_foreach(ctx, bus) {
    ndctl_region* region;
    ndctl_region_foreach(bus, region) {
      RegionFacts r;
      r.dev = Str(ndctl_region_get_devname(region));
      r.number = std::to_string(ndctl_region_get_id(region));
      unsigned long long res = ndctl_region_get_resource(region);
      r.phys_start = res == ULLONG_MAX ? 0 : res;
      r.size = ndctl_region_get_size(region);
      unsigned long align = ndctl_region_get_align(region);
      r.align = (align == 0 || align == ULONG_MAX) ? kDefaultRegionAlign : align;
      r.enabled = ndctl_region_is_enabled(region) == 1;
      r.read_only = ndctl_region_get_ro(region) == 1;
      r.labels = ndctl_region_get_nstype(region) == ND_DEVICE_NAMESPACE_PMEM;
      if (r.labels) {
        ndctl_dimm* dimm;
        ndctl_dimm_foreach_in_region(region, dimm) {
          uint64_t avail = ndctl_dimm_get_available_labels(dimm);
          if (avail == ULONG_MAX) continue;  // unknown
          if (!r.free_label_slots || avail < *r.free_label_slots) {
            r.free_label_slots = avail;
            r.full_dimm = Str(ndctl_dimm_get_devname(dimm));
          }
        }
        if (ndctl_namespace* seed = CreateSeed(region)) r.seed = Str(ndctl_namespace_get_devname(seed));
      }
      ndctl_pfn* pfn = ndctl_region_get_pfn_seed(region);
      r.has_pfn_seed = pfn != nullptr;
      if (pfn)
        for (int i = 0; i < ndctl_pfn_get_num_alignments(pfn); ++i)
          r.pfn_aligns.push_back(ndctl_pfn_get_supported_alignment(pfn, i));
      ndctl_dax* dax = ndctl_region_get_dax_seed(region);
      r.has_dax_seed = dax != nullptr;
      if (dax)
        for (int i = 0; i < ndctl_dax_get_num_alignments(dax); ++i)
          r.dax_aligns.push_back(ndctl_dax_get_supported_alignment(dax, i));
      r.has_btt_seed = ndctl_region_get_btt_seed(region) != nullptr;

      ndctl_namespace* ndns;
      ndctl_namespace_foreach(region, ndns) {
        unsigned long long size = ndctl_namespace_get_size(ndns);
        bool has_size = size > 0 && size != ULLONG_MAX;
        bool active = ndctl_namespace_is_active(ndns);
        bool io = ndctl_namespace_get_type(ndns) == ND_DEVICE_NAMESPACE_IO;
        if (io && r.io_namespace.empty()) r.io_namespace = Str(ndctl_namespace_get_devname(ndns));
        if (!has_size && !active) continue;  // an idle seed, as List() leaves it out
        NamespaceFacts n;
        n.dev = Str(ndctl_namespace_get_devname(ndns));
        n.region = r.dev;
        n.mode = ModeName(ndctl_namespace_get_mode(ndns));
        n.raw_size = has_size ? size : 0;
        unsigned long long nres = ndctl_namespace_get_resource(ndns);
        if (nres != ULLONG_MAX && nres >= r.phys_start) n.offset = nres - r.phys_start;
        if (has_size && nres != ULLONG_MAX) r.used.emplace_back(n.offset, n.raw_size);
        unsigned char uu[16];
        if (!io) {
          ndctl_namespace_get_uuid(ndns, uu);
          n.raw_uuid = FormatUuid(uu);
          if (n.raw_uuid == kNullUuidText) n.raw_uuid.clear();
        }
        // The claiming info block's uuid, List()'s `uuid`.
        if (ndctl_pfn* pfn = ndctl_namespace_get_pfn(ndns)) {
          ndctl_pfn_get_uuid(pfn, uu);
          n.uuid = FormatUuid(uu);
        } else if (ndctl_dax* dax = ndctl_namespace_get_dax(ndns)) {
          ndctl_dax_get_uuid(dax, uu);
          n.uuid = FormatUuid(uu);
        } else if (ndctl_btt* btt = ndctl_namespace_get_btt(ndns)) {
          ndctl_btt_get_uuid(btt, uu);
          n.uuid = FormatUuid(uu);
        }
        if (n.uuid == kNullUuidText) n.uuid.clear();
        if (const char* name = ndctl_namespace_get_alt_name(ndns)) n.name = name;
        n.enabled = active;
        n.label_less = io;
        n.system_ram = SystemRamDevice(ndns);
        f.namespaces.push_back(std::move(n));
      }
      // What List() shows: the kernel's own figures (RegionSpace when the
      // kernel does not say), so errors quote the numbers `list` shows.
      nsplan::RegionSpace space = nsplan::ComputeRegionSpace(r);
      unsigned long long avail = ndctl_region_get_available_size(region);
      unsigned long long extent = ndctl_region_get_max_available_extent(region);
      r.available_size = avail == ULLONG_MAX ? space.available_size : avail;
      r.max_available_extent = extent == ULLONG_MAX ? space.max_available_extent : extent;
      f.regions.push_back(std::move(r));
    }
  }
  return f;
}

// An 8 KiB buffer aligned for O_DIRECT.
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// Opens /dev/<bdev> exclusively, as ndctl_namespace_disable_safe() does: it
// fails with EBUSY while the device is mounted or held open.
Status CheckBlockDeviceFree(const std::string& bdev, const std::string& ns, const std::string& op) {
  if (bdev.empty()) return Status::Ok();
  std::string path = "/dev/" + bdev;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_EXCL | O_CLOEXEC));
  if (fd.valid()) return Status::Ok();
  int err = errno;
  if (err == EBUSY)
    return Status(Code::kBusy,
                  "cannot " + op + " " + ns + ": " + path +
                      " is in use (mounted, or held open by a process: EBUSY); unmount it (findmnt " + path +
                      ") or stop what holds it open (fuser -v " + path + "), then retry",
                  err);
  if (err == ENOENT) return Status::Ok();  // no device node (no devtmpfs): the kernel's unbind decides
  return Status::FromErrno(err, "cannot " + op + " " + ns + ": open " + path + " exclusively");
}

// The block device through which a namespace is in use: its pfn's or btt's
// when claimed, its own when raw; "" for devdax or a disabled namespace.
std::string ActiveBlockDevice(ndctl_namespace* ndns) {
  const char* bdev = nullptr;
  ndctl_pfn* pfn = ndctl_namespace_get_pfn(ndns);
  ndctl_btt* btt = ndctl_namespace_get_btt(ndns);
  ndctl_dax* dax = ndctl_namespace_get_dax(ndns);
  if (pfn && ndctl_pfn_is_enabled(pfn))
    bdev = ndctl_pfn_get_block_device(pfn);
  else if (btt && ndctl_btt_is_enabled(btt))
    bdev = ndctl_btt_get_block_device(btt);
  else if (!dax && ndctl_namespace_is_enabled(ndns))
    bdev = ndctl_namespace_get_block_device(ndns);
  return bdev ? bdev : "";
}

// Disables a namespace the safe way (nothing mounted, not system-ram) and
// releases its pfn/dax/btt claim, so its personality can be changed.
Status DisableAndRelease(ndctl_namespace* ndns, const std::string& op) {
  const std::string dev = Str(ndctl_namespace_get_devname(ndns));
  PMEMD_RETURN_IF_ERROR(CheckBlockDeviceFree(ActiveBlockDevice(ndns), dev, op));
  int rc = ndctl_namespace_disable_invalidate(ndns);
  if (rc < 0 || ndctl_namespace_is_active(ndns))
    return Status(Code::kBusy,
                  "cannot " + op + " " + dev + ": the kernel refused to disable it (" + Errno(rc ? rc : -EBUSY) +
                      "); something still uses it: unmount it, stop processes mapping it, then retry",
                  rc < 0 ? -rc : EBUSY);
  return Status::Ok();
}

// ndctl's zero_info_block(): enable the namespace raw and zero its first
// 8 KiB, so that no old pfn/dax/btt info block claims it again (a label-less
// namespace has no uuid that would tell an old info block from a new one).
Status ZeroInfoBlock(ndctl_namespace* ndns, const std::shared_ptr<spdlog::logger>& log) {
  const std::string dev = Str(ndctl_namespace_get_devname(ndns));
  ndctl_namespace_set_raw_mode(ndns, 1);
  struct RawModeOff {
    ndctl_namespace* ndns;
    ~RawModeOff() {
      ndctl_namespace_set_raw_mode(ndns, 0);
      ndctl_namespace_disable_invalidate(ndns);
    }
  } off{ndns};
  int rc = ndctl_namespace_enable(ndns);
  if (rc < 0) {
    log->warn("{}: cannot enable it raw to clear its info block ({}); continuing as ndctl does", dev, Errno(rc));
    return Status::Ok();
  }
  const char* bdev = ndctl_namespace_get_block_device(ndns);
  if (!bdev || !bdev[0]) return Status::IoError(dev + ": enabled raw but has no block device to clear");
  std::string path = std::string("/dev/") + bdev;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_DIRECT | O_EXCL | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "open " + path + " to clear " + dev + "'s info block");
  std::unique_ptr<void, FreeDeleter> zero(std::aligned_alloc(4096, kInfoBlockBytes));
  std::unique_ptr<void, FreeDeleter> old(std::aligned_alloc(4096, kInfoBlockBytes));
  if (!zero || !old) return Status::Internal("out of memory for an info block buffer");
  std::memset(zero.get(), 0, kInfoBlockBytes);
  ssize_t n = ::pread(fd.get(), old.get(), kInfoBlockBytes, 0);
  if (n == static_cast<ssize_t>(kInfoBlockBytes) && std::memcmp(zero.get(), old.get(), kInfoBlockBytes) == 0)
    return Status::Ok();
  n = ::pwrite(fd.get(), zero.get(), kInfoBlockBytes, 0);
  if (n != static_cast<ssize_t>(kInfoBlockBytes))
    return Status::FromErrno(n < 0 ? errno : EIO, "clear " + dev + "'s info block through " + path);
  log->debug("{}: cleared its info block through {}", dev, path);
  return Status::Ok();
}

// ndctl's namespace_prep_reconfig(): disabled, released, forced raw, and the
// old info block cleared.
Status PrepareReconfig(ndctl_namespace* ndns, const std::string& op, const std::shared_ptr<spdlog::logger>& log) {
  PMEMD_RETURN_IF_ERROR(DisableAndRelease(ndns, op));
  ndctl_namespace_set_enforce_mode(ndns, NDCTL_NS_MODE_RAW);
  return ZeroInfoBlock(ndns, log);
}

// An idle seed can hold a uuid without a size: what a create interrupted
// between writing the uuid and the size leaves (pmemd killed; the kernel
// keeps the uuid until the size is written back to 0). The kernel refuses to
// rename such a namespace (EBUSY: there is no label to move the uuid to), so
// before configuring it, give it back the way ndctl_namespace_delete() does:
// size 0 drops the uuid. That frees `ndns`; the returned object replaces it.
Result<ndctl_namespace*> ClearStaleUuid(ndctl_ctx* ctx, ndctl_namespace* ndns, const std::string& dev) {
  static constexpr unsigned char kNullUuid[16] = {};
  unsigned char uu[16];
  ndctl_namespace_get_uuid(ndns, uu);
  if (ndctl_namespace_get_size(ndns) != 0 || std::memcmp(uu, kNullUuid, sizeof uu) == 0) return ndns;
  const std::string stale = FormatUuid(uu);
  if (int rc = ndctl_namespace_delete(ndns); rc < 0)
    return Status(Code::kIoError, "create " + dev + ": it holds the uuid " + stale + " of an interrupted create " +
                                      "and clearing it failed (" + Errno(rc) + "); the kernel log (dmesg) says why",
                  -rc);
  GetLogger("platform")->info("{}: cleared the uuid {} that an interrupted create left on it", dev, stale);
  ndns = FindNamespaceObj(ctx, dev);
  if (!ndns) return Status::Unavailable(dev + " disappeared while clearing its stale uuid; retry");
  return ndns;
}

// What a failed write of a namespace's uuid means. The kernel's uuid_store
// answers EINVAL when the uuid is not unique on the bus (nd_is_uuid_unique:
// another namespace's label, or a pfn/dax/btt info block, holds it); the
// planner checks both first, so this is a uuid that appeared meanwhile.
Status UuidWriteStatus(const std::string& what, const std::string& uuid, int rc) {
  if (rc >= 0) return Status::Ok();
  if (rc == -EINVAL)
    return Status(Code::kAlreadyExists,
                  what + ": the kernel refused uuid " + uuid + " (EINVAL): a namespace or an fsdax/devdax/sector "
                  "info block on the bus already uses it; list shows it as uuid or raw_uuid; choose another uuid",
                  EINVAL);
  Code code = rc == -EBUSY ? Code::kBusy : Code::kIoError;
  return Status(code, what + ": setting the uuid failed (" + Errno(rc) + "); the kernel log (dmesg) says why", -rc);
}

// Gives a disabled, configured namespace its personality: the pfn (fsdax),
// dax (devdax) or btt (sector) seed of its region claims it and is enabled,
// or (raw) the namespace is enabled itself. `claim_uuid` is the pfn/dax/btt
// info block's uuid.
Status ApplyPersonality(ndctl_region* region, ndctl_namespace* ndns, const NamespacePlan& plan,
                        const std::string& claim_uuid) {
  const std::string dev = Str(ndctl_namespace_get_devname(ndns));
  unsigned char uu[16];
  if (!nsplan::ParseUuid(claim_uuid, uu)) return Status::Internal("bad claim uuid " + claim_uuid);
  // Opportunistic, as in ndctl: kernels before 4.13 lack the attribute.
  ndctl_namespace_set_enforce_mode(ndns, ModeOf(plan.mode));
  auto fail = [&](const std::string& step, int rc) {
    return Status(Code::kIoError,
                  "configure " + dev + " as " + plan.mode + ": " + step + " failed (" + Errno(rc) +
                      "); the kernel log (dmesg) says why",
                  rc < 0 ? -rc : rc);
  };
  enum ndctl_pfn_loc loc = plan.map == "mem" ? NDCTL_PFN_LOC_RAM : NDCTL_PFN_LOC_PMEM;
  int rc = 0;
  if (plan.mode == "fsdax") {
    ndctl_pfn* pfn = ndctl_region_get_pfn_seed(region);
    if (!pfn) return Status::Unavailable(plan.region + " has no pfn seed for fsdax; is nd_pmem loaded?");
    if ((rc = ndctl_pfn_set_uuid(pfn, uu)) < 0) return fail("setting the pfn uuid", rc);
    if ((rc = ndctl_pfn_set_location(pfn, loc)) < 0) return fail("setting the pfn location", rc);
    if (ndctl_pfn_has_align(pfn) && (rc = ndctl_pfn_set_align(pfn, plan.align)) < 0)
      return fail("setting the pfn alignment", rc);
    if ((rc = ndctl_pfn_set_namespace(pfn, ndns)) < 0) return fail("attaching the pfn device", rc);
    if ((rc = ndctl_pfn_enable(pfn)) < 0) {
      ndctl_pfn_set_namespace(pfn, nullptr);
      return fail("enabling " + Str(ndctl_pfn_get_devname(pfn)), rc);
    }
  } else if (plan.mode == "devdax") {
    ndctl_dax* dax = ndctl_region_get_dax_seed(region);
    if (!dax) return Status::Unavailable(plan.region + " has no dax seed for devdax; is dax_pmem loaded?");
    if ((rc = ndctl_dax_set_uuid(dax, uu)) < 0) return fail("setting the dax uuid", rc);
    if ((rc = ndctl_dax_set_location(dax, loc)) < 0) return fail("setting the dax location", rc);
    if ((rc = ndctl_dax_set_align(dax, plan.align)) < 0) return fail("setting the dax alignment", rc);
    if ((rc = ndctl_dax_set_namespace(dax, ndns)) < 0) return fail("attaching the dax device", rc);
    if ((rc = ndctl_dax_enable(dax)) < 0) {
      ndctl_dax_set_namespace(dax, nullptr);
      return fail("enabling " + Str(ndctl_dax_get_devname(dax)), rc);
    }
  } else if (plan.mode == "sector") {
    ndctl_btt* btt = ndctl_region_get_btt_seed(region);
    if (!btt) return Status::Unavailable(plan.region + " has no btt seed for sector mode; is nd_btt loaded?");
    if ((rc = ndctl_btt_set_uuid(btt, uu)) < 0) return fail("setting the btt uuid", rc);
    if ((rc = ndctl_btt_set_sector_size(btt, plan.sector_size)) < 0) return fail("setting the btt sector size", rc);
    if ((rc = ndctl_btt_set_namespace(btt, ndns)) < 0) return fail("attaching the btt device", rc);
    if ((rc = ndctl_btt_enable(btt)) < 0) {
      ndctl_btt_set_namespace(btt, nullptr);
      return fail("enabling " + Str(ndctl_btt_get_devname(btt)), rc);
    }
  } else {
    if ((rc = ndctl_namespace_enable(ndns)) < 0) return fail("enabling the namespace", rc);
  }
  return Status::Ok();
}

// Sets the namespace's own sector size (fsdax, raw) when the kernel offers
// a choice; 512 is the default and always fine.
Status SetNamespaceSectorSize(ndctl_namespace* ndns, const NamespacePlan& plan) {
  if (plan.mode == "sector" || plan.mode == "devdax" || plan.sector_size == 0) return Status::Ok();
  int num = ndctl_namespace_get_num_sector_sizes(ndns);
  for (int i = 0; i < num; ++i)
    if (ndctl_namespace_get_supported_sector_size(ndns, i) == plan.sector_size) {
      int rc = ndctl_namespace_set_sector_size(ndns, plan.sector_size);
      if (rc < 0)
        return Status(Code::kIoError, "set " + plan.dev + "'s sector size to " + std::to_string(plan.sector_size) +
                                          ": " + Errno(rc), -rc);
      return Status::Ok();
    }
  if (plan.sector_size == 512) return Status::Ok();
  return Status::InvalidArgument(plan.dev + " does not support sector_size " + std::to_string(plan.sector_size) +
                                 " in " + plan.mode + " mode; use 512");
}

// The memory blocks (whole, aligned) that hold a dax device's range, with
// their current state.
Result<std::vector<MemoryBlock>> DaxBlocks(daxctl_dev* dev, const std::string& sysfs_root, uint64_t* block_size,
                                          std::string* auto_online) {
  PMEMD_ASSIGN_OR_RETURN(sysfs::MemoryTopology topo, sysfs::ReadMemoryTopology(sysfs_root));
  const std::string name = Str(daxctl_dev_get_devname(dev));
  std::vector<sysfs::PhysRange> ranges;
  daxctl_mapping* m;
  daxctl_mapping_foreach(dev, m) ranges.push_back({daxctl_mapping_get_start(m), daxctl_mapping_get_size(m), name});
  unsigned long long res = daxctl_dev_get_resource(dev);
  if (ranges.empty() && res != 0 && res != ULLONG_MAX) ranges.push_back({res, daxctl_dev_get_size(dev), name});
  sysfs::AssignDaxDevices(topo.blocks, ranges);
  if (block_size) *block_size = topo.block_size;
  if (auto_online) *auto_online = topo.auto_online_blocks;
  std::vector<MemoryBlock> out;
  for (auto& b : topo.blocks)
    if (b.dax_device == name) out.push_back(b);
  return out;
}

// How many whole memory blocks of `block_size` fit in [start, start + size).
uint64_t WholeBlocks(uint64_t start, uint64_t size, uint64_t block_size) {
  if (block_size == 0) return 0;
  uint64_t first = (start + block_size - 1) / block_size, end = (start + size) / block_size;
  return end > first ? end - first : 0;
}

std::string JoinIds(const std::vector<MemoryBlock>& blocks) {
  std::string s;
  for (const auto& b : blocks) s += (s.empty() ? "" : ", ") + std::to_string(b.id);
  return s;
}

// ---------------------------------------------------------------------------

class NdctlPlatform final : public Platform {
 public:
  NdctlPlatform(NdctlPlatformOptions options, EventBus* events)
      : options_(std::move(options)), events_(events), log_(GetLogger("platform")) {}

  NdctlPlatform(const NdctlPlatform&) = delete;
  NdctlPlatform& operator=(const NdctlPlatform&) = delete;

  std::string_view Kind() const override { return "ndctl"; }

  Result<Inventory> List() override {
    std::lock_guard lock(mu_);
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    PMEMD_ASSIGN_OR_RETURN(Inventory inv, Snapshot(ctx.get(), options_.sysfs_root).Take());
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
    log_->debug(
        "listed {} buses, {} dimms, {} regions, {} namespaces, {} dax devices, {} memory "
        "blocks in {} us",
        inv.buses.size(), inv.dimms.size(), inv.regions.size(), inv.namespaces.size(),
        inv.dax_devices.size(), inv.memory_blocks.size(), us);
    return inv;
  }

  Result<NamespacePlan> PlanCreateNamespace(const NamespaceSpec& spec) override {
    std::lock_guard lock(ops_mu_);
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    return nsplan::PlanCreate(GatherFacts(ctx.get()), spec);
  }

  Result<Namespace> CreateNamespace(const NamespaceSpec& spec) override {
    std::lock_guard lock(ops_mu_);
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    PMEMD_ASSIGN_OR_RETURN(NamespacePlan plan, nsplan::PlanCreate(GatherFacts(ctx.get()), spec));
    ndctl_region* region = FindRegionObj(ctx.get(), plan.region);
    ndctl_namespace* ndns = FindNamespaceObj(ctx.get(), plan.dev);
    if (!region || !ndns) return Status::Unavailable(plan.dev + " disappeared while planning; retry");
    unsigned char uu[16];
    if (!nsplan::ParseUuid(plan.uuid, uu)) return Status::Internal("planned uuid " + plan.uuid + " is malformed");
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
    std::lock_guard lock(ops_mu_);
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
    std::lock_guard lock(ops_mu_);
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    return nsplan::PlanReconfigure(GatherFacts(ctx.get()), dev, spec);
  }

  Result<Namespace> ReconfigureNamespace(const std::string& dev, const NamespaceSpec& spec) override {
    std::lock_guard lock(ops_mu_);
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
      if (!nsplan::ParseUuid(plan.uuid, uu)) return Status::Internal("planned uuid " + plan.uuid + " is malformed");
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
                                      bool movable) override {
    if (mode != "system-ram" && mode != "devdax")
      return Status::InvalidArgument("mode '" + mode + "' is unknown; use system-ram or devdax");
    std::lock_guard lock(ops_mu_);
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
    PMEMD_ASSIGN_OR_RETURN(daxctl_dev * dev, FindDax(ctx.get(), chardev));
    std::string current = daxctl_dev_get_memory(dev) ? "system-ram" : "devdax";
    if (current == mode) return FreshDax(chardev);  // already there: nothing to do
    uint64_t block_size = 0;
    std::string policy;
    if (mode == "system-ram") {
      PMEMD_RETURN_IF_ERROR(DaxBlocks(dev, options_.sysfs_root, &block_size, &policy).status());
      if (WholeBlocks(daxctl_dev_get_resource(dev), daxctl_dev_get_size(dev), block_size) == 0)
        return Status::FailedPrecondition(chardev + " holds no whole, aligned memory block of " +
                                          std::to_string(block_size) +
                                          " bytes; create a devdax namespace of at least 1 GiB");
      if (int rc = daxctl_dev_disable(dev); rc < 0)
        return Status(Code::kBusy, "cannot reconfigure " + chardev + ": disabling it failed (" + Errno(rc) +
                                       "); close what maps it, then retry", -rc);
      if (int rc = daxctl_dev_enable_ram(dev); rc < 0) {
        int back = daxctl_dev_enable_devdax(dev);
        return Status(Code::kIoError, "cannot reconfigure " + chardev + " to system-ram: binding kmem failed (" +
                                          Errno(rc) + "); it is " + (back < 0 ? "disabled" : "devdax again") +
                                          "; the kernel log (dmesg) says why", -rc);
      }
      PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, DaxBlocks(dev, options_.sysfs_root, nullptr, nullptr));
      size_t already = 0;
      for (const auto& b : blocks) already += b.state == "online";
      if (already > 0) {
        // The kernel's auto-online policy (or a udev rule) got there first:
        // pmemd works with it rather than offlining and onlining again.
        log_->info("{}: the kernel onlined {} of {} blocks itself (auto_online_blocks={}){}", chardev, already,
                   blocks.size(), policy,
                   online ? "" : "; left online as the policy wants, despite --no-online");
      }
      Status online_status;
      if (online) {
        MemoryOpResult r = OnlineBlocks(chardev, blocks, movable, Writer(), nullptr);
        for (const auto& b : r.blocks)
          if (!b.status.ok() && online_status.ok()) online_status = b.status;
        PMEMD_ASSIGN_OR_RETURN(blocks, DaxBlocks(dev, options_.sysfs_root, nullptr, nullptr));
      }
      // One event per block with where it ended, as the emulated platform.
      Publish("dax_device", chardev, "devdax", "system-ram", {{"blocks", blocks.size()}});
      for (const auto& b : blocks)
        Publish("memory_block", "memory" + std::to_string(b.id), "", b.state,
                {{"dax_device", chardev}, {"movable", b.state == "online" ? b.zone == "Movable" : movable}});
      if (!online_status.ok())
        return online_status.Annotate(chardev + " is system-ram but its memory could not be onlined (run "
                                      "online-memory " + chardev + " to retry)");
      log_->info("{}: devdax -> system-ram ({} blocks, {}) in {} ms", chardev, blocks.size(),
                 online ? (movable ? "online movable" : "online") : "not onlined", MsSince(t0));
    } else {
      PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, DaxBlocks(dev, options_.sysfs_root, nullptr, nullptr));
      std::vector<MemoryBlock> on;
      for (const auto& b : blocks)
        if (b.state != "offline") on.push_back(b);
      if (!on.empty())
        return Status::Busy(chardev + " has online memory blocks (" + JoinIds(on) + "); run offline-memory " +
                            chardev + " first");
      if (int rc = daxctl_dev_disable(dev); rc < 0)
        return Status(Code::kBusy, "cannot reconfigure " + chardev + " to devdax: removing its memory failed (" +
                                       Errno(rc) + "); the kernel log (dmesg) says why", -rc);
      if (int rc = daxctl_dev_enable_devdax(dev); rc < 0)
        return Status(Code::kIoError, "cannot reconfigure " + chardev + " to devdax: binding device_dax failed (" +
                                          Errno(rc) + "); it is disabled now, retry reconfigure-device", -rc);
      for (const auto& b : blocks) Publish("memory_block", "memory" + std::to_string(b.id), "offline", "", {});
      Publish("dax_device", chardev, "system-ram", "devdax", {});
      log_->info("{}: system-ram -> devdax ({} blocks removed) in {} ms", chardev, blocks.size(), MsSince(t0));
    }
    return FreshDax(chardev);
  }

  // Block walks take no platform-wide lock: they touch only their device's
  // blocks (the owner serializes changes per region) and each reads on a
  // fresh context, so a walk that takes its whole deadline holds up no other
  // region's change.
  Result<MemoryOpResult> OnlineMemory(const std::string& chardev, bool movable) override {
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, SystemRamBlocks(chardev));
    MemoryOpResult r = OnlineBlocks(chardev, blocks, movable, Writer(), Transition(chardev, movable));
    LogMemoryOp("online", r, t0);
    return r;
  }

  Result<MemoryOpResult> OfflineMemory(const std::string& chardev) override {
    auto t0 = std::chrono::steady_clock::now();
    PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, SystemRamBlocks(chardev));
    MemoryOpResult r = OfflineBlocks(chardev, blocks, Writer(), Transition(chardev, std::nullopt));
    LogMemoryOp("offline", r, t0);
    return r;
  }

 private:
  Status SetEnabled(const std::string& dev, bool enable) {
    std::lock_guard lock(ops_mu_);
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
    PMEMD_ASSIGN_OR_RETURN(Inventory inv, List());
    for (auto& n : inv.namespaces)
      if (n.dev == dev) return std::move(n);
    return Status::Internal(dev + " was configured but the kernel does not list it; see the kernel log (dmesg)");
  }

  Result<DaxDevice> FreshDax(const std::string& chardev) {
    PMEMD_ASSIGN_OR_RETURN(Inventory inv, List());
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
    if (!events_) return;
    events_->Publish({.kind = kind, .object = object, .from = from, .to = to, .detail = std::move(detail)});
  }

  const NdctlPlatformOptions options_;
  EventBus* const events_;
  std::shared_ptr<spdlog::logger> log_;
  // Serializes walks: libndctl contexts are single-threaded and DIMM
  // firmware commands should not be issued concurrently.
  std::mutex mu_;
  // Serializes changes (and their plans), each on its own fresh context;
  // List() is not held up by a change, only sees it before or after a step.
  std::mutex ops_mu_;
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
