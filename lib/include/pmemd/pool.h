// Pool: a userspace ZONE_DEVICE. One devdax device, a file on a DAX file
// system, or (emulated platform) a plain file, that pmemd keeps out of the
// kernel's allocator and carves into leases for its clients, who mmap their
// extent.
//
// A pool is formatted once (Pool::Format) and attached (Pool::Attach) each
// time pmemd starts: attaching maps it with libpmem2, takes an OFD lock on
// its bytes (a second process cannot attach it), reads its tables, replays
// its redo log to exactly the acknowledged state, rolls back blocks found
// half way through a transition, builds the per-page metadata array
// (MemMap) and applies the persistent state to it.
//
// Its data area is cut into fixed-size memory blocks with the kernel's
// hotplug state machine (offline -> going-online -> online -> going-offline
// -> offline, with cancel back on failure); leases are allocated from the
// pages of online blocks. Every mutation is durable (a checksummed record
// in the redo log, persisted with pmem2's persist function) before the call
// returns. docs/pool-format.md describes the bytes on the media.
//
// The media are untrusted input: everything read from them is validated
// before use (a pool that does not validate fails Attach with kCorruption),
// and a bus error on the mapping or a backing file found shorter than the
// pool turns the pool failed (Describe().failure says why; every mutation
// is refused; the destructor writes nothing) instead of killing the process.
//
// Thread safety: every method may be called from any thread. Mutations of
// one pool are serialized by its lock; reads
// (Describe, GetLease, ListLeases) run concurrently with each other and wait
// for a mutation in progress.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmemd/fs.h"
#include "pmemd/memmap.h"
#include "pmemd/progress.h"
#include "pmemd/status.h"

