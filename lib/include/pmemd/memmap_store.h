// Store widths for bulk writes of metadata: which instructions fill memory.
//
// pmemd writes large arrays (the memmap, see memmap.h) with non-temporal
// ("streaming") stores so that the data goes to memory without first reading
// every line into the cache. The widest store the CPU has is chosen once, by
// feature detection, when an object that writes is built; the portable
// fallback uses plain 64-bit stores and works everywhere.
//
// Thread safety: every function here is safe from any thread. StreamFill
// writes only the caller's range; two threads may fill disjoint ranges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pmemd/status.h"

namespace pmemd {

enum class StoreWidth {
  kAuto,      // the widest the CPU supports (DetectStoreWidth())
  kPortable,  // plain 64-bit stores, any CPU; not streaming
  kSse2,      // 128-bit movntdq
  kAvx2,      // 256-bit vmovntdq
  kAvx512,    // 512-bit vmovntdq (AVX-512F)
};

// "auto", "portable", "sse2", "avx2", "avx512".
std::string_view StoreWidthName(StoreWidth width);

// The inverse of StoreWidthName; an unknown name is an InvalidArgument that
// lists the known ones.
Result<StoreWidth> ParseStoreWidth(std::string_view name);

// The widest streaming store this CPU (and OS) supports; kPortable on CPUs
// other than x86-64. Never kAuto.
StoreWidth DetectStoreWidth();

// Whether `width` can run here (kAuto and kPortable always can).
bool StoreWidthSupported(StoreWidth width);

// Resolves kAuto to DetectStoreWidth(); an unsupported width is an
// InvalidArgument naming the widths this CPU supports.
Result<StoreWidth> ResolveStoreWidth(StoreWidth width);

// Fills [dst, dst + bytes) with the 8-byte `pattern` repeated, using
// streaming stores of the given width (plain stores for kPortable), and
// fences once at the end so that the data is ordered before any later store
// of this thread. dst must be 64-byte aligned and bytes a multiple of 64;
// anything else is an InvalidArgument. This is the write limit the memmap
// benchmark measures against.
Status StreamFill(void* dst, std::size_t bytes, std::uint64_t pattern,
                  StoreWidth width = StoreWidth::kAuto);

}  // namespace pmemd
