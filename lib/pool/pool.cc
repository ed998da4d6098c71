// Pool: format, attach (replay, roll back, memmap), blocks, leases, the redo
// log and checkpoints. The on-media structures are in format.h; the bytes
// and the recovery rules are documented in docs/pool-format.md.
#include "pmemd/pool.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <set>
#include <shared_mutex>
#include <unordered_map>

#include <libpmem2.h>
#include <nlohmann/json.hpp>

#include "extent_allocator.h"
#include "format.h"
#include "media.h"
#include "pages.h"
#include "redo_log.h"
#include "pmemd/events.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/log.h"
#include "pmemd/text.h"
#include "validate.h"

namespace pmemd {

namespace pf = pool_format;
using namespace pool_internal;  // media.h, pages.h: this file's own pieces
using nlohmann::json;

// ---- The state machine ------------------------------------------------------

std::string_view BlockStateName(BlockState s) {
  switch (s) {
    case BlockState::kOffline: return "offline";
    case BlockState::kGoingOnline: return "going-online";
    case BlockState::kOnline: return "online";
    case BlockState::kGoingOffline: return "going-offline";
  }
  return "unknown";
}

Result<BlockState> ParseBlockState(std::string_view name) {
  for (auto s : {BlockState::kOffline, BlockState::kGoingOnline, BlockState::kOnline, BlockState::kGoingOffline})
    if (BlockStateName(s) == name) return s;
  return Status::InvalidArgument("unknown block state '" + std::string(name) +
                                 "'; known: offline, going-online, online, going-offline");
}

std::string_view PoolMemmapName(PoolMemmap m) { return m == PoolMemmap::kDev ? "dev" : "mem"; }

Result<PoolMemmap> ParsePoolMemmap(std::string_view name) {
  if (name == "dev") return PoolMemmap::kDev;
  if (name == "mem") return PoolMemmap::kMem;
  return Status::InvalidArgument("memmap " + Quote(name) +
                                 " is neither dev (the metadata array on the pool's media) nor mem (in DRAM)");
}

namespace {

// kTransitions[from][to]: the kernel's MEM_GOING_ONLINE/MEM_ONLINE/
// MEM_CANCEL_ONLINE and the offline twins.
constexpr bool kTransitions[4][4] = {
    //            offline going-on online going-off
    /* offline */ {false, true, false, false},
    /* going-on */ {true, false, true, false},
    /* online */ {false, false, false, true},
    /* going-off */ {true, false, true, false},
};

std::string Hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

std::string UuidString(const uint8_t u[16]) {
  std::string h = Hex(u, 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string Human(uint64_t b) {
  static const char* u[] = {"", "K", "M", "G", "T"};
  int i = 0;
  while (i < 4 && b >= 1024 && b % 1024 == 0) {
    b /= 1024;
    ++i;
  }
  return std::to_string(b) + u[i];
}

std::string Range(uint64_t first, uint64_t count) {
  return count == 1 ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(first + count - 1);
}

}  // namespace

bool IsLegalTransition(BlockState from, BlockState to) {
  return kTransitions[static_cast<int>(from)][static_cast<int>(to)];
}

BlockState StableStateOf(BlockState s) {
  switch (s) {
    case BlockState::kGoingOnline: return BlockState::kOffline;
    case BlockState::kGoingOffline: return BlockState::kOnline;
    default: return s;
  }
}

Status CheckTransition(uint64_t block, BlockState from, BlockState to) {
  if (IsLegalTransition(from, to)) return Status::Ok();
  std::string legal;
  for (int t = 0; t < 4; ++t)
    if (kTransitions[static_cast<int>(from)][t])
      legal += (legal.empty() ? "" : " or ") + std::string(BlockStateName(static_cast<BlockState>(t)));
  return Status::FailedPrecondition("block " + std::to_string(block) + ": " + std::string(BlockStateName(from)) +
                                    " -> " + std::string(BlockStateName(to)) + " is not a legal transition (from " +
                                    std::string(BlockStateName(from)) + " a block goes " + legal + ")");
}

// ---- Headers ----------------------------------------------------------------

namespace {

enum class CopyState { kValid, kNoMagic, kBadChecksum, kNewer };

CopyState CheckHeader(const pf::Header& h) {
  if (std::memcmp(h.magic, pf::kHeaderMagic, 8) != 0) return CopyState::kNoMagic;
  if (h.format_version > kPoolFormatVersion) return CopyState::kNewer;
  if (h.header_size != sizeof(pf::Header) || h.format_version == 0 ||
      pf::Checksum(&h, offsetof(pf::Header, checksum)) != h.checksum)
    return CopyState::kBadChecksum;
  return CopyState::kValid;
}

// A header copy that passes its checksum is still checked: its name as the
// API would, its geometry against itself and the `backing_size` bytes
// mapped (a forgery can carry a good checksum).
Status CheckHeaderContents(const pf::Header& h, uint64_t backing_size, const std::string& where) {
  PMEMD_RETURN_IF_ERROR(pf::HeaderName(h, where).status());
  return pf::CheckHeaderGeometry(h, backing_size, where);
}

// The valid header (A preferred), and which copies need rewriting.
Result<pf::Header> ReadHeader(const pf::Header& a, const pf::Header& b, uint64_t backing_size, const std::string& where,
                              bool* repair_a, bool* repair_b) {
  CopyState sa = CheckHeader(a), sb = CheckHeader(b);
  for (const pf::Header* h : {&a, &b})
    if (CheckHeader(*h) == CopyState::kNewer)
      return Status::Unsupported(where + " holds a pool of format version " + std::to_string(h->format_version) +
                                 ", newer than this pmemd reads (" + std::to_string(kPoolFormatVersion) +
                                 "); upgrade pmemd");
  if (sa != CopyState::kValid && sb != CopyState::kValid) {
    if (sa == CopyState::kNoMagic && sb == CopyState::kNoMagic)
      return Status::InvalidArgument(where + " is not a pmemd pool (no pool header); create-pool formats one");
    return Status::Corruption(where + ": both copies of the pool header fail their checksum; the pool is damaged");
  }
  Status content_a = sa == CopyState::kValid ? CheckHeaderContents(a, backing_size, where) : Status::Ok();
  Status content_b = sb == CopyState::kValid ? CheckHeaderContents(b, backing_size, where) : Status::Ok();
  const bool a_ok = sa == CopyState::kValid && content_a.ok(), b_ok = sb == CopyState::kValid && content_b.ok();
  if (!a_ok && !b_ok) return sa == CopyState::kValid ? content_a : content_b;
  const pf::Header& h = a_ok ? a : b;
  *repair_a = !a_ok;
  *repair_b = !b_ok || std::memcmp(&a, &b, sizeof a) != 0;
  return h;
}

// Both copies from the mapping, after checking that the mapping holds them.
Result<pf::Header> ReadHeader(Media& m, const std::string& where, bool* repair_a, bool* repair_b) {
  if (m.size() < pf::kMinBackingSize)
    return Status::Corruption(where + " holds " + std::to_string(m.size()) + " bytes, fewer than the " +
                              std::to_string(pf::kMinBackingSize) +
                              " that a pool's headers and checkpoint take: it was truncated, or it is not a pool");
  pf::Header a{}, b{};
  PMEMD_RETURN_IF_ERROR(m.Read(pf::kHeaderAOffset, &a, sizeof a, "read header A"));
  PMEMD_RETURN_IF_ERROR(m.Read(pf::kHeaderBOffset, &b, sizeof b, "read header B"));
  return ReadHeader(a, b, m.size(), where, repair_a, repair_b);
}

}  // namespace

// ---- Format -------------------------------------------------------------------

Status Pool::CheckFormat(uint64_t backing_size, const PoolFormatOptions& o, const std::string& where) {
  if (!pf::ValidPoolName(o.name))
    return Status::InvalidArgument("pool name " + Quote(o.name) + " is not 1 to 63 characters of A-Z a-z 0-9 . _ -");
  if (!pf::IsPow2(o.block_size) || o.block_size < kPoolMinBlockSize)
    return Status::InvalidArgument("block size " + std::to_string(o.block_size) +
                                   " is not a power of two of at least 2 MiB; use e.g. 134217728 (128M)");
  if (o.max_leases == 0 || o.max_leases > 1u << 20)
    return Status::InvalidArgument("max_leases " + std::to_string(o.max_leases) + " is not between 1 and 1048576");
  if (o.log_size < pf::kMinLogSize || o.log_size % 4096 || o.log_size > (1ull << 30))
    return Status::InvalidArgument("log size " + std::to_string(o.log_size) +
                                   " is not a multiple of 4096 between 64 KiB and 1 GiB");
  if (o.memmap != PoolMemmap::kMem && o.memmap != PoolMemmap::kDev)
    return Status::InvalidArgument("memmap placement " + std::to_string(static_cast<int>(o.memmap)) +
                                   " is neither mem nor dev");
  const bool dev = o.memmap == PoolMemmap::kDev;
  const uint64_t size = pf::AlignDown(backing_size, kPoolPageSize);
  pf::Geometry g = pf::ComputeGeometry(size, o.block_size, o.max_leases, o.log_size, dev);
  if (g.block_count == 0) {
    // The smallest size that holds one block: the array grows with the pool.
    uint64_t need = g.data_offset + o.block_size;
    while (pf::ComputeGeometry(need, o.block_size, o.max_leases, o.log_size, dev).block_count == 0) need += o.block_size;
    return Status::InvalidArgument(
        where + " (" + std::to_string(backing_size) + " bytes) is too small for a pool of " + Human(o.block_size) +
        " blocks with memmap " + std::string(PoolMemmapName(o.memmap)) + ": it needs at least " + std::to_string(need) +
        (dev ? " bytes (metadata, the metadata array of 1/64 of the pool, then one block); use memmap mem, a "
               "smaller block size or a larger device"
             : " bytes (metadata, then one block); use a smaller block size or a larger device"));
  }
  return Status::Ok();
}

Status Pool::Format(const PoolBacking& backing, const PoolFormatOptions& o, PoolHooks* hooks) {
  const std::string where = Where(backing);
  PMEMD_RETURN_IF_ERROR(CheckFormat(backing.size, o, where));
  const uint64_t size = pf::AlignDown(backing.size, kPoolPageSize);
  pf::Geometry g = pf::ComputeGeometry(size, o.block_size, o.max_leases, o.log_size, o.memmap == PoolMemmap::kDev);
  // The tables and the log; a dev pool's array area after them is left as
  // it is (no seal vouches for it, so the first attach builds it).
  const uint64_t log_end = g.log_offset + o.log_size;
  PoolBacking b = backing;
  b.size = size;
  PMEMD_ASSIGN_OR_RETURN(auto m, Media::Open(b, hooks));
  m->SetSubject("pool " + o.name + " (being formatted on " + where + ")",
                "check the file or device and the file system's free space, then create-pool again");
  {
    bool ra = false, rb = false;
    auto existing = ReadHeader(*m, where, &ra, &rb);
    if (existing.ok() && !o.force)
      return Status::AlreadyExists(where + " already holds pool '" + pf::HeaderName(*existing, where).value() + "' (uuid " +
                                   UuidString(existing->uuid) +
                                   "); attach-pool it, or pass force to overwrite it and every lease in it");
    if (!existing.ok() && existing.status().code() != Code::kInvalidArgument && !o.force)
      return Status(existing.status().code(),
                    existing.status().message() + "; pass force to format over it", 0);
  }
  // 0. Allocate the metadata's blocks of a (sparse) file first: a full
  //    file system is then kNoSpace here, not a bus error while writing.
  PMEMD_RETURN_IF_ERROR(m->Reserve(0, g.metadata_end, "pool " + o.name));
  // 1. Invalidate both header copies, so that a crash below leaves "not a
  //    pool" rather than an old header over new tables.
  pf::Header zero{};
  PMEMD_RETURN_IF_ERROR(m->Store(pf::kHeaderAOffset, &zero, sizeof zero));
  PMEMD_RETURN_IF_ERROR(m->Store(pf::kHeaderBOffset, &zero, sizeof zero));
  PMEMD_RETURN_IF_ERROR(m->Persist(0, pf::kCheckpointOffset, "format-invalidate-headers"));
  // 2. Metadata: zeroed tables and log (and seal), every block offline,
  //    checkpoint 0.
  PMEMD_RETURN_IF_ERROR(m->Zero(pf::kCheckpointOffset, log_end - pf::kCheckpointOffset, "format-metadata"));
  std::vector<uint64_t> entries(g.block_count, pf::kBlockEntryTag | static_cast<uint64_t>(BlockState::kOffline));
  PMEMD_RETURN_IF_ERROR(m->Store(g.block_table_offset, entries.data(), entries.size() * 8));
  pf::CheckpointSlot cp{};
  cp.magic = pf::kCheckpointMagic;
  cp.seq = 0;
  cp.generation = 1;
  cp.checksum = pf::Checksum(&cp, offsetof(pf::CheckpointSlot, checksum));
  PMEMD_RETURN_IF_ERROR(m->Store(pf::kCheckpointOffset, &cp, sizeof cp));
  PMEMD_RETURN_IF_ERROR(m->Persist(pf::kCheckpointOffset, log_end - pf::kCheckpointOffset, "format-metadata"));
  // 3. The header, copy B then copy A.
  pf::Header h{};
  std::memcpy(h.magic, pf::kHeaderMagic, 8);
  h.format_version = kPoolFormatVersion;
  h.header_size = sizeof h;
  if (::getrandom(h.uuid, sizeof h.uuid, 0) != sizeof h.uuid) return Status::FromErrno(errno, "getrandom");
  h.uuid[6] = (h.uuid[6] & 0x0f) | 0x40;
  h.uuid[8] = (h.uuid[8] & 0x3f) | 0x80;
  std::memcpy(h.name, o.name.data(), o.name.size());
  h.pool_size = size;
  h.block_size = o.block_size;
  h.block_count = g.block_count;
  h.data_offset = g.data_offset;
  h.checkpoint_offset = pf::kCheckpointOffset;
  h.block_table_offset = g.block_table_offset;
  h.lease_table_offset = g.lease_table_offset;
  h.lease_slots = o.max_leases;
  h.lease_slot_size = pf::kLeaseSlotSize;
  h.log_offset = g.log_offset;
  h.log_size = o.log_size;
  h.created_ns = NowNs(CLOCK_REALTIME);
  h.memmap_mode = o.memmap == PoolMemmap::kDev ? pf::kMemmapDev : pf::kMemmapMem;
  h.memmap_offset = g.memmap_offset;
  h.memmap_size = g.memmap_size;
  h.checksum = pf::Checksum(&h, offsetof(pf::Header, checksum));
  PMEMD_RETURN_IF_ERROR(m->Write(pf::kHeaderBOffset, &h, sizeof h, "format-header-b"));
  PMEMD_RETURN_IF_ERROR(m->Write(pf::kHeaderAOffset, &h, sizeof h, "format-header-a"));
  GetLogger("pool")->info("pool {} formatted on {}: {} blocks of {}, data at {}, {} lease slots, {} log, memmap {}{}",
                          o.name, where, g.block_count, Human(o.block_size), g.data_offset, o.max_leases,
                          Human(o.log_size), PoolMemmapName(o.memmap),
                          g.memmap_size ? " (" + Human(g.memmap_size) + " at " + std::to_string(g.memmap_offset) + ")" : "");
  return Status::Ok();
}

namespace {

// ReadInfo's two header copies of the pool at `offset` of fd. A device-dax
// character device has no read(2)/pread(2) (the kernel answers EINVAL): it
// only maps, MAP_SHARED and in whole units of its alignment (2 MiB, 1 GiB),
// so there the copies are copied out of a read-only mapping of the units
// that hold them, the alignment and size coming from libpmem2 as for Media.
// Regular files, and character devices libpmem2 does not take for dax
// devices, are read with pread. Returns false when the backing ends first.
Result<bool> ReadHeaderCopies(int fd, const struct stat& st, uint64_t offset, const std::string& where,
                              pf::Header* a, pf::Header* b) {
  const uint64_t end = offset + pf::kHeaderBOffset + sizeof *b;
  pmem2_source* src = nullptr;
  if (S_ISCHR(st.st_mode) && pmem2_source_from_fd(&src, fd) == 0) {
    size_t align = 0, dev_size = 0;
    int rc = pmem2_source_alignment(src, &align);
    if (rc == 0) rc = pmem2_source_size(src, &dev_size);
    pmem2_source_delete(&src);
    if (rc != 0)
      return Status(Code::kIoError, where + ": the dax device's alignment and size: " + pmem2_errormsg());
    if (align == 0 || end > dev_size) return false;
    const uint64_t first = offset / align * align;
    const uint64_t len = std::min<uint64_t>((end + align - 1) / align * align, dev_size) - first;
    void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(first));
    if (p == MAP_FAILED) return Status::FromErrno(errno, "map the pool header of " + where);
    const auto* base = static_cast<const uint8_t*>(p) + (offset - first);
    std::memcpy(a, base + pf::kHeaderAOffset, sizeof *a);
    std::memcpy(b, base + pf::kHeaderBOffset, sizeof *b);
    ::munmap(p, len);
    return true;
  }
  for (auto [h, off] : {std::pair{a, pf::kHeaderAOffset}, std::pair{b, pf::kHeaderBOffset}})
    if (::pread(fd, h, sizeof *h, static_cast<off_t>(offset + off)) != static_cast<ssize_t>(sizeof *h)) return false;
  return true;
}

}  // namespace

Result<Pool::HeaderInfo> Pool::ReadInfo(const PoolBacking& backing) {
  const std::string where = Where(backing);
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  PMEMD_ASSIGN_OR_RETURN(UniqueFd fd, OpenBacking(backing, O_RDONLY | O_NONBLOCK | O_NOCTTY));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat " + backing.path);
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    return Status::InvalidArgument(where + " is not a regular file or a dax device, so not a pmemd pool");
  uint64_t size = backing.size ? backing.size : UINT64_MAX;
  if (S_ISREG(st.st_mode))
    size = std::min<uint64_t>(size, static_cast<uint64_t>(st.st_size) > backing.offset ? st.st_size - backing.offset : 0);
  auto too_short = [&] {
    return Status::InvalidArgument(where + " is not a pmemd pool (too short to hold a pool header)");
  };
  if (size < pf::kMinBackingSize) return too_short();
  pf::Header a{}, b{};
  PMEMD_ASSIGN_OR_RETURN(bool whole, ReadHeaderCopies(fd.get(), st, backing.offset, where, &a, &b));
  if (!whole) return too_short();
  bool ra = false, rb = false;
  PMEMD_ASSIGN_OR_RETURN(pf::Header h, ReadHeader(a, b, size, where, &ra, &rb));
  PMEMD_ASSIGN_OR_RETURN(std::string name, pf::HeaderName(h, where));
  return HeaderInfo{name, h.memmap_mode == pf::kMemmapDev ? PoolMemmap::kDev : PoolMemmap::kMem, h.pool_size};
}

// ---- The attached pool ----------------------------------------------------------

struct Pool::Impl {
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
  pf::Header hdr{};
  uint64_t seed = 0;
  std::string name, uuid;
  uint64_t attach_ns = 0;