namespace pmemd {

class EventBus;

inline constexpr uint64_t kPoolPageSize = 4096;
inline constexpr uint64_t kPoolMinBlockSize = 2ull << 20;
inline constexpr uint64_t kPoolDefaultBlockSize = 128ull << 20;
// Version 2 added the metadata array's placement (PoolMemmap); version-1
// pools still attach, their array in DRAM.
inline constexpr uint32_t kPoolFormatVersion = 2;
// The lease alignments a client can ask for: 4 KiB, 2 MiB, 1 GiB.
inline constexpr uint64_t kLeaseAlignments[] = {4096, 2ull << 20, 1ull << 30};

// ---- Where the metadata array lives --------------------------------------

// Like the kernel's namespace `map` (ndctl create-namespace --map): dev
// keeps the per-page descriptors on the pool's own media, in an area
// reserved after the tables (1/64 of the pool, 2 MiB aligned), so a pool
// costs the daemon no DRAM per page; mem keeps them in DRAM, rebuilt at
// every attach.
enum class PoolMemmap : uint8_t { kMem = 0, kDev = 1 };
// "mem", "dev".
std::string_view PoolMemmapName(PoolMemmap m);
// The inverse; anything else is kInvalidArgument naming the two.
Result<PoolMemmap> ParsePoolMemmap(std::string_view name);
// Bytes of descriptors for a pool of `pool_size` bytes: one 64-byte PageDesc
// per 4 KiB page (what a mem pool costs in DRAM).
inline constexpr uint64_t PoolMemmapBytes(uint64_t pool_size) { return pool_size / 4096 * 64; }

// ---- Memory blocks: the state machine -------------------------------------

enum class BlockState : uint8_t { kOffline = 0, kGoingOnline = 1, kOnline = 2, kGoingOffline = 3 };

// "offline", "going-online", "online", "going-offline".
std::string_view BlockStateName(BlockState s);
Result<BlockState> ParseBlockState(std::string_view name);
// The transition table: offline -> going-online; going-online -> online
// (done) or offline (cancel); online -> going-offline; going-offline ->
// offline (done) or online (cancel). Nothing else.
bool IsLegalTransition(BlockState from, BlockState to);
// Where a block found in `s` after a crash goes back to: its last stable
// state (going-online -> offline, going-offline -> online; stable states
// stay).
BlockState StableStateOf(BlockState s);
// kFailedPrecondition naming the block, both states and the legal targets,
// when `from -> to` is not in the table.
Status CheckTransition(uint64_t block, BlockState from, BlockState to);

// ---- Test hooks ---------------------------------------------------------

// Called by a pool at each step that makes something durable and where a
// block changes state. The default does nothing; tests pass their own to
// simulate a crash right after a given persist step (the pool then writes
// nothing more, as if the process had died) or to make a block's
// transition fail. Not owned by the pool; must outlive it.
class PoolHooks {
 public:
  virtual ~PoolHooks() = default;
  // `step` names what was just persisted ("format-metadata", "log-append",
  // "checkpoint-tables", "checkpoint-commit", ...); `n` counts persist steps
  // since the pool object was made, from 1. Return true to crash here.
  virtual bool CrashAfterPersist(std::string_view step, uint64_t n) {
    (void)step;
    (void)n;
    return false;
  }
  // Called right after [offset, offset+len) of the mapping at `base` (`size`
  // bytes, the pool's backing from its first byte) was persisted, before
  // CrashAfterPersist. A power-loss model keeps its durable image from these
  // (lib/pool/power_loss_test.cc): what a pool stores but never persists is
  // lost there, as on real pmem.
  virtual void Persisted(const uint8_t* base, uint64_t size, uint64_t offset, uint64_t len) {
    (void)base;
    (void)size;
    (void)offset;
    (void)len;
  }
  // Called at a point of interest that is not a persist step:
  // "memmap-filled" after each range of a dev pool's array a rebuild
  // initialized (from the initializing threads: must be thread-safe),
  // "memmap-rendered" once the state is applied to it. Crash tests kill
  // there to land inside a rebuild by construction.
  virtual void Milestone(std::string_view point) { (void)point; }
  // Called before a block's pages change in an online/offline operation; a
  // non-OK status makes that block fail (and the operation roll back).
  virtual Status BlockFault(uint64_t block, BlockState to) {
    (void)block;
    (void)to;
    return Status::Ok();
  }
};

// ---- Creating and opening -------------------------------------------------

// Where a pool's bytes are: `path` from `offset`, `size` bytes.
struct PoolBacking {
  std::string path;
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string device;      // "dax0.0" when on a dax device ("" for a file)
  std::string namespace_;  // "namespace0.0" when known
  // When set (file pools): the file's identity as pmemd checked it. The pool
  // then opens `path` without following a symlink and refuses anything
  // but this very file, so a path swapped after the check is never written.
  uint64_t file_dev = 0;
  uint64_t file_ino = 0;
  // File pools: the descriptor PoolManager opened and checked (with the
  // caller's rights, OpenAs). Format, ReadInfo and Attach duplicate it
  // instead of opening `path` again, so pmemd needs no right of its own on a
  // user's file (no CAP_DAC_OVERRIDE under the hardened unit). Borrowed for
  // the call only; -1: open `path`. An attached pool keeps -1.
  int opened_fd = -1;
};

struct PoolFormatOptions {
  std::string name;  // 1..63 bytes of [A-Za-z0-9._-]
  uint64_t block_size = kPoolDefaultBlockSize;  // a power of two, at least 2 MiB
  uint64_t max_leases = 4096;                   // lease table slots
  uint64_t log_size = 1ull << 20;               // redo log bytes (multiple of 4 KiB, at least 64 KiB)
  PoolMemmap memmap = PoolMemmap::kDev;         // where the metadata array lives
  bool force = false;                           // overwrite a pool found there
  // Who may open the pool's leases besides admins (open-lease passes a
  // descriptor of the whole pool, so ownership is the pool's): a uid and/or
  // the members of a group. Neither: admins only.
  std::optional<uint32_t> owner_uid, owner_gid;
};

struct PoolOptions {
  InitStrategy strategy = InitStrategy::kDeferred;  // how the metadata array is initialized
  unsigned memmap_threads = 0;                      // 0: one per CPU
  // Both borrowed: they must outlive the pool (its detach publishes and
  // persists through them too).
  EventBus* events = nullptr;                       // transitions are published here when set
  PoolHooks* hooks = nullptr;                       // tests only
  // Bad pages, as [offset, offset+length) ranges from the pool's start; asked
  // at attach and before every online operation. Empty function: none.
  std::function<Result<std::vector<std::pair<uint64_t, uint64_t>>>()> badblocks;
};

// ---- What a pool reports --------------------------------------------------

struct LeaseSpec {
  std::string name;  // unique in its pool: 1..63 bytes of [A-Za-z0-9._:-]
  uint64_t size = 0;  // bytes, a non-zero multiple of align
  uint64_t align = 2ull << 20;  // 4096, 2 MiB or 1 GiB
  std::string owner;  // optional tag, at most 63 bytes
  std::map<std::string, std::string> labels;  // serialized as JSON, at most 320 bytes
};

struct Lease {
  std::string name;
  uint64_t id = 0;      // unique over the pool's life; the pages' owner in the memmap
  uint64_t offset = 0;  // from the pool's start
  uint64_t size = 0;
  uint64_t align = 0;
  std::string owner;
  std::map<std::string, std::string> labels;
  uint64_t created_ns = 0;  // CLOCK_REALTIME
};

struct AlignCapacity {
  uint64_t align = 0;
  uint64_t available_size = 0;        // free bytes usable in leases of this alignment
  uint64_t max_available_extent = 0;  // the largest lease of this alignment that fits now
};

struct PoolCapacity {
  uint64_t total_size = 0;    // bytes in whole blocks
  uint64_t online_size = 0;   // bytes in online blocks
  uint64_t leased_size = 0;
  uint64_t poisoned_size = 0; // bad pages in online blocks (never leased)
  uint64_t available_size = 0;
  uint64_t max_available_extent = 0;  // at 4 KiB alignment
  std::vector<AlignCapacity> alignments;  // one per kLeaseAlignments
};

struct BlockInfo {
  uint64_t index = 0;
  uint64_t offset = 0;  // from the pool's start
  BlockState state = BlockState::kOffline;
  uint64_t leased_pages = 0;
  uint64_t poisoned_pages = 0;
};

struct PoolStatus {
  std::string name;
  std::string uuid;
  PoolBacking backing;
  uint32_t format_version = 0;
  uint64_t size = 0;
  uint64_t data_offset = 0;
  uint64_t block_size = 0;
  uint64_t blocks_total = 0;
  uint64_t blocks_online = 0;
  uint64_t leases = 0;
  uint64_t max_leases = 0;
  uint64_t badblock_count = 0;   // bad pages in the data area
  std::string granularity;       // what pmem2 reported: "byte", "cache_line", "page"
  // Why the pool has failed (its media faulted or shrank: every mutation is
  // refused, detach-pool is the way out); empty while it is well.
  std::string failure;
  std::string init_strategy;     // the metadata array's
  PoolMemmap memmap = PoolMemmap::kMem;  // where it lives
  uint64_t memmap_offset = 0;    // dev: its offset in the pool (0 for mem)
  uint64_t memmap_size = 0;      // its bytes (on the media for dev, in DRAM for mem)
  std::optional<uint32_t> owner_uid, owner_gid;  // PoolFormatOptions
  // How the array was made at the last attach: "reused" (a clean detach
  // left it valid on the media), "built" (initialized from the tables).
  std::string memmap_init;
  uint64_t attach_ns = 0;        // Attach() start to ready
  uint64_t pages = 0;            // descriptors in the metadata array
  uint64_t log_used = 0;         // redo log bytes since the last checkpoint
  uint64_t log_size = 0;
  uint64_t seq = 0;              // last durable record
  PoolCapacity capacity;
  std::vector<BlockInfo> blocks;
};

// One block's outcome in OnlineBlocks / OfflineBlocks.
struct PoolBlockResult {
  uint64_t index = 0;
  BlockState from = BlockState::kOffline;
  BlockState to = BlockState::kOffline;  // == from when unchanged, failed or rolled back
  Status status;
  bool rolled_back = false;  // changed, then put back after another block failed
  std::vector<std::string> holders;  // leases that kept it from going offline
};

struct PoolBlockOpResult {
  std::vector<PoolBlockResult> blocks;
  bool rolled_back = false;  // the operation failed and nothing changed
  Status status;             // the first failure (OK when every block made it)
};

// ---- The pool --------------------------------------------------------------

class Pool {
 public:
  // Writes a new pool's metadata over `backing` (which must exist and be at
  // least large enough for the metadata and one block). A pool already
  // there is kAlreadyExists unless options.force.
  static Status Format(const PoolBacking& backing, const PoolFormatOptions& options,
                       PoolHooks* hooks = nullptr);
  // Format's checks of the options and of the room `size` bytes give,
  // without touching anything: callers validate before they create or
  // resize a file.
  static Status CheckFormat(uint64_t size, const PoolFormatOptions& options, const std::string& where);
  // Opens and locks the pool at `backing`, replays and rolls back, builds
  // the metadata array. `progress` hears of the array in two stages:
  // "memmap" (its descriptors initialized or adopted, in pages: at the
  // start and the end) and "render" (the tables written into it, in
  // blocks; not when a dev pool's sealed array is adopted as it is).
  static Result<std::unique_ptr<Pool>> Attach(const PoolBacking& backing, const PoolOptions& options,
                                              const ProgressFn& progress = {});
  // What a pool's header says, read without attaching it (no lock, no
  // mapping): what the pool manager must know before it decides to attach.
  struct HeaderInfo {
    std::string name;
    PoolMemmap memmap = PoolMemmap::kMem;  // version-1 pools: mem
    uint64_t pool_size = 0;                // PoolMemmapBytes(pool_size): a mem pool's DRAM
  };
  static Result<HeaderInfo> ReadInfo(const PoolBacking& backing);
  // The name in a pool's header, without attaching it.
  static Result<std::string> ReadName(const PoolBacking& backing) {
    PMEMD_ASSIGN_OR_RETURN(HeaderInfo info, ReadInfo(backing));
    return info.name;
  }

