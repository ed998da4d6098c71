// The namespace planner, one for both platforms: what the kernel will do
// with a create-namespace or reconfigure-namespace, computed from plain facts
// before anything is written. The ndctl platform gathers the facts from
// libndctl, the emulated platform from its label store; tests make them up.
// Both then plan, check uuids and refuse namespaces in use here, so the twin
// cannot drift from the real backend (docs/namespaces.md).
//
// The kernel's allocator (drivers/nvdimm/namespace_devs.c, scan_allocate)
// gives a new pmem namespace the first free extent of the region, in address
// order, that holds the whole size on a region-alignment (16 MiB) boundary;
// pmemd cannot steer it elsewhere. The pfn/dax info block then needs the
// namespace's data offset to be a multiple of the namespace alignment
// (nd_pfn_validate), which with 1 GiB alignment means a 1 GiB-aligned
// physical start. So a plan takes the kernel's first fit and fails when that
// extent cannot carry the alignment, rather than picking a later extent the
// kernel would never use. Sizes come from namespace_rules.h.
//
// Thread safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd::nsplan {

struct RegionFacts {
  std::string dev;          // "region0"
  std::string number;       // "0"
  uint64_t phys_start = 0;  // physical address of the region's first byte
  uint64_t size = 0;
  uint64_t align = 16ull << 20;  // namespace size and start granularity
  bool enabled = true;
  bool read_only = false;
  bool labels = true;       // label-based namespaces (false: memmap=, label-less NVDIMM)
  // Free label slots on the region's fullest DIMM (the kernel's
  // available_slots, which already keeps one slot back for updates).
  std::optional<uint64_t> free_label_slots;
  std::string full_dimm;    // the DIMM with no free slot, for the message
  std::string seed;         // the idle namespace a create configures; "" when none
  std::string io_namespace; // label-less: the region's one namespace
  // [offset, size) within the region of every namespace that has a size.
  std::vector<std::pair<uint64_t, uint64_t>> used;
  bool has_pfn_seed = true, has_dax_seed = true, has_btt_seed = true;
  std::vector<uint64_t> pfn_aligns;  // alignments the kernel supports; empty = unknown
  std::vector<uint64_t> dax_aligns;
  // As List() shows them (the kernel's figures on real pmem, RegionSpace()
  // on the emulated platform); error messages quote these and nothing else.
  uint64_t available_size = 0;
  uint64_t max_available_extent = 0;
};

struct NamespaceFacts {
  std::string dev;     // "namespace0.0"
  std::string region;  // "region0"
  std::string mode;    // as List() reports it
  uint64_t raw_size = 0;
  uint64_t offset = 0;  // within the region
  std::string raw_uuid;  // the label's uuid; "" for label-less namespaces
  // The pfn/dax/btt info block's uuid, List()'s `uuid`; "" when unclaimed.
  // The kernel refuses a label uuid equal to either (EINVAL).
  std::string uuid;
  std::string name;
  bool enabled = false;
  bool label_less = false;
  std::string system_ram;  // the chardev when it is onlined as system-ram
};

struct Facts {
  std::vector<RegionFacts> regions;
  std::vector<NamespaceFacts> namespaces;  // configured ones (non-zero size or active)
};

// Free [offset, length) extents of a region, in address order, as the
// kernel counts them: each trimmed to the region alignment, so the unusable
// tail of a region whose size is not a multiple of it is not free space.
std::vector<std::pair<uint64_t, uint64_t>> FreeExtents(const RegionFacts& r);

// The kernel's available_size (all free space) and max_available_extent
// (the largest free extent) of a region, from FreeExtents().
struct RegionSpace {
  uint64_t available_size = 0;
  uint64_t max_available_extent = 0;
};
RegionSpace ComputeRegionSpace(const RegionFacts& r);

// kAlreadyExists when `uuid` is the label uuid or the info-block uuid of a
// namespace other than except_dev.
Status CheckUuidFree(const Facts& f, const std::string& uuid, const std::string& except_dev);

// "region0" for "region0" or "0".
std::string RegionName(const std::string& region);

const RegionFacts* FindRegion(const Facts& f, const std::string& dev);
const NamespaceFacts* FindNamespace(const Facts& f, const std::string& dev);

Status UnknownRegion(const Facts& f, const std::string& name);
Status UnknownNamespace(const Facts& f, const std::string& dev);

// kBusy when the namespace's dax device is system-ram ("cannot <op> ...").
Status CheckNotInUse(const NamespaceFacts& n, const std::string& op);

Result<NamespacePlan> PlanCreate(const Facts& f, NamespaceSpec spec);

// Creates by name (pmemd/retry.h): when spec.name names an existing
// namespace, that namespace if the request (normalized, as PlanCreate
// would) matches it: region, mode, map, align, sector_size, size (its
// raw_size) and uuid (either of its uuids), each when given; already_exists
// naming every difference otherwise. nullopt when the name is empty or no
// namespace has it.
Result<std::optional<Namespace>> FindCreateRetry(const Inventory& inv, NamespaceSpec spec);
Result<NamespacePlan> PlanReconfigure(const Facts& f, const std::string& dev, NamespaceSpec spec);

// A series of changes planned over one set of facts, as if made in order:
// the namespaces in `released` are destroyed first (their extents and names
// freed), then each spec is planned as PlanCreate would and, when it fits,
// takes its extent (and a label slot), so the next one sees it. One result
// per spec, in order; a spec that fails takes nothing. Its `dev` is the seed
// of the moment, which the kernel replaces after each create: only the
// first is the name the namespace will get.
std::vector<Result<NamespacePlan>> PlanCreateSeries(Facts f, const std::vector<std::string>& released,
                                                    const std::vector<NamespaceSpec>& specs);

}  // namespace pmemd::nsplan
