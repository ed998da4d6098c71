// Test-only: the sizes Linux gives pmem namespaces, computed from first
// principles for tests to hold pmemd's rules (namespace_rules.cc) to. It is
// written from the kernel's code, never from pmemd's, and must not call
// anything in lib/; kernel_sizes_test.cc checks it against the sizes measured
// on a real kernel (testdata/kernel_sizes_*.json), so a test that uses it
// compares pmemd with the kernel, not with itself.
//
// Thread safety: pure functions over values.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

namespace pmemd::kernel_oracle {

inline constexpr uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;

// --- fsdax / devdax: drivers/nvdimm/pfn_devs.c, nd_pfn_init() (Linux 6.1) ---
// The namespace starts with SZ_8K bytes (a 4 KiB pad, then the 4 KiB pfn
// info block at offset SZ_4K); with map=dev (PFN_MODE_PMEM) the struct page
// array follows, MAX_STRUCT_PAGE_SIZE (64) bytes for each of
// npfns = PHYS_PFN(size - SZ_8K) pages; the data starts at the next physical
// address aligned to max(align, memremap_compat_align()), and the end is
// cut back to that alignment too (end_trunc).
inline constexpr uint64_t kPfnInfoArea = 8 * kKiB;   // SZ_8K
inline constexpr uint64_t kStructPage = 64;          // MAX_STRUCT_PAGE_SIZE
inline constexpr uint64_t kPage = 4 * kKiB;          // PAGE_SIZE, PHYS_PFN
// memremap_compat_align(): SUBSECTION_SIZE, 2 MiB on x86-64 (mm/memremap.c;
// only powerpc overrides it). The fixtures show it: 4K alignment gives the
// same sizes as 2M.
inline constexpr uint64_t kCompatAlign = 2 * kMiB;

inline uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
inline uint64_t RoundDown(uint64_t v, uint64_t a) { return v / a * a; }

// The usable bytes (the pfn/dax "size" attribute: size - offset - end_trunc)
// of a namespace of raw_size bytes at physical address phys_start, or
// nullopt when the kernel refuses it ("unable to satisfy requested
// alignment": the data offset reaches the end). Measured on 6.1: a 1G
// alignment whose data offset fits but whose end is cut back to it is
// accepted with 0 usable bytes.
inline std::optional<uint64_t> PfnUsable(uint64_t phys_start, uint64_t raw_size, uint64_t align, bool map_dev) {
  const uint64_t a = std::max(align, kCompatAlign);
  const uint64_t npfns = (raw_size - kPfnInfoArea) / kPage;
  const uint64_t meta = kPfnInfoArea + (map_dev ? kStructPage * npfns : 0);
  const uint64_t offset = RoundUp(phys_start + meta, a) - phys_start;
  const uint64_t end_trunc = phys_start + raw_size - RoundDown(phys_start + raw_size, a);
  if (offset >= raw_size) return std::nullopt;
  return raw_size - offset >= end_trunc ? raw_size - offset - end_trunc : 0;
}

// --- sector mode: drivers/nvdimm/btt.c, create_arenas() and alloc_arena() ---
// The BTT starts initial_offset bytes into the namespace (SZ_4K for a BTT
// v1.1, what both fixtures show: v1.1 labels and label-less namespaces) and
// is cut into arenas of at most ARENA_MAX_SIZE (512 GiB); a last piece below
// ARENA_MIN_SIZE (16 MiB) is left unused. In each arena, rounded down to
// BTT_PG_SIZE (4 KiB): two pages for the info block and its copy, the log
// (nfree = BTT_DEFAULT_NFREE = ND_MAX_LANES = 256 groups of LOG_GRP_SIZE =
// 64 bytes, rounded up to a page), and one more page kept out of the split
// between the map (MAP_ENT_SIZE = 4 bytes per block) and the data (the
// sector size rounded up to INT_LBASIZE_ALIGNMENT = 64). nfree of the
// blocks are spare; the rest are the arena's external LBAs, and the device
// size is all external LBAs times the sector size.
inline constexpr uint64_t kBttInitialOffset = 4 * kKiB;
inline constexpr uint64_t kBttPage = 4 * kKiB;
inline constexpr uint64_t kArenaMax = 512 * kGiB;
inline constexpr uint64_t kArenaMin = 16 * kMiB;
inline constexpr uint64_t kNfree = 256;
inline constexpr uint64_t kLogGroup = 64;
inline constexpr uint64_t kMapEntry = 4;
inline constexpr uint64_t kLbaAlign = 64;

inline uint64_t BttUsable(uint64_t raw_size, uint64_t sector_size) {
  uint64_t remaining = raw_size - kBttInitialOffset, lbas = 0;
  while (remaining) {
    const uint64_t arena = std::min(kArenaMax, remaining);
    remaining -= arena;
    if (arena < kArenaMin) break;
    const uint64_t available =
        RoundDown(arena, kBttPage) - 2 * kBttPage - RoundUp(kNfree * kLogGroup, kBttPage);
    const uint64_t internal = (available - kBttPage) / (RoundUp(sector_size, kLbaAlign) + kMapEntry);
    lbas += internal - kNfree;
  }
  return lbas * sector_size;
}

}  // namespace pmemd::kernel_oracle
