// UUIDs as text: the one formatter and parser (ndctl's util/json.c habit),
// for pool headers, namespace labels and the JSON the daemon answers with.
// Text is lower-case 8-4-4-4-12 hex, as the kernel and ndctl print it.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pmemd {

std::string FormatUuid(const uint8_t uuid[16]);

// Fills `out` and returns true for 36 characters of 8-4-4-4-12 hex digits
// (either case); leaves it alone otherwise. (IsUuid and NewUuid join these
// when lib/platform's copies move here.)
bool ParseUuid(std::string_view text, uint8_t out[16]);

}  // namespace pmemd
