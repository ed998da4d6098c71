// Pool::Impl: the state of an attached pool, shared by the files that
// implement Pool along its seams:
//   pool.cc         the block state machine, the API (describe, blocks, leases)
//   pool_attach.cc  format, header checks, attach (recovery) and detach
//   pool_tables.cc  the block and lease tables: records appended, replayed,
//                   checkpointed (the bytes of the log: redo_log.h)
//   pool_pages.cc   the metadata array: the pages of each state (rules in
//                   pages.h), its placement, rebuild, seal and verification
// Not a public header: lib/pool only.
//
// Thread safety: every member GUARDED_BY(mu) is read under mu (shared) and
// written under mu (exclusive); the rest is set at attach, before the pool
// is shared.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "extent_allocator.h"
#include "format.h"
#include "pmemd/size.h"
#include "pmemd/uuid.h"
#include "media.h"
#include "pages.h"
#include "pmemd/events.h"
#include "pmemd/log.h"
#include "pmemd/mutex.h"
#include "pmemd/pool.h"
#include "redo_log.h"
#include "validate.h"

namespace pmemd {

namespace pool_internal {

// "0f1e...-..." of a 16-byte uuid.
inline std::string UuidString(const uint8_t u[16]) { return FormatUuid(u); }
// 134217728 -> "128M": sizes in messages, as the user would type them.
inline std::string Human(uint64_t bytes) { return FormatSize(bytes); }
// "3" or "3-7": a block range in messages.
std::string Range(uint64_t first, uint64_t count);

}  // namespace pool_internal

struct Pool::Impl {
  using json = nlohmann::json;
  using Media = pool_internal::Media;
  using RedoLog = pool_internal::RedoLog;
  struct Block {
    BlockState state = BlockState::kOffline;
    uint64_t leased_pages = 0;
    uint64_t poisoned_pages = 0;
    uint64_t since_ns = 0;  // when it entered a going-* state
  };

  PoolBacking backing;
  PoolOptions options;
  std::shared_ptr<spdlog::logger> log = GetLogger("pool");
  std::unique_ptr<Media> media;
  pool_format::Header hdr{};
  uint64_t seed = 0;
  std::string name, uuid;
  uint64_t attach_ns = 0;

  mutable SharedMutex mu;
  std::vector<Block> blocks GUARDED_BY(mu);
  std::vector<pool_format::LeaseSlot> slots GUARDED_BY(mu);  // the tables as the log says
  std::vector<bool> slot_dirty GUARDED_BY(mu), block_dirty GUARDED_BY(mu);  // differ from the tables on media
  std::map<std::string, uint32_t, std::less<>> by_name GUARDED_BY(mu);
  std::unordered_map<uint64_t, uint32_t> by_id GUARDED_BY(mu);
  std::set<uint32_t> free_slots GUARDED_BY(mu);
  ExtentAllocator alloc GUARDED_BY(mu);
  std::vector<uint64_t> bad_pfns GUARDED_BY(mu);  // sorted
  uint64_t seq GUARDED_BY(mu) = 0;                // last durable record
  std::unique_ptr<RedoLog> redo GUARDED_BY(mu);
  uint64_t ckpt_generation GUARDED_BY(mu) = 0;
  int ckpt_slot GUARDED_BY(mu) = 0;
  std::unique_ptr<MemMap> memmap;
  // Dev pools: the array's sections (2 MiB of descriptors each) changed
  // since attach, persisted before the seal at detach.
  static constexpr uint64_t kSealSectionPages = PageDesc::kPagesPerMemorySection;
  std::vector<uint8_t> memmap_dirty GUARDED_BY(mu);
  bool memmap_reused = false;                       // the attach adopted a sealed array
  // The bad pages changed after the array was rendered (the descriptors of
  // blocks already online do not show them): such an array is not sealed.
  bool bad_changed GUARDED_BY(mu) = false;

  std::string Object() const { return "pool:" + name; }
  uint64_t BlockOffset(uint64_t b) const { return hdr.data_offset + b * hdr.block_size; }
  uint64_t PagesPerBlock() const { return hdr.block_size / kPoolPageSize; }

  // Callers build `detail` only when options.events is set (it costs a
  // JSON object per lease operation otherwise).
  void Publish(std::string kind, std::string object, std::string_view from, std::string_view to, json detail = json::object()) {
    if (options.events)
      options.events->Publish({.kind = std::move(kind), .object = std::move(object), .from = std::string(from),
                               .to = std::string(to), .detail = std::move(detail)});
  }

  PageDesc* Pages(uint64_t pfn, uint64_t count) {
    Status s = memmap->WaitReady(pfn, count);
    (void)s;  // the range is inside the map by construction
    return memmap->Get(pfn);
  }

