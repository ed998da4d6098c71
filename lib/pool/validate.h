// What a pool accepts from its media. The media are untrusted input (pmemd
// runs as root; a pool file may be truncated, damaged or crafted with good
// checksums), so every length, offset, count and string read from them is
// checked here, with overflow-safe arithmetic, before the pool uses it.
// Names, owners and labels follow the same rules as the API's.
//
// Every check returns a Status whose message says what was wrong without
// echoing the bad bytes (they may not be UTF-8, and messages go into JSON).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "format.h"
#include "pmemd/status.h"

namespace pmemd::pool_format {

// The bytes a backing needs before any header can be read: both header
// copies and the checkpoint page.
inline constexpr uint64_t kMinBackingSize = kBlockTableOffset;
// Bounds Format enforces, and so attach does.
inline constexpr uint64_t kMaxLeaseSlots = 1ull << 20;
inline constexpr uint64_t kMaxLogSize = 1ull << 30;
// A sequence number this large was never written (2^62 records at a
// million a second is 146,000 years), so it is a forgery or damage; the
// bound keeps seq + 1 and lease ids far from wrapping.
inline constexpr uint64_t kMaxSeq = 1ull << 62;

// a + b, or nullopt when it wraps.
std::optional<uint64_t> CheckedAdd(uint64_t a, uint64_t b);
// [off, off + len) lies inside [0, size), without overflow.
bool RangeInside(uint64_t off, uint64_t len, uint64_t size);

// 1..63 bytes of A-Z a-z 0-9 . _ -, plus ':' for leases: the API's rules.
bool ValidPoolName(std::string_view name);
bool ValidLeaseName(std::string_view name);
bool ValidUtf8(std::string_view s);
// Lease labels as stored: a JSON object whose values are all strings.
// Never throws; kInvalidArgument saying what is wrong.
Result<std::map<std::string, std::string>> ParseLabels(std::string_view text);

// The header's name (NUL padded), or kCorruption when the API would not
// accept it as a pool name.
Result<std::string> HeaderName(const Header& h, const std::string& where);
// The header's sizes and offsets against each other, the geometry they
// imply and `backing_size` (the bytes mapped). kCorruption naming the
// field.
Status CheckHeaderGeometry(const Header& h, uint64_t backing_size, const std::string& where);

// A slot in use (magic kLeaseMagic, checksum good) of a pool with header
// `h` whose last durable record is `seq`: lengths, name, owner, labels,
// alignment, extent inside the blocks, id. The message starts after
// "lease slot N " (e.g. "has a name length of 65535 bytes ...").
Status CheckLeaseSlot(const LeaseSlot& s, const Header& h, uint64_t seq);

}  // namespace pmemd::pool_format
