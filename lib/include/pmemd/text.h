// Text that leaves pmemd: one rule for every string quoted in an error
// message, a log line or a reply.
//
// JSON replies must be valid UTF-8 (nlohmann::json refuses to serialize
// anything else, by throwing), and a request, a file name or bytes read
// from media may hold anything. So every string from outside that is quoted
// goes through Quote() or Excerpt(): invalid bytes become a visible "\xNN",
// truncation happens only at a character boundary, and the result is
// bounded. DumpJson() serializes a reply without ever throwing, as the last
// line of defence.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace pmemd {

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// The length of the well-formed UTF-8 sequence at the start of `s`, or 0
// when `s` is empty or does not start with one.
size_t Utf8SequenceLength(std::string_view s);

// `s` with each byte that is not part of a well-formed UTF-8 sequence
// written as the four characters \xNN; valid text is unchanged.
std::string ToValidUtf8(std::string_view s);

// ToValidUtf8(s), cut to at most `max_bytes` bytes at a character boundary
// and then ending in "...(N bytes)", N the length of `s`, when anything was
// cut. The result is at most max_bytes + 30 bytes.
std::string Excerpt(std::string_view s, size_t max_bytes = 64);

// Excerpt(s, max_bytes) between single quotes: 'name'.
std::string Quote(std::string_view s, size_t max_bytes = 64);

// j.dump() that never throws: invalid UTF-8 in a string (which the code
// above should have made impossible) is replaced by U+FFFD.
std::string DumpJson(const nlohmann::json& j, int indent = -1);

}  // namespace pmemd