  mutable std::shared_mutex mu;
  std::vector<Block> blocks;                        // guarded by mu
  std::vector<pf::LeaseSlot> slots;                 // guarded by mu: the tables as the log says
  std::vector<bool> slot_dirty, block_dirty;        // guarded by mu: differ from the tables on media
  std::map<std::string, uint32_t, std::less<>> by_name;  // guarded by mu
  std::unordered_map<uint64_t, uint32_t> by_id;     // guarded by mu
  std::set<uint32_t> free_slots;                    // guarded by mu
  ExtentAllocator alloc;                            // guarded by mu
  std::vector<uint64_t> bad_pfns;                   // guarded by mu, sorted
  uint64_t seq = 0;                                 // guarded by mu: last durable record
  std::unique_ptr<RedoLog> redo;                    // guarded by mu
  uint64_t ckpt_generation = 0;                     // guarded by mu
  int ckpt_slot = 0;                                // guarded by mu
  std::unique_ptr<MemMap> memmap;
  // Dev pools: the array's sections (2 MiB of descriptors each) changed
  // since attach, persisted before the seal at detach.
  static constexpr uint64_t kSealSectionPages = PageDesc::kPagesPerMemorySection;
  std::vector<uint8_t> memmap_dirty;                // guarded by mu
  bool memmap_reused = false;                       // the attach adopted a sealed array
  // The bad pages changed after the array was rendered (the descriptors of
  // blocks already online do not show them): such an array is not sealed.
  bool bad_changed = false;                         // guarded by mu

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
  static Lease FromSlot(const pf::LeaseSlot& s) {
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
      if (auto labels = pf::ParseLabels(std::string_view(s.labels, s.labels_len)); labels.ok()) l.labels = std::move(*labels);
    }
    return l;
  }

