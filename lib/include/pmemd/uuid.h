// UUIDs: the one formatter, parser and generator (ndctl's util/json.c
// habit), for pool headers, namespace labels and the JSON the daemon answers
// with. Text is lower-case 8-4-4-4-12 hex, as the kernel and ndctl print it.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pmemd {

std::string FormatUuid(const uint8_t uuid[16]);

// 36 characters of 8-4-4-4-12 hex digits (either case).
bool IsUuid(std::string_view text);

// Fills `out` and returns true for IsUuid text; leaves it alone otherwise.
bool ParseUuid(std::string_view text, uint8_t out[16]);

// A random (version 4, RFC 4122) uuid from libuuid's uuid_generate_random,
// which reads the kernel's random source. These two are in the target
// pmemd_uuidgen (uuid_generate.cc), which links libuuid: the layers that
// make uuids (platform, pool) link it; pmemctl, which only prints them,
// does not.
void GenerateUuid(uint8_t out[16]);
std::string NewUuid();  // FormatUuid of a GenerateUuid

}  // namespace pmemd
