// Store kernels behind memmap_store.h and the memmap's template copies.
//
// One table of function pointers per store width, chosen once when a MemMap
// (or a StreamFill call) resolves its width. The x86 kernels are compiled
// with target attributes, so the project needs no -march flags; the portable
// kernels are the `_none` twins every width falls back to.
//
// Thread safety: stateless functions; callers write disjoint ranges.
#pragma once

#include <cstdint>

#include "pmemd/memmap_store.h"

namespace pmemd::memmap_internal {

// Writes `count` 64-byte descriptors at dst (64-byte aligned). `first` holds
// the 8 words of the first one; word 4 (index) and word 7 (pfn) advance by
// one per descriptor, the others are copied unchanged.
using DescFillFn = void (*)(void* dst, std::uint64_t count, const std::uint64_t first[8]);
// Writes `lines` 64-byte lines of the repeated 8-byte pattern.
using PatternFillFn = void (*)(void* dst, std::uint64_t lines, std::uint64_t pattern);
// Orders this thread's streaming stores before its later stores (sfence).
using FenceFn = void (*)();

struct StoreOps {
  StoreWidth width;
  bool streaming;
  DescFillFn fill_desc;
  PatternFillFn fill_pattern;
  FenceFn fence;
};

// The kernels for a resolved width (not kAuto; must be supported).
const StoreOps& GetStoreOps(StoreWidth width);

// Index of the words of a descriptor that the template fill advances.
inline constexpr int kIndexWord = 4;
inline constexpr int kPfnWord = 7;

}  // namespace pmemd::memmap_internal