  // ---- the redo log
  // One record after the last, checkpointing first when the log is full.
  Status Append(pf::RecordType type, const void* payload, uint32_t len) {
    PMEMD_RETURN_IF_ERROR(redo->CheckFits(len));
    if (!redo->HasRoom(len)) PMEMD_RETURN_IF_ERROR(CheckpointLocked());
    PMEMD_RETURN_IF_ERROR(redo->Append(seq + 1, type, payload, len));
    ++seq;
    return Status::Ok();
  }

  Status AppendBlocks(const std::vector<uint64_t>& targets, BlockState state) {
    std::vector<uint8_t> p(sizeof(pf::BlockSetPayload));
    uint32_t runs = 0;
    for (size_t i = 0; i < targets.size();) {
      size_t j = i + 1;
      while (j < targets.size() && targets[j] == targets[j - 1] + 1) ++j;
      pf::BlockRun r{static_cast<uint32_t>(targets[i]), static_cast<uint32_t>(j - i), static_cast<uint32_t>(state), 0};
      p.insert(p.end(), reinterpret_cast<uint8_t*>(&r), reinterpret_cast<uint8_t*>(&r) + sizeof r);
      ++runs;
      i = j;
    }
    std::memcpy(p.data(), &runs, sizeof runs);
    return Append(pf::RecordType::kBlockSet, p.data(), static_cast<uint32_t>(p.size()));
  }

  // Applies a durable record to the DRAM images (replay only).
  Status ApplyRecord(const pf::RecordHeader& h, const uint8_t* p) {
    auto bad = [&](const std::string& what) {
      return Status::Corruption("pool " + name + ": log record " + std::to_string(h.seq) + " " + what);
    };
    switch (static_cast<pf::RecordType>(h.type)) {
      case pf::RecordType::kLeaseSet: {
        if (h.length != sizeof(pf::LeaseSetPayload)) return bad("has the wrong length");
        pf::LeaseSetPayload ls;
        std::memcpy(&ls, p, sizeof ls);
        if (ls.slot >= slots.size()) return bad("names lease slot " + std::to_string(ls.slot) + " past the table");
        slots[ls.slot] = ls.image;
        slot_dirty[ls.slot] = true;
        return Status::Ok();
      }
      case pf::RecordType::kLeaseClear: {
        if (h.length != sizeof(pf::LeaseClearPayload)) return bad("has the wrong length");
        pf::LeaseClearPayload lc;
        std::memcpy(&lc, p, sizeof lc);
        if (lc.slot >= slots.size()) return bad("names lease slot " + std::to_string(lc.slot) + " past the table");
        // The slot need not still hold the lease: a checkpoint writes the
        // tables in place before it commits, so after a crash in between
        // the tables are ahead of the records replayed over them. Every
        // record sets its slot or blocks to a whole new value, so replaying
        // in order from the committed checkpoint ends in the same state
        // whatever the tables held (PowerLossTest.ACrashDuringRecoveryRecoversTheSameState).
        slots[lc.slot] = pf::LeaseSlot{};
        slot_dirty[lc.slot] = true;
        return Status::Ok();
      }
      case pf::RecordType::kBlockSet: {
        if (h.length < sizeof(pf::BlockSetPayload)) return bad("has the wrong length");
        pf::BlockSetPayload bs;
        std::memcpy(&bs, p, sizeof bs);
        if (h.length != sizeof bs + uint64_t{bs.runs} * sizeof(pf::BlockRun)) return bad("has the wrong length");
        for (uint32_t i = 0; i < bs.runs; ++i) {
          pf::BlockRun r;
          std::memcpy(&r, p + sizeof bs + i * sizeof r, sizeof r);
          if (r.state > 3 || uint64_t{r.first} + r.count > blocks.size()) return bad("names blocks past the table");
          for (uint64_t b = r.first; b < uint64_t{r.first} + r.count; ++b) {
            blocks[b].state = static_cast<BlockState>(r.state);
            block_dirty[b] = true;
          }
        }
        return Status::Ok();
      }
    }
    return bad("has unknown type " + std::to_string(h.type));
  }

  Status CheckpointLocked() {
    PMEMD_RETURN_IF_ERROR(media->Usable(/*force=*/true));
    if (redo->tail() == 0 && std::find(block_dirty.begin(), block_dirty.end(), true) == block_dirty.end() &&
        std::find(slot_dirty.begin(), slot_dirty.end(), true) == slot_dirty.end())
      return Status::Ok();
    // Block table entries, then lease slots: stored, then persisted as
    // ranges; then the checkpoint slot not in use names the last record.
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t b = 0; b < blocks.size(); ++b) {
      if (!block_dirty[b]) continue;
      uint64_t e = pf::kBlockEntryTag | static_cast<uint64_t>(blocks[b].state);
      uint64_t off = hdr.block_table_offset + b * 8;
      PMEMD_RETURN_IF_ERROR(media->Store(off, &e, 8));
      lo = std::min(lo, off);
      hi = std::max(hi, off + 8);
    }
    if (hi) PMEMD_RETURN_IF_ERROR(media->Persist(lo, hi - lo, "checkpoint-blocks"));
    lo = UINT64_MAX, hi = 0;
    for (size_t s = 0; s < slots.size(); ++s) {
      if (!slot_dirty[s]) continue;
      uint64_t off = hdr.lease_table_offset + s * pf::kLeaseSlotSize;
      PMEMD_RETURN_IF_ERROR(media->Store(off, &slots[s], sizeof slots[s]));
      lo = std::min(lo, off);
      hi = std::max(hi, off + pf::kLeaseSlotSize);
    }
    if (hi) PMEMD_RETURN_IF_ERROR(media->Persist(lo, hi - lo, "checkpoint-leases"));
    pf::CheckpointSlot cp{};
    cp.magic = pf::kCheckpointMagic;
    cp.seq = seq;
    cp.generation = ckpt_generation + 1;
    cp.checksum = pf::Checksum(&cp, offsetof(pf::CheckpointSlot, checksum));
    int next = 1 - ckpt_slot;
    PMEMD_RETURN_IF_ERROR(media->Write(pf::kCheckpointOffset + next * sizeof cp, &cp, sizeof cp, "checkpoint-commit"));
    ckpt_slot = next;
    ckpt_generation = cp.generation;
    redo->Reset();
    std::fill(block_dirty.begin(), block_dirty.end(), false);
    std::fill(slot_dirty.begin(), slot_dirty.end(), false);
    log->debug("pool {}: checkpoint {} at record {}", name, ckpt_generation, seq);
    return Status::Ok();
  }

