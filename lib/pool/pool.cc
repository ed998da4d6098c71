// Pool: the block state machine and the API over an attached pool
// (describe, blocks online/offline, leases). The other seams of Pool are
// listed in pool_impl.h.
#include "pmemd/pool.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

#include "pmemd/json_reader.h"
#include "pmemd/retry.h"
#include "pmemd/text.h"
#include "pool_impl.h"

namespace pmemd {

namespace pf = pool_format;
using namespace pool_internal;  // NOLINT: this library's own pieces
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

}  // namespace

namespace pool_internal {

std::string Range(uint64_t first, uint64_t count) {
  return count == 1 ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(first + count - 1);
}

}  // namespace pool_internal

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

const std::string& Pool::name() const { return impl_->name; }
const PoolBacking& Pool::backing() const { return impl_->backing; }
const MemMap& Pool::memmap() const { return *impl_->memmap; }
MemMap& Pool::memmap() { return *impl_->memmap; }

Status Pool::Checkpoint() {
  WriterLock lock(impl_->mu);
  return impl_->CheckpointLocked();
}

Pool::Owner Pool::owner() const {
  // The header does not change after attach: no lock.
  const pf::Header& h = impl_->hdr;
  Owner o;
  if (h.owner_flags & pf::kOwnerUid) o.uid = h.owner_uid;
  if (h.owner_flags & pf::kOwnerGid) o.gid = h.owner_gid;
  return o;
}

