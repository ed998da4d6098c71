#include "validate.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <iterator>

#include "pmemd/json_reader.h"
#include "pmemd/pool.h"

namespace pmemd::pool_format {

namespace {

bool ValidName(std::string_view n, bool allow_colon) {
  if (n.empty() || n.size() > 63) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || (allow_colon && c == ':')))
      return false;
  return true;
}

std::string N(uint64_t v) { return std::to_string(v); }

}  // namespace

std::optional<uint64_t> CheckedAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

bool RangeInside(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

bool ValidPoolName(std::string_view name) { return ValidName(name, false); }
bool ValidLeaseName(std::string_view name) { return ValidName(name, true); }

bool ValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (p[i + k] & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

Result<std::map<std::string, std::string>> ParseLabels(std::string_view text) {
  auto j = ParseJson(text, 2);  // ParseJson never throws; it also rejects ill-formed UTF-8
  if (!j.ok()) return Status::InvalidArgument("labels are not JSON (" + j.status().message() + ")");
  if (!j->is_object()) return Status::InvalidArgument("labels are not a JSON object");
  std::map<std::string, std::string> labels;
  for (const auto& [k, v] : j->items()) {
    if (!v.is_string()) return Status::InvalidArgument("label values must be strings");
    labels[k] = v.get_ref<const std::string&>();
  }
  return labels;
}

Result<std::string> HeaderName(const Header& h, const std::string& where) {
  std::string name(h.name, strnlen(h.name, sizeof h.name));
  if (!ValidPoolName(name))
    return Status::Corruption(where + ": the pool name in the header (" + N(name.size()) +
                              " bytes) is not 1 to 63 characters of A-Z a-z 0-9 . _ -; the pool is damaged or "
                              "was not written by pmemd");
  return name;
}

Status CheckHeaderGeometry(const Header& h, uint64_t backing_size, const std::string& where) {
  auto bad = [&](const std::string& what) {
    return Status::Corruption(where + ": pool header is inconsistent (" + what + ")");
  };
  // The free parameters first, each within what Format writes, so that
  // the geometry computed from them cannot overflow.
  if (h.pool_size > backing_size)
    return bad("pool size " + N(h.pool_size) + " is larger than the " + N(backing_size) + " bytes behind it");
  if (h.pool_size == 0 || h.pool_size % kPoolPageSize)
    return bad("pool size " + N(h.pool_size) + " is not a non-zero multiple of " + N(kPoolPageSize));
  if (!IsPow2(h.block_size) || h.block_size < kPoolMinBlockSize || h.block_size > h.pool_size)
    return bad("block size " + N(h.block_size) + " is not a power of two between " + N(kPoolMinBlockSize) +
               " and the pool size " + N(h.pool_size));
  if (h.lease_slot_size != kLeaseSlotSize)
    return bad("slot size " + N(h.lease_slot_size) + " is not " + N(kLeaseSlotSize));
  if (h.checkpoint_offset != kCheckpointOffset)
    return bad("checkpoint offset " + N(h.checkpoint_offset) + " is not " + N(kCheckpointOffset));
  if (h.lease_slots == 0 || h.lease_slots > kMaxLeaseSlots)
    return bad("lease_slots " + N(h.lease_slots) + " is not between 1 and " + N(kMaxLeaseSlots));
  if (h.log_size < kMinLogSize || h.log_size > kMaxLogSize || h.log_size % 4096)
    return bad("log_size " + N(h.log_size) + " is not a multiple of 4096 between " + N(kMinLogSize) + " and " +
               N(kMaxLogSize));
  // pool_size <= backing_size < 2^64 and the rest are bounded above: no
  // term of the geometry can wrap.
  if (h.owner_flags & ~(kOwnerUid | kOwnerGid))
    return bad("owner flags " + N(h.owner_flags) + " has bits other than uid (1) and gid (2)");
  if (h.memmap_mode != kMemmapMem && h.memmap_mode != kMemmapDev)
    return bad("memmap mode " + N(h.memmap_mode) + " is neither mem (0) nor dev (1)");
  if (h.format_version < 2 && h.memmap_mode != kMemmapMem)
    return bad("a version-1 pool has memmap mode " + N(h.memmap_mode) + "; version 1 has no memmap area");
  const Geometry g =
      ComputeGeometry(h.pool_size, h.block_size, h.lease_slots, h.log_size, h.memmap_mode == kMemmapDev);
  auto differs = [&](const char* field, uint64_t got, uint64_t want) {
    return bad("geometry: " + std::string(field) + " is " + N(got) + ", but the sizes imply " + N(want));
  };
  if (h.block_table_offset != g.block_table_offset)
    return differs("block_table_offset", h.block_table_offset, g.block_table_offset);
  if (h.lease_table_offset != g.lease_table_offset)
    return differs("lease_table_offset", h.lease_table_offset, g.lease_table_offset);
  if (h.log_offset != g.log_offset) return differs("log_offset", h.log_offset, g.log_offset);
  if (h.memmap_offset != g.memmap_offset) return differs("memmap_offset", h.memmap_offset, g.memmap_offset);
  if (h.memmap_size != g.memmap_size) return differs("memmap_size", h.memmap_size, g.memmap_size);
  if (h.data_offset != g.data_offset) return differs("data_offset", h.data_offset, g.data_offset);
  if (h.block_count != g.block_count) return differs("block_count", h.block_count, g.block_count);
  if (h.block_count == 0) return bad("geometry: no block fits after the metadata");
  return Status::Ok();
}

Status CheckLeaseSlot(const LeaseSlot& s, const Header& h, uint64_t seq) {
  auto bad = [](const std::string& what) { return Status::Corruption(what); };
  if (s.name_len > 63) return bad("has a name length of " + N(s.name_len) + " bytes (at most 63)");
  const std::string_view name(s.name, s.name_len);
  if (!ValidLeaseName(name)) return bad("has a name that is not 1 to 63 characters of A-Z a-z 0-9 . _ - :");
  const std::string quoted = "(lease '" + std::string(name) + "') ";
  if (s.owner_len > 63) return bad(quoted + "has an owner length of " + N(s.owner_len) + " bytes (at most 63)");
  if (!ValidUtf8(std::string_view(s.owner, s.owner_len))) return bad(quoted + "has an owner that is not UTF-8");
  if (s.labels_len > sizeof s.labels)
    return bad(quoted + "has a labels length of " + N(s.labels_len) + " bytes (at most " + N(sizeof s.labels) + ")");
  if (s.labels_len) {
    auto labels = ParseLabels(std::string_view(s.labels, s.labels_len));
    if (!labels.ok()) return bad(quoted + "has labels that are not a JSON object of strings");
  }
  if (std::find(std::begin(kLeaseAlignments), std::end(kLeaseAlignments), s.align) == std::end(kLeaseAlignments))
    return bad(quoted + "has an impossible extent (alignment " + N(s.align) + ")");
  // h passed CheckHeaderGeometry: data_offset + block_count * block_size <= pool_size.
  const uint64_t data_end = h.data_offset + h.block_count * h.block_size;
  if (s.length == 0 || s.length % s.align || s.offset % s.align || s.offset < h.data_offset ||
      !RangeInside(s.offset, s.length, data_end))
    return bad(quoted + "has an impossible extent (offset " + N(s.offset) + ", length " + N(s.length) +
               "; the blocks are [" + N(h.data_offset) + ", " + N(data_end) + "))");
  // The id is the seq of the record that created the lease.
  if (s.id == 0 || s.id > seq)
    return bad(quoted + "has id " + N(s.id) + ", which no record up to the last one (" + N(seq) + ") created");
  return Status::Ok();
}

}  // namespace pmemd::pool_format
