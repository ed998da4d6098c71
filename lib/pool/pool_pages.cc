// Pool::Impl: the metadata array. What pages of each state look like
// (pages.h) applied at run time and rendered from the tables at attach; where
// the array lives (memmap dev|mem), the seal that lets a clean detach be
// reused, and the comparison with a rebuild.
#include "pool_impl.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace pmemd {

namespace pf = pool_format;
using namespace pool_internal;  // NOLINT: this library's own pieces
using nlohmann::json;

void Pool::Impl::Touched(uint64_t pfn, uint64_t count) {
  if (!Dev() || count == 0) return;
  for (uint64_t s = pfn / kSealSectionPages; s <= (pfn + count - 1) / kSealSectionPages; ++s) memmap_dirty[s] = 1;
}

std::vector<Extent> Pool::Impl::LeaseExtents() const {
  std::vector<Extent> v;
  for (const auto& [n, slot] : by_name) v.push_back({slots[slot].offset, slots[slot].length});
  std::sort(v.begin(), v.end(), [](const Extent& x, const Extent& y) { return x.offset < y.offset; });
  return v;
}

void Pool::Impl::FreeBlock(uint64_t b, const std::vector<Extent>& leases) {
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

void Pool::Impl::AccountLease(uint64_t offset, uint64_t length, bool add) {
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

void Pool::Impl::Render(PageDesc* d, const ProgressFn& progress) const {
  DescsReserve(d, hdr.data_offset / kPoolPageSize);
  for (const auto& [n, slot] : by_name)
    DescsLease(d + slots[slot].offset / kPoolPageSize, slots[slot].length / kPoolPageSize, slots[slot].id);
  ReportProgress(progress, "render", 0, blocks.size(), "blocks");
  for (uint64_t b = 0; b < blocks.size(); ++b) {
    if (blocks[b].state == BlockState::kOnline)
      DescsOnline(d + BlockOffset(b) / kPoolPageSize, BlockOffset(b) / kPoolPageSize, PagesPerBlock(),
                  bad_pfns.data(), bad_pfns.data() + bad_pfns.size());
    ReportProgress(progress, "render", b + 1, blocks.size(), "blocks");
  }
}

Status Pool::Impl::PagesOnline(uint64_t b) {
  const uint64_t pfn0 = BlockOffset(b) / kPoolPageSize, n = PagesPerBlock();
  PageDesc* d = Pages(pfn0, n);
  const uint64_t* bad = bad_pfns.data();
  const uint64_t* bad_end = bad + bad_pfns.size();
  PMEMD_RETURN_IF_ERROR(OnPages("online block " + std::to_string(b), [&] { DescsOnline(d, pfn0, n, bad, bad_end); }));
  Touched(pfn0, n);
  FreeBlock(b, {});
  return Status::Ok();
}

Status Pool::Impl::PagesOffline(uint64_t b) {
  const uint64_t pfn0 = BlockOffset(b) / kPoolPageSize, n = PagesPerBlock();
  PageDesc* d = Pages(pfn0, n);
  PMEMD_RETURN_IF_ERROR(OnPages("offline block " + std::to_string(b), [&] { DescsOffline(d, n); }));
  Touched(pfn0, n);
  blocks[b].poisoned_pages = 0;
  return Status::Ok();
}

Status Pool::Impl::PagesLease(uint64_t offset, uint64_t length, uint64_t id, bool add) {
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

Result<std::vector<std::string>> Pool::Impl::Holders(uint64_t b) {
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

void Pool::Impl::Transition(uint64_t b, BlockState to) {
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
    // Per block at debug: the operation logs one info line (Pool::ChangeBlocks).
    log->debug("pool {} block {}: {} -> {}{} ({} us)", name, b, BlockStateName(from), BlockStateName(to),
              cancel ? " (cancelled)" : "", us);
    Publish("pool_block", object, BlockStateName(from), BlockStateName(to),
            {{"duration_ns", now - blk.since_ns}, {"cancelled", cancel}});
  }
}

void Pool::Impl::RefreshBadblocks() {
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

MemMapOptions Pool::Impl::MemmapOptions(bool adopt) {
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

Result<uint64_t> Pool::Impl::ArraySample() {
  const uint64_t bytes = hdr.pool_size / kPoolPageSize * pf::kDescSize, n = std::min<uint64_t>(bytes, 4096);
  std::vector<uint8_t> buf(2 * n);
  PMEMD_RETURN_IF_ERROR(media->Read(hdr.memmap_offset, buf.data(), n, "read the metadata array"));
  PMEMD_RETURN_IF_ERROR(media->Read(hdr.memmap_offset + bytes - n, buf.data() + n, n, "read the metadata array"));
  return pf::Checksum(buf.data(), buf.size());
}

uint64_t Pool::Impl::BadChecksum() const {
  return bad_pfns.empty() ? 0 : pf::Checksum(bad_pfns.data(), bad_pfns.size() * sizeof(uint64_t));
}

Result<bool> Pool::Impl::SealMatches(const pf::MemmapSeal& seal) {
  if (seal.magic != pf::kSealMagic || pf::Checksum(&seal, offsetof(pf::MemmapSeal, checksum)) != seal.checksum)
    return false;
  if (seal.seq != seq || seal.generation != ckpt_generation || seal.pages != hdr.pool_size / kPoolPageSize ||
      seal.header_checksum != hdr.checksum || seal.badblocks != BadChecksum())
    return false;
  PMEMD_ASSIGN_OR_RETURN(uint64_t sample, ArraySample());
  return sample == seal.array;
}

Status Pool::Impl::Seal() {
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

Status Pool::VerifyMemmap() const {
  auto& im = *impl_;
  ReaderLock lock(im.mu);
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

}  // namespace pmemd
