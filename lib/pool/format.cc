#include "format.h"

#include <cstring>

namespace pmemd::pool_format {

uint64_t Checksum(const void* data, size_t len, uint64_t seed) {
  // FNV-1a's xor-then-multiply over 64-bit little-endian words (8x fewer
  // multiplies than bytewise), then over the tail bytes one at a time.
  uint64_t h = seed ? seed : 0xcbf29ce484222325ull;
  const auto* p = static_cast<const uint8_t*>(data);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h ^= w;
    h *= 0x100000001b3ull;
  }
  for (; i < len; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t UuidSeed(const uint8_t uuid[16]) { return Checksum(uuid, 16); }

Geometry ComputeGeometry(uint64_t pool_size, uint64_t block_size, uint64_t lease_slots, uint64_t log_size,
                         bool dev) {
  Geometry g;
  uint64_t max_blocks = block_size ? pool_size / block_size : 0;
  g.lease_table_offset = AlignUp(g.block_table_offset + max_blocks * 8, 4096);
  g.log_offset = AlignUp(g.lease_table_offset + lease_slots * kLeaseSlotSize, 4096);
  g.metadata_end = g.log_offset + AlignUp(log_size, 4096);
  if (dev) {
    // Descriptors for every page of the pool, the metadata's own included,
    // as the kernel's map=dev reserves struct pages for the whole namespace.
    g.memmap_offset = AlignUp(g.metadata_end, kMemmapAlign);
    g.memmap_size = AlignUp(pool_size / 4096 * kDescSize, kMemmapAlign);
    g.metadata_end = g.memmap_offset + g.memmap_size;
  }
  g.data_offset = block_size ? AlignUp(g.metadata_end, block_size) : 0;
  g.block_count = (block_size && pool_size > g.data_offset) ? (pool_size - g.data_offset) / block_size : 0;
  return g;
}

}  // namespace pmemd::pool_format
