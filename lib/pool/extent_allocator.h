// ExtentAllocator: the free space of a pool as address-ordered extents.
//
// Why not a buddy allocator: leases have exact sizes (any multiple of their
// alignment), and a buddy allocator rounds every request up to a power of
// two, or needs alloc_pages_exact-style splitting and re-merging. Free
// extents kept coalesced in an ordered map give exact allocations with
// alignment, best fit (the smallest extent that holds the aligned request,
// lowest address on ties), O(log n) frees with coalescing and O(n) searches
// over the n free extents, which stay few because frees coalesce. The
// per-page truth (free, leased, offline, poisoned) stays in the MemMap.
//
// Thread safety: none; the pool's lock protects it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace pmemd {

struct Extent {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const Extent&) const = default;
};

class ExtentAllocator {
 public:
  // Adds [offset, offset+length) to the free space, merging with free
  // neighbours. False (and nothing changes) if any of it is already free.
  bool Free(uint64_t offset, uint64_t length);
  // The lowest offset of the best-fitting free extent that holds `length`
  // bytes at a multiple of `align`, taken from the free space; nullopt when
  // none does.
  std::optional<uint64_t> Allocate(uint64_t length, uint64_t align);
  // Takes [offset, offset+length) out of the free space; false (nothing
  // changes) unless all of it is free.
  bool Take(uint64_t offset, uint64_t length);
  // Takes every free byte in [offset, offset+length) out and returns what it
  // took (isolating a block before it goes offline).
  std::vector<Extent> Isolate(uint64_t offset, uint64_t length);

  uint64_t free_bytes() const { return free_bytes_; }
  // The largest allocation of that alignment possible now (a multiple of align).
  uint64_t MaxExtent(uint64_t align) const;
  // Bytes allocatable in leases of that alignment (sum over extents).
  uint64_t Available(uint64_t align) const;
  std::vector<Extent> Extents() const;
  size_t extent_count() const { return free_.size(); }

 private:
  std::map<uint64_t, uint64_t> free_;  // offset -> length, disjoint, never adjacent
  uint64_t free_bytes_ = 0;
};

}  // namespace pmemd
