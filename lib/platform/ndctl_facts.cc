#include "platform/ndctl_facts.h"

// The kernel uapi header: ndctl/ndctl.h from libndctl-dev v76 needs ccan.
#include <linux/ndctl.h>

#include <climits>
#include <string>
#include <utility>

#include "platform/namespace_rules.h"
#include "platform/ndctl_lib.h"
#include "pmemd/uuid.h"

namespace pmemd::nd {

namespace {

using nsplan::Facts;
using nsplan::NamespaceFacts;
using nsplan::RegionFacts;

constexpr uint64_t kDefaultRegionAlign = 16ull << 20;
constexpr const char* kNullUuidText = "00000000-0000-0000-0000-000000000000";

std::string ModeName(enum ndctl_namespace_mode mode) {
  switch (mode) {
    case NDCTL_NS_MODE_FSDAX: return "fsdax";
    case NDCTL_NS_MODE_DEVDAX: return "devdax";
    case NDCTL_NS_MODE_SECTOR: return "sector";
    case NDCTL_NS_MODE_RAW: return "raw";
    default: return "";
  }
}

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


}  // namespace

ndctl_namespace* CreateSeed(ndctl_region* region) {
  ndctl_namespace* ndns;
  ndctl_namespace_foreach(region, ndns) {
    if (ndctl_namespace_get_id(ndns) == 0 && ndctl_namespace_is_configuration_idle(ndns) == 1) return ndns;
  }
  ndns = ndctl_region_get_namespace_seed(region);
  if (ndns && ndctl_namespace_is_configuration_idle(ndns) == 1) return ndns;
  return nullptr;
}


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


}  // namespace pmemd::nd