  // ---- pages: the metadata array (descriptor bits: pages.h)
  bool Dev() const { return hdr.memmap_mode == pf::kMemmapDev; }
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
  void Touched(uint64_t pfn, uint64_t count) {
    if (!Dev() || count == 0) return;
    for (uint64_t s = pfn / kSealSectionPages; s <= (pfn + count - 1) / kSealSectionPages; ++s) memmap_dirty[s] = 1;
  }

  // The leases' extents, sorted by offset.
  std::vector<Extent> LeaseExtents() const {
    std::vector<Extent> v;
    for (const auto& [n, slot] : by_name) v.push_back({slots[slot].offset, slots[slot].length});
    std::sort(v.begin(), v.end(), [](const Extent& x, const Extent& y) { return x.offset < y.offset; });
    return v;
  }
  // The allocator's share of online block b, from the tables alone: its
  // pages less the `leases` (sorted) and the bad pages, which it counts as
  // the block's poisoned pages. O(leases and bad pages in it), not O(pages).
  void FreeBlock(uint64_t b, const std::vector<Extent>& leases) {
    const uint64_t end = BlockOffset(b) + hdr.block_size;
    uint64_t pos = BlockOffset(b), poisoned = 0;
    auto li = std::lower_bound(leases.begin(), leases.end(), pos,
                               [](const Extent& e, uint64_t p) { return e.offset + e.length <= p; });
    auto bi = std::lower_bound(bad_pfns.begin(), bad_pfns.end(), pos / kPoolPageSize);
    while (pos < end) {
      while (bi != bad_pfns.end() && *bi * kPoolPageSize < pos) ++bi;
      const uint64_t lease_at = li != leases.end() ? std::max(li->offset, pos) : end;
      const uint64_t bad_at = bi != bad_pfns.end() ? *bi * kPoolPageSize : end;
      const uint64_t hole = std::min({lease_at, bad_at, end});
      if (hole > pos) alloc.Free(pos, hole - pos);
      pos = hole;
      if (pos >= end) break;
      if (lease_at == pos) {
        pos = std::min(end, li->offset + li->length);  // bad pages in a lease are not the block's poisoned ones
        ++li;
      } else {
        ++poisoned;
        pos += kPoolPageSize;
      }
    }
    blocks[b].poisoned_pages = poisoned;
  }
  void AccountLease(uint64_t offset, uint64_t length, bool add) {
    for (uint64_t b = (offset - hdr.data_offset) / hdr.block_size;
         b < blocks.size() && BlockOffset(b) < offset + length; ++b) {
      uint64_t s = std::max(offset, BlockOffset(b)), e = std::min(offset + length, BlockOffset(b) + hdr.block_size);
      uint64_t pages = (e - s) / kPoolPageSize;
      if (add)
        blocks[b].leased_pages += pages;
      else
        blocks[b].leased_pages -= pages;
    }
  }

  // The whole array as the tables say, into `d` (initialized, every page
  // Offline): metadata pages reserved, leased pages leased, online blocks'
  // other pages free or poisoned. Raw accesses only.
  void Render(PageDesc* d) const {
    DescsReserve(d, hdr.data_offset / kPoolPageSize);
    for (const auto& [n, slot] : by_name)
      DescsLease(d + slots[slot].offset / kPoolPageSize, slots[slot].length / kPoolPageSize, slots[slot].id);
    for (uint64_t b = 0; b < blocks.size(); ++b)
      if (blocks[b].state == BlockState::kOnline)
        DescsOnline(d + BlockOffset(b) / kPoolPageSize, BlockOffset(b) / kPoolPageSize, PagesPerBlock(),
                    bad_pfns.data(), bad_pfns.data() + bad_pfns.size());
  }

  // Block b's pages go online (an offline block: no lease in it).
  Status PagesOnline(uint64_t b) {
    const uint64_t pfn0 = BlockOffset(b) / kPoolPageSize, n = PagesPerBlock();
    PageDesc* d = Pages(pfn0, n);
    PMEMD_RETURN_IF_ERROR(OnPages("online block " + std::to_string(b),
                                  [&] { DescsOnline(d, pfn0, n, bad_pfns.data(), bad_pfns.data() + bad_pfns.size()); }));
    Touched(pfn0, n);
    FreeBlock(b, {});
    return Status::Ok();
  }
  // Block b's pages go offline (isolated and found unleased).
  Status PagesOffline(uint64_t b) {
    const uint64_t pfn0 = BlockOffset(b) / kPoolPageSize, n = PagesPerBlock();
    PageDesc* d = Pages(pfn0, n);
    PMEMD_RETURN_IF_ERROR(OnPages("offline block " + std::to_string(b), [&] { DescsOffline(d, n); }));
    Touched(pfn0, n);
    blocks[b].poisoned_pages = 0;
    return Status::Ok();
  }
  Status PagesLease(uint64_t offset, uint64_t length, uint64_t id, bool add) {
    const uint64_t pfn0 = offset / kPoolPageSize, n = length / kPoolPageSize;
    PageDesc* d = Pages(pfn0, n);
    PMEMD_RETURN_IF_ERROR(OnPages(add ? "lease pages" : "free pages", [&] {
      if (add)
        DescsLease(d, n, id);
      else
        DescsUnlease(d, n);
    }));
    Touched(pfn0, n);
    AccountLease(offset, length, add);
    return Status::Ok();
  }

  // The names of the leases holding pages of block b, through the pages'
  // owner field.
  Result<std::vector<std::string>> Holders(uint64_t b) {
    const uint64_t pfn0 = BlockOffset(b) / kPoolPageSize, n = PagesPerBlock();
    PageDesc* d = Pages(pfn0, n);
    std::vector<uint64_t> owners(n);
    uint64_t* o = owners.data();
    PMEMD_RETURN_IF_ERROR(OnPages("read block " + std::to_string(b), [&] {
      for (uint64_t i = 0; i < n; ++i) o[i] = d[i].Owner();
    }));
    std::vector<std::string> names;
    uint64_t last = 0;
    for (uint64_t owner : owners) {
      if (owner == 0 || owner == last) continue;
      last = owner;
      if (auto it = by_id.find(owner); it != by_id.end()) {
        std::string nm(slots[it->second].name, slots[it->second].name_len);
        if (std::find(names.begin(), names.end(), nm) == names.end()) names.push_back(nm);
      }
    }
    return names;
  }

  // ---- the one transition function
  void Transition(uint64_t b, BlockState to) {
    Block& blk = blocks[b];
    const BlockState from = blk.state;
    Status s = CheckTransition(b, from, to);
    if (!s.ok()) {
      // A bug in pmemd, never user input: the callers only ask for legal ones.
      log->error("pool {}: {}", name, s.message());
      return;
    }
    const uint64_t now = NowNs();
    blk.state = to;
    block_dirty[b] = true;
    const std::string object = Object() + "/block" + std::to_string(b);
    if (to == BlockState::kGoingOnline || to == BlockState::kGoingOffline) {
      blk.since_ns = now;
      log->debug("pool {} block {}: {} -> {}", name, b, BlockStateName(from), BlockStateName(to));
      Publish("pool_block", object, BlockStateName(from), BlockStateName(to));
    } else {
      uint64_t us = (now - blk.since_ns) / 1000;
      bool cancel = (from == BlockState::kGoingOnline && to == BlockState::kOffline) ||
                    (from == BlockState::kGoingOffline && to == BlockState::kOnline);
      log->info("pool {} block {}: {} -> {}{} ({} us)", name, b, BlockStateName(from), BlockStateName(to),
                cancel ? " (cancelled)" : "", us);
      Publish("pool_block", object, BlockStateName(from), BlockStateName(to),
              {{"duration_ns", now - blk.since_ns}, {"cancelled", cancel}});
    }
  }

  void RefreshBadblocks() {
    if (!options.badblocks) return;
    auto r = options.badblocks();
    if (!r.ok()) {
      log->warn("pool {}: cannot read badblocks ({}); keeping the known ones", name, r.status().message());
      return;
    }
    std::vector<uint64_t> pfns;
    for (const auto& [off, len] : *r) {
      if (len == 0) continue;
      uint64_t first = off / kPoolPageSize, last = (off + len - 1) / kPoolPageSize;
      for (uint64_t p = first; p <= last && p < hdr.pool_size / kPoolPageSize; ++p) pfns.push_back(p);
    }
    std::sort(pfns.begin(), pfns.end());
    pfns.erase(std::unique(pfns.begin(), pfns.end()), pfns.end());
    if (memmap && pfns != bad_pfns) bad_changed = true;
    bad_pfns = std::move(pfns);
  }