PoolStatus Pool::Describe(bool with_blocks) const {
  auto& im = *impl_;
  ReaderLock lock(im.mu);
  PoolStatus s;
  s.name = im.name;
  s.uuid = im.uuid;
  s.backing = im.backing;
  s.format_version = im.hdr.format_version;
  const Owner o = owner();
  s.owner_uid = o.uid;
  s.owner_gid = o.gid;
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
//
// Online and offline are one walk, as the kernel's online_pages and
// offline_pages are one state machine: log going-*, take each block one
// step (online: its pages handed to the allocator; offline: its free
// extents isolated, then it may go only if no page is leased), then log the
// target state (the commit), or, when a block fails, undo the steps taken
// and log the state the blocks came from (the cancel).

Result<PoolBlockOpResult> Pool::Impl::ChangeBlocks(uint64_t first, uint64_t count, bool online,
                                                   const ProgressFn& progress) {
  WriterLock lock(mu);
  PMEMD_RETURN_IF_ERROR(media->Usable());
  if (count == 0 || first >= blocks.size() || count > blocks.size() - first)
    return Status::InvalidArgument("blocks " + Range(first, std::max<uint64_t>(count, 1)) + ": pool " + name +
                                   " has blocks " + Range(0, blocks.size()));
  const BlockState from = online ? BlockState::kOffline : BlockState::kOnline;
  const BlockState going = online ? BlockState::kGoingOnline : BlockState::kGoingOffline;
  const BlockState to = online ? BlockState::kOnline : BlockState::kOffline;
  const char* verb = online ? "online" : "offline";
  const uint64_t start = NowNs();
  PoolBlockOpResult r;
  std::vector<uint64_t> targets;
  for (uint64_t b = first; b < first + count; ++b) {
    r.blocks.push_back({b, blocks[b].state, blocks[b].state, Status::Ok(), false, {}});
    if (blocks[b].state == from) targets.push_back(b);
  }
  if (targets.empty()) return r;
  if (online) RefreshBadblocks();
  PMEMD_RETURN_IF_ERROR(AppendBlocks(targets, going));
  for (uint64_t b : targets) Transition(b, going);

  // One step per block; `taken` records what to undo (offline: the
  // extents isolated, the failing block's included).
  struct Step {
    uint64_t block;
    std::vector<Extent> isolated;
  };
  std::vector<Step> taken;
  size_t failed = targets.size();
  Status failure;
  std::vector<std::string> holders;
  // Online has one pass (each block's pages handed over); offline two: the
  // blocks' extents isolated and their leases checked, then, once all may
  // go, their pages taken.
  const std::string_view stage = online ? "online" : "isolate";
  ReportProgress(progress, stage, 0, targets.size(), "blocks");
  for (size_t i = 0; i < targets.size() && failure.ok(); ++i) {
    const uint64_t b = targets[i];
    if (!online) taken.push_back({b, alloc.Isolate(BlockOffset(b), hdr.block_size)});
    if (options.hooks) failure = options.hooks->BlockFault(b, to);
    if (failure.ok() && online) {
      // A failed media write ends here: nothing more is written to it.
      PMEMD_RETURN_IF_ERROR(PagesOnline(b));
      taken.push_back({b, {}});
    }
    if (failure.ok() && !online && blocks[b].leased_pages) {
      PMEMD_ASSIGN_OR_RETURN(holders, Holders(b));
      std::string list;
      for (const auto& h : holders) list += (list.empty() ? "'" : ", '") + h + "'";
      failure = Status(Code::kBusy,
                       "block " + std::to_string(b) + " holds lease" + (holders.size() == 1 ? " " : "s ") + list +
                           "; delete-lease first",
                       EBUSY);
    }
    if (!failure.ok())
      failed = i;
    else
      ReportProgress(progress, stage, i + 1, targets.size(), "blocks");
  }
  if (failed < targets.size()) {
    for (const Step& st : taken) {
      if (online) {
        alloc.Isolate(BlockOffset(st.block), hdr.block_size);
        PMEMD_RETURN_IF_ERROR(PagesOffline(st.block));
      } else {
        for (const auto& e : st.isolated) alloc.Free(e.offset, e.length);
      }
    }
    PMEMD_RETURN_IF_ERROR(AppendBlocks(targets, from));
    for (uint64_t b : targets) Transition(b, from);
    for (auto& br : r.blocks) {
      if (br.index == targets[failed]) {
        br.status = failure;
        br.holders = holders;
      } else if (std::find(targets.begin(), targets.begin() + failed, br.index) != targets.begin() + failed) {
        br.rolled_back = true;
      }
    }
    r.rolled_back = true;
    r.status = online ? Status(failure.code(), "block " + std::to_string(targets[failed]) + ": " + failure.message(),
                               failure.sys_errno())
                      : failure;
    log->info("pool {}: {}-blocks {} failed at block {}; {} blocks put back {}", name, verb, Range(first, count),
              targets[failed], failed, BlockStateName(from));
    return r;
  }
  if (!online) {
    ReportProgress(progress, "offline", 0, targets.size(), "blocks");
    for (size_t i = 0; i < targets.size(); ++i) {
      PMEMD_RETURN_IF_ERROR(PagesOffline(targets[i]));
      ReportProgress(progress, "offline", i + 1, targets.size(), "blocks");
    }
  }
  PMEMD_RETURN_IF_ERROR(AppendBlocks(targets, to));
  for (uint64_t b : targets) Transition(b, to);
  for (auto& br : r.blocks) br.to = blocks[br.index].state;
  log->info("pool {}: {}-blocks {}: {} blocks {}d in {:.3f} ms", name, verb, Range(first, count), targets.size(),
            online ? "online" : "offline", (NowNs() - start) / 1e6);
  return r;
}

Result<PoolBlockOpResult> Pool::OnlineBlocks(uint64_t first, uint64_t count, const ProgressFn& progress) {
  return impl_->ChangeBlocks(first, count, /*online=*/true, progress);
}

Result<PoolBlockOpResult> Pool::OfflineBlocks(uint64_t first, uint64_t count, const ProgressFn& progress) {
  return impl_->ChangeBlocks(first, count, /*online=*/false, progress);
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
  WriterLock lock(im.mu);
  PMEMD_RETURN_IF_ERROR(im.media->Usable());
  if (auto it = im.by_name.find(spec.name); it != im.by_name.end()) {
    Lease l = im.LeaseAt(it->second);
    RetryMatch m;
    m.Compare("size", spec.size, l.size);
    m.Compare("align", spec.align, l.align);
    m.Compare("owner", spec.owner, l.owner);
    if (spec.labels != l.labels) {
      json have = json::object();
      for (const auto& [k, v] : l.labels) have[k] = v;
      m.Compare("labels", labels.empty() ? std::string("{}") : labels, have.dump());
    }
    if (m.matches()) return l;  // a retry
    return m.Conflict("lease " + Quote(spec.name) + " of pool " + im.name,
                      "delete-lease it first or choose another name");
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
  WriterLock lock(im.mu);
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
  ReaderLock lock(im.mu);
  auto it = im.by_name.find(lease);
  if (it == im.by_name.end()) return Status::NotFound("pool " + im.name + " has no lease '" + lease + "'");
  return im.LeaseAt(it->second);
}

Result<Lease> Pool::OpenLease(const std::string& lease, UniqueFd* fd) const {
  auto& im = *impl_;
  ReaderLock lock(im.mu);
  PMEMD_RETURN_IF_ERROR(im.media->Usable());
  auto it = im.by_name.find(lease);
  if (it == im.by_name.end()) return Status::NotFound("pool " + im.name + " has no lease '" + lease + "'");
  // Reopened through /proc so that the client's descriptor shares no file
  // offset or status flags with the pool's own. That open checks the file's
  // permissions again: pmemd without CAP_DAC_OVERRIDE (the hardened unit) may
  // not reopen a user's 0600 pool file it holds open with the user's rights,
  // and then duplicates its descriptor (pmemd uses it only to map).
  const std::string self = "/proc/self/fd/" + std::to_string(im.media->fd());
  UniqueFd reopened(::open(self.c_str(), O_RDWR | O_CLOEXEC));
  if (!reopened.valid() && (errno == EACCES || errno == EPERM))
    reopened.reset(::fcntl(im.media->fd(), F_DUPFD_CLOEXEC, 0));
  if (!reopened.valid()) return Status::FromErrno(errno, "reopen the backing of pool " + im.name + " for a client");
  *fd = std::move(reopened);
  return im.LeaseAt(it->second);
}

std::vector<Lease> Pool::ListLeases() const {
  auto& im = *impl_;
  ReaderLock lock(im.mu);
  std::vector<Lease> v;
  for (const auto& [n, slot] : im.by_name) v.push_back(im.LeaseAt(slot));
  return v;
}

std::optional<Lease> Pool::LeaseOfPage(uint64_t pfn) const {
  auto& im = *impl_;
  ReaderLock lock(im.mu);
  if (!im.memmap->Contains(pfn)) return std::nullopt;
  PageDesc* d = im.memmap->Get(pfn);
  uint64_t owner = 0;
  if (!im.OnPages("read a page's owner", [&] { owner = d->Owner(); }).ok()) return std::nullopt;
  auto it = im.by_id.find(owner);
  if (owner == 0 || it == im.by_id.end()) return std::nullopt;
  return im.LeaseAt(it->second);
}

}  // namespace pmemd