  ~Pool();  // detaches: checkpoints and unmaps (after a simulated crash: writes nothing)
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  const std::string& name() const;
  const PoolBacking& backing() const;

  PoolStatus Describe(bool with_blocks = false) const;
  // Who may open its leases besides admins (PoolFormatOptions::owner_uid,
  // owner_gid), from the header: without the capacity Describe computes.
  struct Owner {
    std::optional<uint32_t> uid, gid;
  };
  Owner owner() const;

  // Blocks [first, first+count) online / offline, all or nothing. Blocks
  // already in the target state are left alone (reported unchanged).
  // `progress` (progress.h) hears of each block changed, in blocks: online
  // in one stage "online"; offline in "isolate" (free extents taken from
  // the allocator, leases checked) then "offline" (pages taken). Nothing
  // when no block needs changing.
  Result<PoolBlockOpResult> OnlineBlocks(uint64_t first, uint64_t count, const ProgressFn& progress = {});
  Result<PoolBlockOpResult> OfflineBlocks(uint64_t first, uint64_t count, const ProgressFn& progress = {});

  // A name that exists with the same size, alignment, owner and labels
  // returns the existing lease (an idempotent retry); different ones are
  // kAlreadyExists.
  Result<Lease> CreateLease(const LeaseSpec& spec);
  Status DeleteLease(const std::string& name);
  Result<Lease> GetLease(const std::string& name) const;
  // For open-lease: the lease, and a new read-write descriptor of the
  // pool's backing (its own open file description, close-on-exec) from
  // which the client maps the lease. It reaches the whole pool, not just the
  // lease: whoever may have it is decided per pool (PoolStatus::owner_uid).
  Result<Lease> OpenLease(const std::string& name, UniqueFd* fd) const;
  std::vector<Lease> ListLeases() const;
  // The lease that holds page `pfn` (pool offset / 4096), through the
  // memmap's owner field.
  std::optional<Lease> LeaseOfPage(uint64_t pfn) const;

  // Writes the tables and resets the log (also done when the log fills).
  Status Checkpoint();
  // Compares the metadata array with one rendered afresh from the block and
  // lease tables (what attaching after a crash would build): OK, or
  // kCorruption naming the first page whose descriptor differs and how.
  // Reads the whole array, O(pages): for tests and `verify`.
  Status VerifyMemmap() const;
  // The metadata array (for tests and benchmarks).
  const MemMap& memmap() const;
  MemMap& memmap();

 private:
  struct Impl;
  explicit Pool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmemd
