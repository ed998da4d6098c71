// What each state of a pool's pages looks like in its metadata array: the
// one place that sets descriptor bits, used both to change pages at run
// time and to render the whole array from the block and lease tables at
// attach (and to verify it against such a rendering).
//
// These functions touch nothing but the descriptors they are given: no
// allocation, no lock, no exception, so a pool may run them under its media
// guard (a dev pool's array is on the media, where an access can fault).
//
// A pool's descriptors change only under its exclusive lock, once
// initialized: no other thread writes them, readers hold the shared lock.
// So the plain, non-atomic forms are used, as the kernel's __SetPage* are
// under the zone lock; they make leasing 512 pages cost ~1 us instead of ~10.
//
// Thread safety: as above, the caller's lock.
#pragma once

#include <cstdint>

#include "pmemd/memmap.h"

namespace pmemd::pool_internal {

// The pool's own metadata pages: never in a block, Reserved like device
// pages the allocator does not manage.
inline void DescsReserve(PageDesc* d, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    d[i].ClearOfflineNonAtomic();
    d[i].SetReservedNonAtomic();
  }
}

// Onlining a block's n pages from pfn0: Offline cleared, refcount 0, free;
// a bad page (in the sorted [bad, bad_end)) stays Offline and gets HWPoison;
// a page already leased (rendering at attach) stays leased, poisoned when
// bad. Returns the pages poisoned that are not leased.
inline uint64_t DescsOnline(PageDesc* d, uint64_t pfn0, uint64_t n, const uint64_t* bad, const uint64_t* bad_end) {
  while (bad != bad_end && *bad < pfn0) ++bad;
  uint64_t poisoned = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const bool is_bad = bad != bad_end && *bad == pfn0 + i;
    if (is_bad) ++bad;
    if (d[i].IsLeased()) {
      if (is_bad) d[i].SetHWPoisonNonAtomic();
      continue;
    }
    if (is_bad) {
      d[i].SetHWPoisonNonAtomic();
      ++poisoned;
      continue;
    }
    d[i].ClearOfflineNonAtomic();
    d[i].SetRefCountNonAtomic(0);
    d[i].SetFreeNonAtomic();
  }
  return poisoned;
}

// Offlining a block's n pages (isolated and unleased): back to Offline with
// refcount 1; poisoned pages stay as they are.
inline void DescsOffline(PageDesc* d, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    if (d[i].IsHWPoison()) continue;
    d[i].ClearFreeNonAtomic();
    d[i].SetOfflineNonAtomic();
    d[i].SetRefCountNonAtomic(1);
  }
}

// n pages handed to lease `id` (the owner field), refcount 1.
inline void DescsLease(PageDesc* d, uint64_t n, uint64_t id) {
  for (uint64_t i = 0; i < n; ++i) {
    d[i].ClearFreeNonAtomic();
    d[i].ClearOfflineNonAtomic();
    d[i].SetLeasedNonAtomic();
    d[i].SetOwner(id);
    d[i].SetRefCountNonAtomic(1);
  }
}

// n pages given back by their lease: free, refcount 0.
inline void DescsUnlease(PageDesc* d, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    d[i].ClearLeasedNonAtomic();
    d[i].SetOwner(0);
    d[i].SetRefCountNonAtomic(0);
    d[i].SetFreeNonAtomic();
  }
}

}  // namespace pmemd::pool_internal
