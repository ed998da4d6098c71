// Sizes as people write them: "4096", "2M", "8G", "1GiB". The one parser
// for the daemon's configuration and pmemctl's flags, so that a size means
// the same wherever it is given.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "pmemd/status.h"

namespace pmemd {

// "1G" -> 1073741824; K, M, G, T (powers of 1024, as ndctl), optional
// "iB"/"B"; plain digits are bytes. Anything else (fractions, signs, other
// suffixes, overflow) is kInvalidArgument saying what a size looks like.
Result<uint64_t> ParseSize(const std::string& text);

}  // namespace pmemd
