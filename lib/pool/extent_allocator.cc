#include "extent_allocator.h"

#include <algorithm>
#include <iterator>

#include "pmemd/size.h"

namespace pmemd {

bool ExtentAllocator::Free(uint64_t offset, uint64_t length) {
  if (length == 0) return true;
  const uint64_t added = length;
  uint64_t end = offset + length;
  auto next = free_.lower_bound(offset);
  if (next != free_.end() && next->first < end) return false;
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second > offset) return false;
  }
  // Merge with the previous and the next extent when adjacent.
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == offset) {
      offset = prev->first;
      length += prev->second;
      free_.erase(prev);
    }
  }
  if (next != free_.end() && next->first == end) {
    length += next->second;
    free_.erase(next);
  }
  free_[offset] = length;
  free_bytes_ += added;
  return true;
}

std::optional<uint64_t> ExtentAllocator::Allocate(uint64_t length, uint64_t align) {
  if (length == 0 || align == 0) return std::nullopt;
  auto best = free_.end();
  uint64_t best_start = 0;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    uint64_t start = AlignUp(it->first, align);
    uint64_t end = it->first + it->second;
    if (start >= end || end - start < length) continue;
    if (best == free_.end() || it->second < best->second) {
      best = it;
      best_start = start;
    }
  }
  if (best == free_.end()) return std::nullopt;
  bool taken = Take(best_start, length);
  (void)taken;  // the extent holds it: cannot fail
  return best_start;
}

bool ExtentAllocator::Take(uint64_t offset, uint64_t length) {
  if (length == 0) return true;
  auto it = free_.upper_bound(offset);
  if (it == free_.begin()) return false;
  --it;
  uint64_t ext_start = it->first, ext_end = it->first + it->second, end = offset + length;
  if (end > ext_end) return false;
  free_.erase(it);
  if (ext_start < offset) free_[ext_start] = offset - ext_start;
  if (end < ext_end) free_[end] = ext_end - end;
  free_bytes_ -= length;
  return true;
}

std::vector<Extent> ExtentAllocator::Isolate(uint64_t offset, uint64_t length) {
  std::vector<Extent> taken;
  uint64_t end = offset + length;
  auto it = free_.upper_bound(offset);
  if (it != free_.begin()) --it;
  for (; it != free_.end() && it->first < end; ++it) {
    uint64_t s = std::max(it->first, offset), e = std::min(it->first + it->second, end);
    if (s < e) taken.push_back({s, e - s});
  }
  for (const auto& x : taken) Take(x.offset, x.length);
  return taken;
}

uint64_t ExtentAllocator::MaxExtent(uint64_t align) const {
  uint64_t best = 0;
  for (const auto& [off, len] : free_) {
    uint64_t start = AlignUp(off, align), end = off + len;
    if (start < end) best = std::max(best, (end - start) / align * align);
  }
  return best;
}

uint64_t ExtentAllocator::Available(uint64_t align) const {
  uint64_t sum = 0;
  for (const auto& [off, len] : free_) {
    uint64_t start = AlignUp(off, align), end = off + len;
    if (start < end) sum += (end - start) / align * align;
  }
  return sum;
}

std::vector<Extent> ExtentAllocator::Extents() const {
  std::vector<Extent> v;
  v.reserve(free_.size());
  for (const auto& [off, len] : free_) v.push_back({off, len});
  return v;
}

}  // namespace pmemd
