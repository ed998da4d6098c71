#include "memmap/store.h"

#include <atomic>
#include <cstring>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pmemd {
namespace memmap_internal {
namespace {

// Stores through this type may alias the descriptors' int32 fields.
using AliasU64 = std::uint64_t __attribute__((may_alias));

// --- Portable: plain 64-bit stores ----------------------------------------

void FillDescPortable(void* dst, std::uint64_t count, const std::uint64_t first[8]) {
  AliasU64* w = static_cast<AliasU64*>(dst);
  const std::uint64_t w0 = first[0], w1 = first[1], w2 = first[2], w3 = first[3];
  const std::uint64_t w5 = first[5], w6 = first[6];
  std::uint64_t index = first[kIndexWord], pfn = first[kPfnWord];
  for (std::uint64_t i = 0; i < count; ++i, w += 8) {
    w[0] = w0;
    w[1] = w1;
    w[2] = w2;
    w[3] = w3;
    w[4] = index++;
    w[5] = w5;
    w[6] = w6;
    w[7] = pfn++;
  }
}

void FillPatternPortable(void* dst, std::uint64_t lines, std::uint64_t pattern) {
  AliasU64* w = static_cast<AliasU64*>(dst);
  for (std::uint64_t i = 0; i < lines * 8; ++i) w[i] = pattern;
}

void FenceNone() {
  // Plain stores are ordered by x86-TSO and by the callers' release
  // operations everywhere else; nothing to drain.
}

#if defined(__x86_64__)

// --- SSE2: 4 x 128-bit movntdq per descriptor ------------------------------

__attribute__((target("sse2"))) void FillDescSse2(void* dst, std::uint64_t count,
                                                   const std::uint64_t first[8]) {
  __m128i* p = static_cast<__m128i*>(dst);
  const __m128i a = _mm_set_epi64x(static_cast<long long>(first[1]), static_cast<long long>(first[0]));
  const __m128i b = _mm_set_epi64x(static_cast<long long>(first[3]), static_cast<long long>(first[2]));
  __m128i c = _mm_set_epi64x(static_cast<long long>(first[5]), static_cast<long long>(first[4]));
  __m128i d = _mm_set_epi64x(static_cast<long long>(first[7]), static_cast<long long>(first[6]));
  const __m128i inc_c = _mm_set_epi64x(0, 1);  // index (low lane)
  const __m128i inc_d = _mm_set_epi64x(1, 0);  // pfn (high lane)
  for (std::uint64_t i = 0; i < count; ++i, p += 4) {
    _mm_stream_si128(p, a);
    _mm_stream_si128(p + 1, b);
    _mm_stream_si128(p + 2, c);
    _mm_stream_si128(p + 3, d);
    c = _mm_add_epi64(c, inc_c);
    d = _mm_add_epi64(d, inc_d);
  }
}

__attribute__((target("sse2"))) void FillPatternSse2(void* dst, std::uint64_t lines,
                                                      std::uint64_t pattern) {
  __m128i* p = static_cast<__m128i*>(dst);
  const __m128i v = _mm_set1_epi64x(static_cast<long long>(pattern));
  for (std::uint64_t i = 0; i < lines; ++i, p += 4) {
    _mm_stream_si128(p, v);
    _mm_stream_si128(p + 1, v);
    _mm_stream_si128(p + 2, v);
    _mm_stream_si128(p + 3, v);
  }
}

__attribute__((target("sse2"))) void FenceSfence() { _mm_sfence(); }

// --- AVX2: 2 x 256-bit vmovntdq per descriptor ------------------------------

__attribute__((target("avx2"))) void FillDescAvx2(void* dst, std::uint64_t count,
                                                   const std::uint64_t first[8]) {
  __m256i* p = static_cast<__m256i*>(dst);
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(first));
  __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(first + 4));
  const __m256i inc = _mm256_set_epi64x(1, 0, 0, 1);  // pfn (lane 3), index (lane 0)
  for (std::uint64_t i = 0; i < count; ++i, p += 2) {
    _mm256_stream_si256(p, lo);
    _mm256_stream_si256(p + 1, hi);
    hi = _mm256_add_epi64(hi, inc);
  }
}

__attribute__((target("avx2"))) void FillPatternAvx2(void* dst, std::uint64_t lines,
                                                      std::uint64_t pattern) {
  __m256i* p = static_cast<__m256i*>(dst);
  const __m256i v = _mm256_set1_epi64x(static_cast<long long>(pattern));
  for (std::uint64_t i = 0; i < lines; ++i, p += 2) {
    _mm256_stream_si256(p, v);
    _mm256_stream_si256(p + 1, v);
  }
}

// --- AVX-512: 1 x 512-bit vmovntdq per descriptor ----------------------------

__attribute__((target("avx512f"))) void FillDescAvx512(void* dst, std::uint64_t count,
                                                        const std::uint64_t first[8]) {
  __m512i* p = static_cast<__m512i*>(dst);
  __m512i v = _mm512_loadu_si512(first);
  const __m512i inc = _mm512_set_epi64(1, 0, 0, 1, 0, 0, 0, 0);  // lanes 7 (pfn), 4 (index)
  for (std::uint64_t i = 0; i < count; ++i, ++p) {
    _mm512_stream_si512(p, v);
    v = _mm512_add_epi64(v, inc);
  }
}