  Lease LeaseAt(uint32_t slot) const { return FromSlot(slots[slot]); }

  // ---- the array's placement and seal
  // How the array is made: in DRAM (mem) with the pool's strategy; on the
  // media (dev) under the media guard, eagerly (deferred growth would
  // touch the media from background threads after attach returned), or
  // adopted as it is after a clean detach.
  MemMapOptions MemmapOptions(bool adopt) {
    MemMapOptions mo;
    mo.pages = hdr.pool_size / kPoolPageSize;
    mo.initial_state = PageInitState::kOffline;
    mo.initial_refcount = 1;
    mo.strategy = options.strategy;
    mo.threads = options.memmap_threads;
    if (Dev()) {
      if (mo.strategy == InitStrategy::kDeferred) mo.strategy = InitStrategy::kTemplateStream;
      mo.memory = media->base() + hdr.memmap_offset;
      mo.memory_bytes = hdr.memmap_size;
      mo.adopt = adopt;
      const uint8_t* base = media->base();
      const uint64_t size = media->size();
      PoolHooks* hooks = options.hooks;
      mo.guard = [base, size, hooks](void (*fn)(void*), void* arg) {
        const bool ok = !RunGuarded(base, size, fn, arg);
        if (hooks) hooks->Milestone("memmap-filled");
        return ok;
      };
    }
    return mo;
  }
  // Checksum of the array's first and last 4 KiB, read through the media.
  Result<uint64_t> ArraySample() {
    const uint64_t bytes = hdr.pool_size / kPoolPageSize * pf::kDescSize, n = std::min<uint64_t>(bytes, 4096);
    std::vector<uint8_t> buf(2 * n);
    PMEMD_RETURN_IF_ERROR(media->Read(hdr.memmap_offset, buf.data(), n, "read the metadata array"));
    PMEMD_RETURN_IF_ERROR(media->Read(hdr.memmap_offset + bytes - n, buf.data() + n, n, "read the metadata array"));
    return pf::Checksum(buf.data(), buf.size());
  }
  uint64_t BadChecksum() const {
    return bad_pfns.empty() ? 0 : pf::Checksum(bad_pfns.data(), bad_pfns.size() * sizeof(uint64_t));
  }
  // Whether `seal` vouches for the array as it is for the tables now.
  Result<bool> SealMatches(const pf::MemmapSeal& seal) {
    if (seal.magic != pf::kSealMagic || pf::Checksum(&seal, offsetof(pf::MemmapSeal, checksum)) != seal.checksum)
      return false;
    if (seal.seq != seq || seal.generation != ckpt_generation || seal.pages != hdr.pool_size / kPoolPageSize ||
        seal.header_checksum != hdr.checksum || seal.badblocks != BadChecksum())
      return false;
    PMEMD_ASSIGN_OR_RETURN(uint64_t sample, ArraySample());
    return sample == seal.array;
  }
  // At a clean detach of a dev pool, after the checkpoint: the changed
  // sections persisted, then the seal that vouches for them.
  Status Seal() {
    if (!Dev() || bad_changed || !memmap || !memmap->IsComplete()) return Status::Ok();
    for (uint64_t s = 0; s < memmap_dirty.size();) {
      if (!memmap_dirty[s]) {
        ++s;
        continue;
      }
      uint64_t e = s;
      while (e < memmap_dirty.size() && memmap_dirty[e]) ++e;
      const uint64_t bytes = hdr.pool_size / kPoolPageSize * pf::kDescSize;
      const uint64_t off = s * kSealSectionPages * pf::kDescSize, len = std::min(bytes, e * kSealSectionPages * pf::kDescSize) - off;
      PMEMD_RETURN_IF_ERROR(media->Persist(hdr.memmap_offset + off, len, "memmap-persist"));
      s = e;
    }
    std::fill(memmap_dirty.begin(), memmap_dirty.end(), 0);
    pf::MemmapSeal seal{};
    seal.magic = pf::kSealMagic;
    seal.seq = seq;
    seal.generation = ckpt_generation;
    seal.pages = hdr.pool_size / kPoolPageSize;
    seal.header_checksum = hdr.checksum;
    seal.badblocks = BadChecksum();
    PMEMD_ASSIGN_OR_RETURN(seal.array, ArraySample());
    seal.checksum = pf::Checksum(&seal, offsetof(pf::MemmapSeal, checksum));
    return media->Write(pf::kSealOffset, &seal, sizeof seal, "memmap-seal");
  }

  Status Load();
};

// ---- Attach ----------------------------------------------------------------------

