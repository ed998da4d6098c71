// Pool: format, the header checks, attach (recovery: replay, roll back,
// the metadata array) and detach. docs/pool-format.md has the bytes and the
// rules.
#include "pool_impl.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "pmemd/text.h"

namespace pmemd {

namespace pf = pool_format;
using namespace pool_internal;  // NOLINT: this library's own pieces
using nlohmann::json;

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
  GenerateUuid(h.uuid);
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
  if (o.owner_uid) {
    h.owner_flags |= pf::kOwnerUid;
    h.owner_uid = *o.owner_uid;
  }
  if (o.owner_gid) {
    h.owner_flags |= pf::kOwnerGid;
    h.owner_gid = *o.owner_gid;
  }
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

// ---- Attach ----------------------------------------------------------------------

Status Pool::Impl::Load(const ProgressFn& progress) {
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
                           mu.AssertHeld();  // Load's, while Replay runs
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
  const MemMapOptions mo = MemmapOptions(memmap_reused);
  ReportProgress(progress, "memmap", 0, mo.pages, "pages");
  PMEMD_ASSIGN_OR_RETURN(memmap, MemMap::Create(mo));
  ReportProgress(progress, "memmap", mo.pages, mo.pages, "pages");
  // The fill's guard (MemmapOptions) catches the fault itself; nothing else
  // touched the media since it was last read without one.
  if (memmap->Stats().faulted)
    return Status(Code::kIoError, "pool " + name + ": building the metadata array on " + where + " faulted", EIO);
  if (Dev()) memmap_dirty.assign((memmap->pages() + kSealSectionPages - 1) / kSealSectionPages, memmap_reused ? 0 : 1);
  if (!memmap_reused) {
    PageDesc* d = Pages(0, memmap->pages());
    PMEMD_RETURN_IF_ERROR(OnPages("render the metadata array", [&] {
      mu.AssertHeld();  // Load's, while OnPages runs
      Render(d, progress);
    }));
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

Result<std::unique_ptr<Pool>> Pool::Attach(const PoolBacking& backing, const PoolOptions& options,
                                           const ProgressFn& progress) {
  const uint64_t start = NowNs();
  auto impl = std::make_unique<Impl>();
  impl->backing = backing;
  impl->backing.opened_fd = -1;  // borrowed for this call only
  impl->options = options;
  PMEMD_ASSIGN_OR_RETURN(impl->media, Media::Open(backing, options.hooks));
  auto& im = *impl;
  // No other thread sees the pool yet; the lock is for the analysis (and
  // costs one uncontended acquire per attach).
  WriterLock lock(im.mu);
  PMEMD_RETURN_IF_ERROR(im.Load(progress));
  im.attach_ns = NowNs() - start;
  MemMapStats ms = im.memmap->Stats();
  uint64_t online = 0;
  for (const auto& b : im.blocks) online += b.state == BlockState::kOnline;
  const size_t blocks = im.blocks.size(), leases = im.by_name.size();
  lock.Unlock();
  // One line per attach, like the kernel's memmap_init_zone_device.
  const std::string how =
      ms.adopted ? "memmap dev: " + std::to_string(ms.descriptors) + " pages reused as sealed at the last clean detach"
                 : fmt::format("memmap {}: {} pages initialised in {:.3f} ms (strategy {}{})", im.Dev() ? "dev" : "mem",
                               ms.descriptors, (ms.init_ns ? ms.init_ns : ms.ready_ns) / 1e6,
                               InitStrategyName(ms.strategy),
                               ms.init_ns ? "" : ", ready; the rest in the background");
  im.log->info("pool {} attached on {}: {}, {}/{} blocks online, {} leases, granularity {}, attach {:.3f} ms", im.name,
               Where(backing), how, online, blocks, leases,
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
  WriterLock lock(im.mu);
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
  lock.Unlock();
  im.memmap.reset();
}

}  // namespace pmemd
