// Pool::Impl: the block and lease tables, as records appended to the log,
// replayed at attach and written in place at checkpoints (docs/pool-format.md).
#include "pool_impl.h"

#include <algorithm>
#include <cstring>

namespace pmemd {

namespace pf = pool_format;
using namespace pool_internal;  // NOLINT: this library's own pieces
using nlohmann::json;

Status Pool::Impl::Append(pf::RecordType type, const void* payload, uint32_t len) {
  PMEMD_RETURN_IF_ERROR(redo->CheckFits(len));
  if (!redo->HasRoom(len)) PMEMD_RETURN_IF_ERROR(CheckpointLocked());
  PMEMD_RETURN_IF_ERROR(redo->Append(seq + 1, type, payload, len));
  ++seq;
  return Status::Ok();
}

Status Pool::Impl::AppendBlocks(const std::vector<uint64_t>& targets, BlockState state) {
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

Status Pool::Impl::ApplyRecord(const pf::RecordHeader& h, const uint8_t* p) {
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

Status Pool::Impl::CheckpointLocked() {
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

}  // namespace pmemd