Status Pool::Impl::Load() {
  const std::string where = Where(backing);
  bool repair_a = false, repair_b = false;
  // ReadHeader checks the mapping's size before reading either copy, and
  // the chosen copy's name and geometry against the mapping: every offset
  // and size used below comes from a header that passed.
  PMEMD_ASSIGN_OR_RETURN(hdr, ReadHeader(*media, where, &repair_a, &repair_b));
  PMEMD_ASSIGN_OR_RETURN(name, pf::HeaderName(hdr, where));
  media->SetSubject("pool " + name, "detach-pool " + name);
  uuid = UuidString(hdr.uuid);
  seed = pf::UuidSeed(hdr.uuid);
  if (repair_a) {
    log->warn("pool {}: header copy A was damaged; rewritten from copy B", name);
    PMEMD_RETURN_IF_ERROR(media->Write(pf::kHeaderAOffset, &hdr, sizeof hdr, "header-repair-a"));
  }
  if (repair_b) {
    log->warn("pool {}: header copy B was damaged or stale; rewritten from copy A", name);
    PMEMD_RETURN_IF_ERROR(media->Write(pf::kHeaderBOffset, &hdr, sizeof hdr, "header-repair-b"));
  }

  // The checkpoint: the valid slot of the higher generation.
  pf::CheckpointSlot cps[2];
  PMEMD_RETURN_IF_ERROR(media->Read(pf::kCheckpointOffset, cps, sizeof cps, "read the checkpoint"));
  int best = -1;
  for (int i = 0; i < 2; ++i) {
    const auto& c = cps[i];
    if (c.magic != pf::kCheckpointMagic || pf::Checksum(&c, offsetof(pf::CheckpointSlot, checksum)) != c.checksum)
      continue;
    if (best < 0 || c.generation > cps[best].generation) best = i;
  }
  if (best < 0) return Status::Corruption(where + ": pool " + name + " has no valid checkpoint slot; the pool is damaged");
  if (cps[best].seq > pf::kMaxSeq)
    return Status::Corruption(where + ": pool " + name + " checkpoint slot " + std::to_string(best) + " names record " +
                              std::to_string(cps[best].seq) + ", more than were ever written; the pool is damaged");
  ckpt_slot = best;
  ckpt_generation = cps[best].generation;
  seq = cps[best].seq;

  // The tables as last checkpointed.
  blocks.assign(hdr.block_count, Block{});
  block_dirty.assign(hdr.block_count, false);
  std::vector<uint64_t> entries(hdr.block_count);
  PMEMD_RETURN_IF_ERROR(media->Read(hdr.block_table_offset, entries.data(), entries.size() * 8, "read the block table"));
  for (uint64_t b = 0; b < hdr.block_count; ++b) {
    if ((entries[b] & ~uint64_t{0xff}) != pf::kBlockEntryTag || (entries[b] & 0xff) > 3)
      return Status::Corruption(where + ": pool " + name + " block table entry " + std::to_string(b) + " is damaged");
    blocks[b].state = static_cast<BlockState>(entries[b] & 0xff);
  }
  slots.resize(hdr.lease_slots);
  slot_dirty.assign(hdr.lease_slots, false);
  PMEMD_RETURN_IF_ERROR(
      media->Read(hdr.lease_table_offset, slots.data(), hdr.lease_slots * sizeof(pf::LeaseSlot), "read the lease table"));

  // Replay the records after the checkpoint.
  redo = std::make_unique<RedoLog>(media.get(), hdr.log_offset, hdr.log_size, seed, name);
  PMEMD_ASSIGN_OR_RETURN(const uint64_t replayed,
                         redo->Replay(seq, [this](const pf::RecordHeader& h, const uint8_t* p) -> Status {
                           PMEMD_RETURN_IF_ERROR(ApplyRecord(h, p));
                           ++seq;
                           return Status::Ok();
                         }));

  // Blocks caught half way go back to their last stable state.
  uint64_t rolled_back = 0;
  for (uint64_t b = 0; b < blocks.size(); ++b) {
    BlockState s = blocks[b].state, stable = StableStateOf(s);
    if (s == stable) continue;
    log->warn("pool {} block {}: found {} after a crash; rolled back to {}", name, b, BlockStateName(s),
              BlockStateName(stable));
    blocks[b].state = stable;
    block_dirty[b] = true;
    ++rolled_back;
  }

  // Leases: checksums, bounds, names, overlaps, online blocks.
  std::vector<std::pair<uint64_t, uint32_t>> by_offset;
  for (uint32_t s = 0; s < slots.size(); ++s) {
    const pf::LeaseSlot& l = slots[s];
    auto bad = [&](const std::string& what) {
      return Status::Corruption(where + ": pool " + name + " lease slot " + std::to_string(s) + " " + what +
                                "; the pool cannot be attached (see Untrusted media in docs/pool-format.md)");
    };
    if (l.magic == 0) {
      free_slots.insert(s);
      continue;
    }
    if (l.magic != pf::kLeaseMagic) return bad("is damaged (bad magic)");
    if (pf::Checksum(&l, offsetof(pf::LeaseSlot, checksum)) != l.checksum) return bad("fails its checksum");
    // Lengths, name, owner, labels, extent and id; after this the slot's
    // strings are safe to show and its extent lies inside the blocks.
    if (Status st = pf::CheckLeaseSlot(l, hdr, seq); !st.ok()) return bad(st.message());
    std::string nm(l.name, l.name_len);
    if (!by_name.emplace(nm, s).second) return bad("repeats the lease name '" + nm + "'");
    if (!by_id.emplace(l.id, s).second)
      return bad("(lease '" + nm + "') repeats the id " + std::to_string(l.id) + " of lease slot " +
                 std::to_string(by_id[l.id]));
    by_offset.push_back({l.offset, s});
  }
  std::sort(by_offset.begin(), by_offset.end());
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto& p = slots[by_offset[i - 1].second];
    const auto& q = slots[by_offset[i].second];
    if (p.offset + p.length > q.offset)
      return Status::Corruption(where + ": pool " + name + " leases '" + std::string(p.name, p.name_len) + "' and '" +
                                std::string(q.name, q.name_len) + "' overlap");
  }
  for (const auto& [off, s] : by_offset) {
    const auto& l = slots[s];
    for (uint64_t b = (l.offset - hdr.data_offset) / hdr.block_size; b < blocks.size() && BlockOffset(b) < l.offset + l.length; ++b)
      if (blocks[b].state != BlockState::kOnline)
        return Status::Corruption(where + ": pool " + name + " lease '" + std::string(l.name, l.name_len) +
                                  "' lies in block " + std::to_string(b) + ", which is " +
                                  std::string(BlockStateName(blocks[b].state)));
  }

  // The allocator and the blocks' counts, from the tables.
  RefreshBadblocks();
  {
    const std::vector<Extent> leases = LeaseExtents();
    for (const Extent& e : leases) AccountLease(e.offset, e.length, true);
    for (uint64_t b = 0; b < blocks.size(); ++b)
      if (blocks[b].state == BlockState::kOnline) FreeBlock(b, leases);
  }
  // The metadata array: a dev pool's sealed array as it is, else built.
  pf::MemmapSeal seal{};
  if (Dev()) {
    PMEMD_RETURN_IF_ERROR(media->Read(pf::kSealOffset, &seal, sizeof seal, "read the memmap seal"));
    PMEMD_ASSIGN_OR_RETURN(bool sealed, SealMatches(seal));
    memmap_reused = sealed && !replayed && !rolled_back && !repair_a && !repair_b;
    if (seal.magic != 0) {
      // Unsealed before any descriptor may change: from here a crash
      // leaves an array that the next attach rebuilds.
      const pf::MemmapSeal zero{};
      PMEMD_RETURN_IF_ERROR(media->Write(pf::kSealOffset, &zero, sizeof zero, "memmap-unseal"));
    }
  }
  PMEMD_ASSIGN_OR_RETURN(memmap, MemMap::Create(MemmapOptions(memmap_reused)));
  if (memmap->Stats().faulted)
    return media->Guarded("build the metadata array", [] {}).ok()
               ? Status(Code::kIoError, "pool " + name + ": building the metadata array on " + where + " faulted", EIO)
               : Status(Code::kIoError, media->failure(), EIO);
  if (Dev()) memmap_dirty.assign((memmap->pages() + kSealSectionPages - 1) / kSealSectionPages, memmap_reused ? 0 : 1);
  if (!memmap_reused) {
    PageDesc* d = Pages(0, memmap->pages());
    PMEMD_RETURN_IF_ERROR(OnPages("render the metadata array", [&] { Render(d); }));
    if (options.hooks) options.hooks->Milestone("memmap-rendered");
  }

  if (replayed || rolled_back || repair_a || repair_b) PMEMD_RETURN_IF_ERROR(CheckpointLocked());
  pf::AttachInfo ai{pf::kAttachMagic, static_cast<uint64_t>(::getpid()), NowNs(CLOCK_REALTIME), {}};
  PMEMD_RETURN_IF_ERROR(media->Write(pf::kAttachInfoOffset, &ai, sizeof ai, "attach-info"));
  if (replayed || rolled_back)
    log->info("pool {}: recovered: replayed {} log records, rolled back {} blocks", name, replayed, rolled_back);
  return Status::Ok();
}

Pool::Pool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Pool>> Pool::Attach(const PoolBacking& backing, const PoolOptions& options) {
  const uint64_t start = NowNs();
  auto impl = std::make_unique<Impl>();
  impl->backing = backing;
  impl->options = options;
  PMEMD_ASSIGN_OR_RETURN(impl->media, Media::Open(backing, options.hooks));
  PMEMD_RETURN_IF_ERROR(impl->Load());
  impl->attach_ns = NowNs() - start;
  auto& im = *impl;
  MemMapStats ms = im.memmap->Stats();
  uint64_t online = 0;
  for (const auto& b : im.blocks) online += b.state == BlockState::kOnline;
  // One line per attach, like the kernel's memmap_init_zone_device.
  const std::string how =
      ms.adopted ? "memmap dev: " + std::to_string(ms.descriptors) + " pages reused as sealed at the last clean detach"
                 : fmt::format("memmap {}: {} pages initialised in {:.3f} ms (strategy {}{})", im.Dev() ? "dev" : "mem",
                               ms.descriptors, (ms.init_ns ? ms.init_ns : ms.ready_ns) / 1e6,
                               InitStrategyName(ms.strategy),
                               ms.init_ns ? "" : ", ready; the rest in the background");
  im.log->info("pool {} attached on {}: {}, {}/{} blocks online, {} leases, granularity {}, attach {:.3f} ms", im.name,
               Where(backing), how, online, im.blocks.size(), im.by_name.size(),
               GranularityName(im.media->granularity()), im.attach_ns / 1e6);
  im.Publish("pool", im.Object(), "", "attached",
             {{"uuid", im.uuid},
              {"attach_ns", im.attach_ns},
              {"strategy", InitStrategyName(ms.strategy)},
              {"memmap", im.Dev() ? "dev" : "mem"},
              {"memmap_init", ms.adopted ? "reused" : "built"}});
  return std::unique_ptr<Pool>(new Pool(std::move(impl)));
}

Pool::~Pool() {
  if (!impl_) return;
  auto& im = *impl_;
  std::unique_lock lock(im.mu);
  if (im.media->failed()) {
    // Nothing is written to media that faulted; the log replays at the
    // next attach, if the media come back.
    im.log->info("pool {} detached without writing to its failed media", im.name);
    im.Publish("pool", im.Object(), "failed", "detached");
  } else if (!im.media->crashed()) {
    Status s = im.CheckpointLocked();
    if (s.ok()) s = im.Seal();
    pf::AttachInfo ai{pf::kAttachMagic, 0, NowNs(CLOCK_REALTIME), {}};
    if (s.ok()) s = im.media->Write(pf::kAttachInfoOffset, &ai, sizeof ai, "detach-info");
    if (!s.ok()) im.log->warn("pool {}: detach: {}; the log replays at the next attach", im.name, s.message());
    im.log->info("pool {} detached", im.name);
    im.Publish("pool", im.Object(), "attached", "detached");
  }
  lock.unlock();
  im.memmap.reset();
}

const std::string& Pool::name() const { return impl_->name; }
const PoolBacking& Pool::backing() const { return impl_->backing; }
const MemMap& Pool::memmap() const { return *impl_->memmap; }
MemMap& Pool::memmap() { return *impl_->memmap; }

