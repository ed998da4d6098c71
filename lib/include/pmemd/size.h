// Sizes: parsed as people write them ("4096", "2M", "8G", "1GiB"), printed
// back exactly (FormatSize) or for reading (HumanSize), and aligned. The one
// place for them (ndctl's util/size.c), so that a size means and reads the
// same in the daemon's configuration, its messages, pmemctl and the benches.
// The model keeps raw byte counts; these are for the edges.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pmemd/status.h"

namespace pmemd {

// "1G" -> 1073741824; K, M, G, T (powers of 1024, as ndctl), optional
// "iB"/"B"; plain digits are bytes. Anything else (fractions, signs, other
// suffixes, overflow) is kInvalidArgument saying what a size looks like.
Result<uint64_t> ParseSize(const std::string& text);

// "4096" -> 4096: plain decimal digits only (no sign, space or suffix), at
// most `max`; nullopt otherwise. For counts and ids (a uid, a sequence
// number, seconds), and the digits of a size.
std::optional<uint64_t> ParseDecimal(std::string_view text, uint64_t max = UINT64_MAX);

// The exact inverse of ParseSize, for messages that quote a size the user
// could type back: the largest of K, M, G, T that divides it ("2M", "4K",
// "1536M"), plain digits otherwise ("4097").
std::string FormatSize(uint64_t bytes);

// For tables: "512 B", "16.00 MiB", "1.50 GiB" (binary units, two decimals,
// rounded; not exact).
std::string HumanSize(uint64_t bytes);

// `align` must be a non-zero; a power of two is not required.
inline constexpr uint64_t AlignUp(uint64_t v, uint64_t align) { return (v + align - 1) / align * align; }
inline constexpr uint64_t AlignDown(uint64_t v, uint64_t align) { return v / align * align; }
inline constexpr bool IsPow2(uint64_t v) { return v && !(v & (v - 1)); }

}  // namespace pmemd
