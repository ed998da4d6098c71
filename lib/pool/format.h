// The on-media format of a pool, version 2 (docs/pool-format.md is the
// reference; keep the two in step). Version 1 is version 2 without the
// memmap area: its memmap_* fields are zero and it attaches as a mem pool. Every integer is little-endian (x86-64
// and arm64 both are); every structure has a fixed size checked below.
//
//   offset 0         header copy A (4 KiB page, 256 bytes used)
//   offset 4096      header copy B
//   offset 8192      checkpoint slots (2 x 64 bytes), attach info (64 bytes),
//                    memmap seal (64 bytes)
//   offset 12288     block table: one 8-byte entry per block
//   (4 KiB aligned)  lease table: max_leases slots of 512 bytes
//   (4 KiB aligned)  redo log: log_size bytes of 64-byte aligned records
//   (2 MiB aligned)  memmap area (memmap dev only): one 64-byte PageDesc per
//                    4 KiB page of the pool, pool_size / 64 bytes
//   data_offset      block 0 (data_offset is a multiple of block_size)
//
// Thread safety: plain data and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "pmemd/size.h"

namespace pmemd::pool_format {

inline constexpr char kHeaderMagic[8] = {'P', 'M', 'E', 'M', 'D', 'P', 'O', 'L'};
inline constexpr uint64_t kCheckpointMagic = 0x3154504b43444d50ull;  // "PMDCKPT1"
inline constexpr uint64_t kLeaseMagic = 0x455341454c444d50ull;       // "PMDLEASE"
inline constexpr uint64_t kAttachMagic = 0x48435441444d50ull;        // "PMDATCH"
inline constexpr uint64_t kSealMagic = 0x314c414553444d50ull;         // "PMDSEAL1"
inline constexpr uint32_t kRecordMagic = 0x474f4c50u;                // "PLOG"
inline constexpr uint64_t kBlockEntryTag = 0xB10Cull << 48;

inline constexpr uint64_t kHeaderAOffset = 0;
inline constexpr uint64_t kHeaderBOffset = 4096;
inline constexpr uint64_t kCheckpointOffset = 8192;
inline constexpr uint64_t kAttachInfoOffset = 8192 + 128;
inline constexpr uint64_t kSealOffset = 8192 + 192;
inline constexpr uint64_t kBlockTableOffset = 12288;
inline constexpr uint64_t kMemmapAlign = 2ull << 20;
inline constexpr uint64_t kDescSize = 64;  // sizeof(PageDesc)
// Header::memmap_mode.
inline constexpr uint32_t kMemmapMem = 0;
inline constexpr uint32_t kMemmapDev = 1;
inline constexpr uint64_t kLeaseSlotSize = 512;
// Header::owner_flags.
inline constexpr uint32_t kOwnerUid = 1;
inline constexpr uint32_t kOwnerGid = 2;
inline constexpr uint64_t kRecordAlign = 64;
inline constexpr uint64_t kMinLogSize = 64 * 1024;

// FNV-1a's step (h ^= x; h *= 0x100000001b3) over the data as 64-bit
// little-endian words, then over the remaining bytes, starting from `seed`
// (0 means FNV's offset basis 0xcbf29ce484222325). Log records are seeded with the pool's uuid so that records
// left by an earlier pool on the same media never validate.
uint64_t Checksum(const void* data, size_t len, uint64_t seed = 0);
uint64_t UuidSeed(const uint8_t uuid[16]);

struct Header {
  char magic[8];
  uint32_t format_version;
  uint32_t header_size;  // sizeof(Header)
  uint8_t uuid[16];
  char name[64];  // NUL padded
  uint64_t pool_size;
  uint64_t block_size;
  uint64_t block_count;
  uint64_t data_offset;
  uint64_t checkpoint_offset;
  uint64_t block_table_offset;
  uint64_t lease_table_offset;
  uint64_t lease_slots;
  uint64_t lease_slot_size;
  uint64_t log_offset;
  uint64_t log_size;
  uint64_t created_ns;
  uint32_t memmap_mode;    // kMemmapMem or kMemmapDev (version 2; 0 in version 1)
  uint32_t reserved0;
  uint64_t memmap_offset;  // dev: the memmap area (0 for mem)
  uint64_t memmap_size;    // dev: its bytes, pool_size / 4096 * 64 rounded up to 2 MiB
  // Who may open the pool's leases besides admins (open-lease): the uid
  // when owner_flags has kOwnerUid, members of the gid when kOwnerGid. Zero
  // in pools made before owners existed: admins only.
  uint32_t owner_flags;
  uint32_t owner_uid;
  uint32_t owner_gid;
  uint32_t reserved1;
  uint8_t reserved[16];
  uint64_t checksum;  // Checksum(bytes [0, 248))
};
static_assert(sizeof(Header) == 256);
static_assert(offsetof(Header, checksum) == 248);

struct CheckpointSlot {
  uint64_t magic;
  uint64_t seq;         // every record up to this one is in the tables
  uint64_t generation;  // checkpoints taken; the higher valid slot wins
  uint8_t reserved[32];
  uint64_t checksum;  // Checksum(bytes [0, 56))
};
static_assert(sizeof(CheckpointSlot) == 64);

// Who attached the pool last, for the "attached by another process" message
// (advisory: the OFD lock is what excludes).
struct AttachInfo {
  uint64_t magic;
  uint64_t pid;  // 0 after a clean detach
  uint64_t time_ns;
  uint8_t reserved[40];
};
static_assert(sizeof(AttachInfo) == 64);

// Written at a clean detach, after the metadata array was persisted: the
// descriptors on the media are exactly what attaching would build for the
// tables as of checkpoint `generation` / record `seq` and the bad pages
// whose list checksums to `badblocks`. An attach that finds it valid (and
// nothing to replay or roll back) uses the array as it is, then zeroes the
// seal before anything changes a descriptor. A memmap dev pool only.
struct MemmapSeal {
  uint64_t magic;  // kSealMagic; zero when the array is not known to be valid
  uint64_t seq;
  uint64_t generation;
  uint64_t pages;            // descriptors in the array
  uint64_t header_checksum;  // the pool header's checksum (binds it to this format of this pool)
  uint64_t badblocks;        // Checksum of the sorted bad page numbers (0 for none)
  uint64_t array;            // Checksum of the array's first and last 4 KiB
  uint64_t checksum;         // Checksum(bytes [0, 56))
};
static_assert(sizeof(MemmapSeal) == 64);

struct LeaseSlot {
  uint64_t magic;  // kLeaseMagic when in use; a free slot is all zeros
  uint64_t id;
  uint64_t offset;
  uint64_t length;
  uint64_t align;
  uint64_t created_ns;
  uint16_t name_len;
  uint16_t owner_len;
  uint16_t labels_len;
  uint16_t reserved;
  char name[64];
  char owner[64];
  char labels[320];  // a JSON object of string values
  uint64_t checksum;  // Checksum(bytes [0, 504))
};
static_assert(sizeof(LeaseSlot) == kLeaseSlotSize);
static_assert(offsetof(LeaseSlot, checksum) == 504);

enum class RecordType : uint16_t {
  kLeaseSet = 1,    // payload: LeaseSetPayload
  kLeaseClear = 2,  // payload: LeaseClearPayload
  kBlockSet = 3,    // payload: BlockSetPayload + runs
};

struct RecordHeader {
  uint32_t magic;
  uint16_t type;
  uint16_t reserved;
  uint32_t length;  // payload bytes after this header
  uint32_t reserved2;
  uint64_t seq;       // the checkpoint's seq + 1 for the record at log offset 0, then +1 each
  uint64_t checksum;  // Checksum(header with checksum = 0, then payload; seed UuidSeed(uuid))
};
static_assert(sizeof(RecordHeader) == 32);

struct LeaseSetPayload {
  uint32_t slot;
  uint32_t reserved;
  LeaseSlot image;  // the slot's new bytes, its own checksum included
};
static_assert(sizeof(LeaseSetPayload) == 520);

struct LeaseClearPayload {
  uint32_t slot;
  uint32_t reserved;
  uint64_t id;
};
static_assert(sizeof(LeaseClearPayload) == 16);

struct BlockRun {
  uint32_t first;
  uint32_t count;
  uint32_t state;  // BlockState
  uint32_t reserved;
};
static_assert(sizeof(BlockRun) == 16);

struct BlockSetPayload {
  uint32_t runs;
  uint32_t reserved;
  // followed by `runs` BlockRun
};
static_assert(sizeof(BlockSetPayload) == 8);

using pmemd::AlignDown;  // pmemd/size.h
using pmemd::AlignUp;
using pmemd::IsPow2;

// The layout a pool of `pool_size` bytes gets; block_count 0 when too small.
// `dev`: with a memmap area after the log (2 MiB aligned), which the data
// area then follows.
struct Geometry {
  uint64_t block_table_offset = kBlockTableOffset;
  uint64_t lease_table_offset = 0;
  uint64_t log_offset = 0;
  uint64_t memmap_offset = 0;  // 0 unless dev
  uint64_t memmap_size = 0;
  uint64_t metadata_end = 0;   // end of the log, or of the memmap area
  uint64_t data_offset = 0;
  uint64_t block_count = 0;
};
Geometry ComputeGeometry(uint64_t pool_size, uint64_t block_size, uint64_t lease_slots, uint64_t log_size,
                         bool dev = false);

}  // namespace pmemd::pool_format