Status Pool::VerifyMemmap() const {
  auto& im = *impl_;
  std::shared_lock lock(im.mu);
  PMEMD_RETURN_IF_ERROR(im.media->Usable());
  im.memmap->WaitComplete();
  MemMapOptions mo = im.MemmapOptions(false);
  mo.memory = nullptr;
  mo.memory_bytes = 0;
  mo.guard = nullptr;
  mo.strategy = InitStrategy::kTemplateStream;
  PMEMD_ASSIGN_OR_RETURN(auto fresh, MemMap::Create(mo));
  PageDesc* want = fresh->Get(0);
  im.Render(want);
  const PageDesc* have = im.memmap->data();
  const uint64_t pages = im.memmap->pages();
  uint64_t first = pages;
  PMEMD_RETURN_IF_ERROR(im.OnPages("verify the metadata array", [&] {
    for (uint64_t i = 0; i < pages; ++i)
      if (std::memcmp(&have[i], &want[i], sizeof(PageDesc)) != 0) {
        first = i;
        break;
      }
  }));
  if (first == pages) return Status::Ok();
  uint64_t h[8], w[8];
  PMEMD_RETURN_IF_ERROR(im.OnPages("verify the metadata array", [&] { std::memcpy(h, &have[first], sizeof h); }));
  std::memcpy(w, &want[first], sizeof w);
  int word = 0;
  while (word < 7 && h[word] == w[word]) ++word;
  return Status::Corruption(fmt::format("pool {}: the descriptor of page {} differs from a rebuild from the tables: "
                                        "word {} is {:#x}, a rebuild writes {:#x}",
                                        im.name, first, word, h[word], w[word]));
}

Status Pool::Checkpoint() {
  std::unique_lock lock(impl_->mu);
  return impl_->CheckpointLocked();
}

PoolStatus Pool::Describe(bool with_blocks) const {
  auto& im = *impl_;
  std::shared_lock lock(im.mu);
  PoolStatus s;
  s.name = im.name;
  s.uuid = im.uuid;
  s.backing = im.backing;
  s.format_version = im.hdr.format_version;
  s.size = im.hdr.pool_size;
  s.data_offset = im.hdr.data_offset;
  s.block_size = im.hdr.block_size;
  s.blocks_total = im.blocks.size();
  s.leases = im.by_name.size();
  s.max_leases = im.hdr.lease_slots;
  s.granularity = GranularityName(im.media->granularity());
  s.failure = im.media->failure();
  MemMapStats ms = im.memmap->Stats();
  s.init_strategy = std::string(InitStrategyName(ms.requested_strategy));
  s.memmap = im.Dev() ? PoolMemmap::kDev : PoolMemmap::kMem;
  s.memmap_offset = im.hdr.memmap_offset;
  s.memmap_size = im.Dev() ? im.hdr.memmap_size : ms.descriptors * sizeof(PageDesc);
  s.memmap_init = ms.adopted ? "reused" : "built";
  s.attach_ns = im.attach_ns;
  s.pages = ms.descriptors;
  s.log_used = im.redo->tail();
  s.log_size = im.hdr.log_size;
  s.seq = im.seq;
  const uint64_t data_end = im.hdr.data_offset + im.blocks.size() * im.hdr.block_size;
  s.badblock_count = std::count_if(im.bad_pfns.begin(), im.bad_pfns.end(), [&](uint64_t p) {
    return p * kPoolPageSize >= im.hdr.data_offset && p * kPoolPageSize < data_end;
  });
  PoolCapacity& c = s.capacity;
  c.total_size = im.blocks.size() * im.hdr.block_size;
  for (uint64_t b = 0; b < im.blocks.size(); ++b) {
    const auto& blk = im.blocks[b];
    if (blk.state == BlockState::kOnline) {
      ++s.blocks_online;
      c.online_size += im.hdr.block_size;
      c.poisoned_size += blk.poisoned_pages * kPoolPageSize;
    }
    if (with_blocks)
      s.blocks.push_back({b, im.BlockOffset(b), blk.state, blk.leased_pages, blk.poisoned_pages});
  }
  for (const auto& [n, slot] : im.by_name) c.leased_size += im.slots[slot].length;
  c.available_size = im.alloc.free_bytes();
  c.max_available_extent = im.alloc.MaxExtent(kPoolPageSize);
  for (uint64_t a : kLeaseAlignments) c.alignments.push_back({a, im.alloc.Available(a), im.alloc.MaxExtent(a)});
  return s;
}

// ---- Blocks ----------------------------------------------------------------------

Result<PoolBlockOpResult> Pool::OnlineBlocks(uint64_t first, uint64_t count) {
  auto& im = *impl_;
  std::unique_lock lock(im.mu);
  PMEMD_RETURN_IF_ERROR(im.media->Usable());
  if (count == 0 || first >= im.blocks.size() || count > im.blocks.size() - first)
    return Status::InvalidArgument("blocks " + Range(first, std::max<uint64_t>(count, 1)) + ": pool " + im.name +
                                   " has blocks " + Range(0, im.blocks.size()));
  const uint64_t start = NowNs();
  PoolBlockOpResult r;
  std::vector<uint64_t> targets;
  for (uint64_t b = first; b < first + count; ++b) {
    r.blocks.push_back({b, im.blocks[b].state, im.blocks[b].state, Status::Ok(), false, {}});
    if (im.blocks[b].state == BlockState::kOffline) targets.push_back(b);
  }
  if (targets.empty()) return r;
  im.RefreshBadblocks();
  PMEMD_RETURN_IF_ERROR(im.AppendBlocks(targets, BlockState::kGoingOnline));
  for (uint64_t b : targets) im.Transition(b, BlockState::kGoingOnline);
  std::vector<uint64_t> done;
  size_t failed = targets.size();
  Status failure;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (im.options.hooks) failure = im.options.hooks->BlockFault(targets[i], BlockState::kOnline);
    if (!failure.ok()) {
      failed = i;
      break;
    }
    if (Status st = im.PagesOnline(targets[i]); !st.ok()) return st;  // the media failed: nothing more is written
    done.push_back(targets[i]);
  }
  if (failed < targets.size()) {
    // Cancel: the blocks already onlined give their pages back.
    for (uint64_t b : done) {
      im.alloc.Isolate(im.BlockOffset(b), im.hdr.block_size);
      PMEMD_RETURN_IF_ERROR(im.PagesOffline(b));
    }
    PMEMD_RETURN_IF_ERROR(im.AppendBlocks(targets, BlockState::kOffline));
    for (uint64_t b : targets) im.Transition(b, BlockState::kOffline);
    for (auto& br : r.blocks) {
      if (br.index == targets[failed]) br.status = failure;
      else if (std::find(done.begin(), done.end(), br.index) != done.end()) br.rolled_back = true;
    }
    r.rolled_back = true;
    r.status = Status(failure.code(), "block " + std::to_string(targets[failed]) + ": " + failure.message(),
                               failure.sys_errno());
    im.log->info("pool {}: online-blocks {} failed at block {}; {} blocks put back offline", im.name,
                 Range(first, count), targets[failed], done.size());
    return r;
  }
  PMEMD_RETURN_IF_ERROR(im.AppendBlocks(targets, BlockState::kOnline));
  for (uint64_t b : targets) im.Transition(b, BlockState::kOnline);
  for (auto& br : r.blocks) br.to = im.blocks[br.index].state;
  im.log->info("pool {}: online-blocks {}: {} blocks onlined in {:.3f} ms", im.name, Range(first, count),
               targets.size(), (NowNs() - start) / 1e6);
  return r;
}

Result<PoolBlockOpResult> Pool::OfflineBlocks(uint64_t first, uint64_t count) {
  auto& im = *impl_;
  std::unique_lock lock(im.mu);
  PMEMD_RETURN_IF_ERROR(im.media->Usable());
  if (count == 0 || first >= im.blocks.size() || count > im.blocks.size() - first)
    return Status::InvalidArgument("blocks " + Range(first, std::max<uint64_t>(count, 1)) + ": pool " + im.name +
                                   " has blocks " + Range(0, im.blocks.size()));
  const uint64_t start = NowNs();
  PoolBlockOpResult r;
  std::vector<uint64_t> targets;
  for (uint64_t b = first; b < first + count; ++b) {
    r.blocks.push_back({b, im.blocks[b].state, im.blocks[b].state, Status::Ok(), false, {}});
    if (im.blocks[b].state == BlockState::kOnline) targets.push_back(b);
  }
  if (targets.empty()) return r;
  PMEMD_RETURN_IF_ERROR(im.AppendBlocks(targets, BlockState::kGoingOffline));
  for (uint64_t b : targets) im.Transition(b, BlockState::kGoingOffline);
  // Isolate each block (no new leases from it), then it may go only if no
  // page in it is leased.
  std::vector<std::pair<uint64_t, std::vector<Extent>>> isolated;
  size_t failed = targets.size();
  Status failure;
  std::vector<std::string> holders;
  for (size_t i = 0; i < targets.size(); ++i) {
    const uint64_t b = targets[i];
    isolated.push_back({b, im.alloc.Isolate(im.BlockOffset(b), im.hdr.block_size)});
    if (im.options.hooks) failure = im.options.hooks->BlockFault(b, BlockState::kOffline);
    if (failure.ok() && im.blocks[b].leased_pages) {
      PMEMD_ASSIGN_OR_RETURN(holders, im.Holders(b));
      std::string list;
      for (const auto& h : holders) list += (list.empty() ? "'" : ", '") + h + "'";
      failure = Status(Code::kBusy, "block " + std::to_string(b) + " holds lease" +
                                                 (holders.size() == 1 ? " " : "s ") + list + "; delete-lease first",
                                EBUSY);
    }
    if (!failure.ok()) {
      failed = i;
      break;
    }
  }
  if (failed < targets.size()) {
    for (const auto& [b, exts] : isolated)
      for (const auto& e : exts) im.alloc.Free(e.offset, e.length);
    PMEMD_RETURN_IF_ERROR(im.AppendBlocks(targets, BlockState::kOnline));
    for (uint64_t b : targets) im.Transition(b, BlockState::kOnline);
    for (auto& br : r.blocks) {
      if (br.index == targets[failed]) {
        br.status = failure;
        br.holders = holders;
      } else if (std::find(targets.begin(), targets.begin() + failed, br.index) != targets.begin() + failed) {
        br.rolled_back = true;
      }
    }
    r.rolled_back = true;
    r.status = failure;
    im.log->info("pool {}: offline-blocks {} failed at block {}; {} blocks put back online", im.name,
                 Range(first, count), targets[failed], failed);
    return r;
  }
  for (uint64_t b : targets) PMEMD_RETURN_IF_ERROR(im.PagesOffline(b));
  PMEMD_RETURN_IF_ERROR(im.AppendBlocks(targets, BlockState::kOffline));
  for (uint64_t b : targets) im.Transition(b, BlockState::kOffline);
  for (auto& br : r.blocks) br.to = im.blocks[br.index].state;
  im.log->info("pool {}: offline-blocks {}: {} blocks offlined in {:.3f} ms", im.name, Range(first, count),
               targets.size(), (NowNs() - start) / 1e6);
  return r;
}

