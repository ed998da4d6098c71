#include "pmemd/text.h"

#include <nlohmann/json.hpp>

namespace pmemd {

size_t Utf8SequenceLength(std::string_view s) {
  if (s.empty()) return 0;
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range (RFC 3629, section 4)
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // no overlong forms
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || b(1) < lo || b(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i)
    if (b(i) < 0x80 || b(i) > 0xBF) return 0;
  return n;
}

bool IsValidUtf8(std::string_view s) {
  while (!s.empty()) {
    size_t n = Utf8SequenceLength(s);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

namespace {

// Appends ToValidUtf8(s) to `out` until `max_bytes` would be exceeded;
// returns false when something was left out.
bool AppendValid(std::string_view s, size_t max_bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  while (!s.empty()) {
    size_t n = Utf8SequenceLength(s);
    if (n == 0) {
      if (out->size() + 4 > max_bytes) return false;
      const auto c = static_cast<unsigned char>(s[0]);
      *out += "\\x";
      *out += kHex[c >> 4];
      *out += kHex[c & 15];
      s.remove_prefix(1);
    } else {
      if (out->size() + n > max_bytes) return false;
      out->append(s.data(), n);
      s.remove_prefix(n);
    }
  }
  return true;
}

}  // namespace

std::string ToValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  AppendValid(s, std::string::npos, &out);
  return out;
}

std::string Excerpt(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes) + 3);
  if (!AppendValid(s, max_bytes, &out)) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

std::string Quote(std::string_view s, size_t max_bytes) { return "'" + Excerpt(s, max_bytes) + "'"; }

std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace pmemd