  // ---- lease slots
  static Lease FromSlot(const pool_format::LeaseSlot& s) {
    Lease l;
    l.name.assign(s.name, s.name_len);
    l.id = s.id;
    l.offset = s.offset;
    l.size = s.length;
    l.align = s.align;
    l.owner.assign(s.owner, s.owner_len);
    l.created_ns = s.created_ns;
    if (s.labels_len) {
      // Checked at attach (CheckLeaseSlot) or built by CreateLease.
      if (auto labels = pool_format::ParseLabels(std::string_view(s.labels, s.labels_len)); labels.ok()) l.labels = std::move(*labels);
    }
    return l;
  }

  // ---- the redo log
  // One record after the last, checkpointing first when the log is full.
  Status Append(pool_format::RecordType type, const void* payload, uint32_t len) REQUIRES(mu);

  Status AppendBlocks(const std::vector<uint64_t>& targets, BlockState state) REQUIRES(mu);

  // Applies a durable record to the DRAM images (replay only).
  Status ApplyRecord(const pool_format::RecordHeader& h, const uint8_t* p) REQUIRES(mu);

  Status CheckpointLocked() REQUIRES(mu);

  // ---- pages: the metadata array (descriptor bits: pages.h)
  bool Dev() const { return hdr.memmap_mode == pool_format::kMemmapDev; }
  // Runs f, raw descriptor accesses only (pages.h), with a fault on a dev
  // pool's media caught: the media turn failed and this is kIoError.
  template <typename F>
  Status OnPages(std::string_view what, F&& f) {
    if (Dev()) return media->Guarded(what, f);
    f();
    return Status::Ok();
  }
  // Descriptors [pfn, pfn + count) changed: a dev pool persists their
  // sections before it seals the array at detach.
  void Touched(uint64_t pfn, uint64_t count) REQUIRES(mu);

  // The leases' extents, sorted by offset.
  std::vector<Extent> LeaseExtents() const REQUIRES_SHARED(mu);
  // The allocator's share of online block b, from the tables alone: its
  // pages less the `leases` (sorted) and the bad pages, which it counts as
  // the block's poisoned pages. O(leases and bad pages in it), not O(pages).
  void FreeBlock(uint64_t b, const std::vector<Extent>& leases) REQUIRES(mu);
  void AccountLease(uint64_t offset, uint64_t length, bool add) REQUIRES(mu);

  // The whole array as the tables say, into `d` (initialized, every page
  // Offline): metadata pages reserved, leased pages leased, online blocks'
  // other pages free or poisoned. Raw accesses only.
  void Render(PageDesc* d, const ProgressFn& progress = {}) const REQUIRES_SHARED(mu);

  // Block b's pages go online (an offline block: no lease in it).
  Status PagesOnline(uint64_t b) REQUIRES(mu);
  // Block b's pages go offline (isolated and found unleased).
  Status PagesOffline(uint64_t b) REQUIRES(mu);
  Status PagesLease(uint64_t offset, uint64_t length, uint64_t id, bool add) REQUIRES(mu);

  // The names of the leases holding pages of block b, through the pages'
  // owner field.
  Result<std::vector<std::string>> Holders(uint64_t b) REQUIRES_SHARED(mu);

  // ---- the one transition function
  void Transition(uint64_t b, BlockState to) REQUIRES(mu);

  void RefreshBadblocks() REQUIRES(mu);

  Lease LeaseAt(uint32_t slot) const REQUIRES_SHARED(mu) { return FromSlot(slots[slot]); }

  // ---- the array's placement and seal
  // How the array is made: in DRAM (mem) with the pool's strategy; on the
  // media (dev) under the media guard, eagerly (deferred growth would
  // touch the media from background threads after attach returned), or
  // adopted as it is after a clean detach.
  MemMapOptions MemmapOptions(bool adopt);
  // Checksum of the array's first and last 4 KiB, read through the media.
  Result<uint64_t> ArraySample();
  uint64_t BadChecksum() const REQUIRES_SHARED(mu);
  // Whether `seal` vouches for the array as it is for the tables now.
  Result<bool> SealMatches(const pool_format::MemmapSeal& seal) REQUIRES_SHARED(mu);
  // At a clean detach of a dev pool, after the checkpoint: the changed
  // sections persisted, then the seal that vouches for them.
  Status Seal() REQUIRES(mu);

  Status Load(const ProgressFn& progress) REQUIRES(mu);
  // OnlineBlocks (online) and OfflineBlocks: all or nothing (pool.cc),
  // reporting each block to `progress` (may be empty).
  Result<PoolBlockOpResult> ChangeBlocks(uint64_t first, uint64_t count, bool online, const ProgressFn& progress)
      EXCLUDES(mu);
};

}  // namespace pmemd