__attribute__((target("avx512f"))) void FillPatternAvx512(void* dst, std::uint64_t lines,
                                                          std::uint64_t pattern) {
  __m512i* p = static_cast<__m512i*>(dst);
  const __m512i v = _mm512_set1_epi64(static_cast<long long>(pattern));
  for (std::uint64_t i = 0; i < lines; ++i, ++p) _mm512_stream_si512(p, v);
}

#endif  // __x86_64__

constexpr StoreOps kPortableOps{StoreWidth::kPortable, false, FillDescPortable,
                                FillPatternPortable, FenceNone};
#if defined(__x86_64__)
constexpr StoreOps kSse2Ops{StoreWidth::kSse2, true, FillDescSse2, FillPatternSse2, FenceSfence};
constexpr StoreOps kAvx2Ops{StoreWidth::kAvx2, true, FillDescAvx2, FillPatternAvx2, FenceSfence};
constexpr StoreOps kAvx512Ops{StoreWidth::kAvx512, true, FillDescAvx512, FillPatternAvx512,
                              FenceSfence};
#endif

}  // namespace

const StoreOps& GetStoreOps(StoreWidth width) {
#if defined(__x86_64__)
  switch (width) {
    case StoreWidth::kSse2: return kSse2Ops;
    case StoreWidth::kAvx2: return kAvx2Ops;
    case StoreWidth::kAvx512: return kAvx512Ops;
    case StoreWidth::kAuto:
    case StoreWidth::kPortable: break;
  }
#else
  (void)width;
#endif
  return kPortableOps;
}

}  // namespace memmap_internal

namespace {
constexpr StoreWidth kAllWidths[] = {StoreWidth::kAuto, StoreWidth::kPortable, StoreWidth::kSse2,
                                     StoreWidth::kAvx2, StoreWidth::kAvx512};
}

std::string_view StoreWidthName(StoreWidth width) {
  switch (width) {
    case StoreWidth::kAuto: return "auto";
    case StoreWidth::kPortable: return "portable";
    case StoreWidth::kSse2: return "sse2";
    case StoreWidth::kAvx2: return "avx2";
    case StoreWidth::kAvx512: return "avx512";
  }
  return "unknown";
}

Result<StoreWidth> ParseStoreWidth(std::string_view name) {
  std::string known;
  for (StoreWidth w : kAllWidths) {
    if (StoreWidthName(w) == name) return w;
    if (!known.empty()) known += ", ";
    known += StoreWidthName(w);
  }
  return Status::InvalidArgument("unknown store width '" + std::string(name) +
                                 "'; expected one of: " + known);
}

bool StoreWidthSupported(StoreWidth width) {
  switch (width) {
    case StoreWidth::kAuto:
    case StoreWidth::kPortable: return true;
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the register state
    // (XCR0), so a kernel without AVX-512 support reports it unsupported.
    case StoreWidth::kSse2: return __builtin_cpu_supports("sse2");
    case StoreWidth::kAvx2: return __builtin_cpu_supports("avx2");
    case StoreWidth::kAvx512: return __builtin_cpu_supports("avx512f");
#else
    default: return false;
#endif
  }
  return false;
}

StoreWidth DetectStoreWidth() {
  static const StoreWidth detected = [] {
    for (StoreWidth w : {StoreWidth::kAvx512, StoreWidth::kAvx2, StoreWidth::kSse2}) {
      if (StoreWidthSupported(w)) return w;
    }
    return StoreWidth::kPortable;
  }();
  return detected;
}

Result<StoreWidth> ResolveStoreWidth(StoreWidth width) {
  if (width == StoreWidth::kAuto) return DetectStoreWidth();
  if (StoreWidthSupported(width)) return width;
  std::string supported;
  for (StoreWidth w : kAllWidths) {
    if (!StoreWidthSupported(w)) continue;
    if (!supported.empty()) supported += ", ";
    supported += StoreWidthName(w);
  }
  return Status::InvalidArgument("store width '" + std::string(StoreWidthName(width)) +
                                 "' is not supported by this CPU; supported: " + supported);
}

Status StreamFill(void* dst, std::size_t bytes, std::uint64_t pattern, StoreWidth width) {
  if (reinterpret_cast<std::uintptr_t>(dst) % 64 != 0 || bytes % 64 != 0) {
    return Status::InvalidArgument("StreamFill needs a 64-byte aligned address and a multiple of "
                                   "64 bytes; got address " +
                                   std::to_string(reinterpret_cast<std::uintptr_t>(dst)) +
                                   " and " + std::to_string(bytes) + " bytes");
  }
  PMEMD_ASSIGN_OR_RETURN(StoreWidth resolved, ResolveStoreWidth(width));
  const auto& ops = memmap_internal::GetStoreOps(resolved);
  ops.fill_pattern(dst, bytes / 64, pattern);
  ops.fence();
  return Status::Ok();
}

}  // namespace pmemd
