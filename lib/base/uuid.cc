#include "pmemd/uuid.h"

namespace pmemd {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDash(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i)
    if (IsDash(i) ? text[i] != '-' : HexDigit(text[i]) < 0) return false;
  return true;
}

std::string FormatUuid(const uint8_t uuid[16]) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[uuid[i] >> 4];
    s += kHex[uuid[i] & 15];
  }
  return s;
}

bool ParseUuid(std::string_view text, uint8_t out[16]) {
  if (!IsUuid(text)) return false;
  int k = 0;
  for (size_t i = 0; i < text.size(); i += 2) {
    if (IsDash(i)) ++i;
    out[k++] = static_cast<uint8_t>(HexDigit(text[i]) << 4 | HexDigit(text[i + 1]));
  }
  return true;
}

}  // namespace pmemd
