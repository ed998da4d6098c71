// The kernel's namespace rules as pure functions, shared by the emulated
// platform (which enforces them) and the ndctl platform (which plans with
// them before touching sysfs, so that --dry-run gives exact sizes).
//
// Sources: drivers/nvdimm/pfn_devs.c (nd_pfn_init: the info block and the
// struct page reservation for map=dev), drivers/nvdimm/btt.c (arena
// layout), and ndctl's create-namespace validation (ndctl/namespace.c).
// docs/namespaces.md states the rules; tests/vm/README.md lists what was
// checked against a real kernel, and lib/platform/testdata/kernel_sizes_*
// holds the sizes it gave.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kPfnInfoSize = 8192;      // SZ_8K before the memmap
inline constexpr uint64_t kStructPageSize = 64;     // MAX_STRUCT_PAGE_SIZE
inline constexpr uint64_t kDefaultNamespaceAlign = 2ull << 20;
// The data of a fsdax/devdax namespace starts on a multiple of
// max(align, memremap_compat_align()); that is SUBSECTION_SIZE, 2 MiB, on
// x86-64, so a 4 KiB alignment reserves as much as 2 MiB does (measured:
// lib/platform/testdata/kernel_sizes_*.json).
inline constexpr uint64_t kMemremapCompatAlign = 2ull << 20;

// Fills the defaults ndctl uses and checks the combination: mode is known,
// map only for fsdax/devdax, align one of 4 KiB / 2 MiB / 1 GiB and only
// for fsdax/devdax, sector size 512 or 4096 (sector mode: 512, 520, 528,
// 4096, 4104, 4160, 4224), name at most 63 bytes, uuid well formed.
Status NormalizeSpec(NamespaceSpec* spec);

// Bytes at the start of a fsdax/devdax namespace of raw_size that the pfn
// info block and (map=dev) the struct page array take, rounded up to align
// (at least kMemremapCompatAlign).
uint64_t PfnReservation(uint64_t raw_size, uint64_t align, const std::string& map);

// Usable bytes of a BTT (sector mode) over raw_size with sector_size.
uint64_t BttUsableSize(uint64_t raw_size, uint32_t sector_size);

// The usable size a namespace of this mode would report.
uint64_t UsableSize(const NamespaceSpec& spec, uint64_t raw_size);

// Picks the extent for a new namespace: the first free extent (in address
// order) that holds `size` bytes starting at a physical address that is a
// multiple of `start_align`. With no size, the largest such piece
// (rounded down to `size_align`). Extents are (offset, length) within the
// region; region_phys is the region's physical start address.
struct ExtentChoice {
  uint64_t offset = 0;
  uint64_t size = 0;
};
Result<ExtentChoice> ChooseExtent(const std::vector<std::pair<uint64_t, uint64_t>>& free_extents,
                                  uint64_t region_phys, std::optional<uint64_t> size,
                                  uint64_t size_align, uint64_t start_align, const std::string& region);

}  // namespace pmemd