// ---- Leases ----------------------------------------------------------------------

Result<Lease> Pool::CreateLease(const LeaseSpec& spec) {
  auto& im = *impl_;
  if (!pf::ValidLeaseName(spec.name))
    return Status::InvalidArgument("lease name '" + spec.name + "' is not 1 to 63 characters of A-Z a-z 0-9 . _ - :");
  if (std::find(std::begin(kLeaseAlignments), std::end(kLeaseAlignments), spec.align) == std::end(kLeaseAlignments))
    return Status::InvalidArgument("align " + std::to_string(spec.align) +
                                   " is not a lease alignment; use 4096 (4K), 2097152 (2M) or 1073741824 (1G)");
  if (spec.size == 0) return Status::InvalidArgument("size 0: a lease needs at least one page");
  if (spec.size % spec.align)
    return Status::InvalidArgument("size " + std::to_string(spec.size) + " is not a multiple of the alignment " +
                                   std::to_string(spec.align) + " (" + Human(spec.align) + "); use " +
                                   std::to_string(pf::AlignDown(spec.size, spec.align)) + " or " +
                                   std::to_string(pf::AlignUp(spec.size, spec.align)));
  if (spec.owner.size() > 63) return Status::InvalidArgument("owner is longer than 63 bytes");
  std::string labels;
  if (!spec.labels.empty()) {
    json j = json::object();
    for (const auto& [k, v] : spec.labels) j[k] = v;
    labels = j.dump();
    if (labels.size() > sizeof(pf::LeaseSlot::labels))
      return Status::InvalidArgument("labels take " + std::to_string(labels.size()) + " bytes as JSON; at most " +
                                     std::to_string(sizeof(pf::LeaseSlot::labels)) + " fit");
  }
  std::unique_lock lock(im.mu);
  PMEMD_RETURN_IF_ERROR(im.media->Usable());
  if (auto it = im.by_name.find(spec.name); it != im.by_name.end()) {
    Lease l = im.LeaseAt(it->second);
    if (l.size == spec.size && l.align == spec.align && l.owner == spec.owner && l.labels == spec.labels) return l;
    return Status::AlreadyExists("pool " + im.name + " already has a lease '" + spec.name + "' (size " +
                                 std::to_string(l.size) + ", align " + std::to_string(l.align) +
                                 (l.owner.empty() ? "" : ", owner " + l.owner) +
                                 ") with different parameters; delete it first or choose another name");
  }
  const uint64_t total = im.blocks.size() * im.hdr.block_size;
  if (spec.size > total)
    return Status::InvalidArgument("size " + std::to_string(spec.size) + " is larger than pool " + im.name + " (" +
                                   std::to_string(total) + " bytes in blocks)");
  if (im.free_slots.empty())
    return Status::NoSpace("pool " + im.name + " has no free lease slot (" + std::to_string(im.hdr.lease_slots) +
                           " leases); delete one, or create the pool with a larger max_leases");
  auto off = im.alloc.Allocate(spec.size, spec.align);
  if (!off)
    return Status::NoSpace("pool " + im.name + " has no free extent of " + std::to_string(spec.size) + " bytes at " +
                           Human(spec.align) + " alignment (largest: " + std::to_string(im.alloc.MaxExtent(spec.align)) +
                           ", available: " + std::to_string(im.alloc.free_bytes()) +
                           "); online more blocks (online-blocks) or delete leases");
  const uint32_t slot = *im.free_slots.begin();
  pf::LeaseSetPayload p{};
  p.slot = slot;
  pf::LeaseSlot& s = p.image;
  s.magic = pf::kLeaseMagic;
  s.id = im.seq + 1;  // the seq of the record that creates it: unique for the pool's life
  s.offset = *off;
  s.length = spec.size;
  s.align = spec.align;
  s.created_ns = NowNs(CLOCK_REALTIME);
  s.name_len = static_cast<uint16_t>(spec.name.size());
  s.owner_len = static_cast<uint16_t>(spec.owner.size());
  s.labels_len = static_cast<uint16_t>(labels.size());
  std::memcpy(s.name, spec.name.data(), spec.name.size());
  std::memcpy(s.owner, spec.owner.data(), spec.owner.size());
  std::memcpy(s.labels, labels.data(), labels.size());
  s.checksum = pf::Checksum(&s, offsetof(pf::LeaseSlot, checksum));
  if (Status st = im.Append(pf::RecordType::kLeaseSet, &p, sizeof p); !st.ok()) {
    im.alloc.Free(*off, spec.size);
    return st;
  }
  // Durable: now the DRAM state follows.
  im.slots[slot] = s;
  im.slot_dirty[slot] = true;
  im.free_slots.erase(slot);
  im.by_name[spec.name] = slot;
  im.by_id[s.id] = slot;
  PMEMD_RETURN_IF_ERROR(im.PagesLease(s.offset, s.length, s.id, true));
  Lease l = im.LeaseAt(slot);
  if (im.options.events)
    im.Publish("lease", im.Object() + "/lease:" + spec.name, "", "leased",
               {{"offset", l.offset}, {"size", l.size}, {"id", l.id}});
  return l;
}

Status Pool::DeleteLease(const std::string& lease) {
  auto& im = *impl_;
  std::unique_lock lock(im.mu);
  PMEMD_RETURN_IF_ERROR(im.media->Usable());
  auto it = im.by_name.find(lease);
  if (it == im.by_name.end()) return Status::NotFound("pool " + im.name + " has no lease '" + lease + "'");
  const uint32_t slot = it->second;
  const pf::LeaseSlot s = im.slots[slot];
  pf::LeaseClearPayload p{slot, 0, s.id};
  PMEMD_RETURN_IF_ERROR(im.Append(pf::RecordType::kLeaseClear, &p, sizeof p));
  PMEMD_RETURN_IF_ERROR(im.PagesLease(s.offset, s.length, s.id, false));
  im.alloc.Free(s.offset, s.length);
  im.slots[slot] = pf::LeaseSlot{};
  im.slot_dirty[slot] = true;
  im.free_slots.insert(slot);
  im.by_id.erase(s.id);
  im.by_name.erase(it);
  if (im.options.events)
    im.Publish("lease", im.Object() + "/lease:" + lease, "leased", "", {{"offset", s.offset}, {"size", s.length}});
  return Status::Ok();
}

Result<Lease> Pool::GetLease(const std::string& lease) const {
  auto& im = *impl_;
  std::shared_lock lock(im.mu);
  auto it = im.by_name.find(lease);
  if (it == im.by_name.end()) return Status::NotFound("pool " + im.name + " has no lease '" + lease + "'");
  return im.LeaseAt(it->second);
}

std::vector<Lease> Pool::ListLeases() const {
  auto& im = *impl_;
  std::shared_lock lock(im.mu);
  std::vector<Lease> v;
  for (const auto& [n, slot] : im.by_name) v.push_back(im.LeaseAt(slot));
  return v;
}

std::optional<Lease> Pool::LeaseOfPage(uint64_t pfn) const {
  auto& im = *impl_;
  std::shared_lock lock(im.mu);
  if (!im.memmap->Contains(pfn)) return std::nullopt;
  PageDesc* d = im.memmap->Get(pfn);
  uint64_t owner = 0;
  if (!im.OnPages("read a page's owner", [&] { owner = d->Owner(); }).ok()) return std::nullopt;
  auto it = im.by_id.find(owner);
  if (owner == 0 || it == im.by_id.end()) return std::nullopt;
  return im.LeaseAt(it->second);
}

}  // namespace pmemd
