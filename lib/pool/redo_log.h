// RedoLog: a pool's log of changes, in the log area of its media.
//
// Every mutation of a pool is one record, appended at the tail and
// persisted before the call returns: that persist is the commit point.
// Records follow each other at 64-byte aligned offsets from offset 0, each
// carrying the next sequence number and a checksum seeded with the pool's
// uuid (so records an earlier pool left on the same media never match).
// A checkpoint (the pool's) writes the tables and resets the log to offset
// 0; replay at attach visits the records after the checkpoint's sequence
// number in order and stops at the first that is not the next one with a
// good checksum (a torn record was never acknowledged). The payloads are
// physical, so replaying one twice is harmless. docs/pool-format.md
// ("Redo log") has the bytes.
//
// Thread safety: none; the pool's lock serializes every use.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "format.h"
#include "media.h"
#include "pmemd/status.h"

namespace pmemd::pool_internal {

class RedoLog {
 public:
  // The log area [offset, offset + size) of `media` (not owned; outlives
  // the log); `seed` seeds the records' checksums; `name` is the pool's,
  // for messages.
  RedoLog(Media* media, uint64_t offset, uint64_t size, uint64_t seed, std::string name)
      : media_(media), offset_(offset), size_(size), seed_(seed), name_(std::move(name)) {}

  // Bytes in use since the last Reset.
  uint64_t tail() const { return tail_; }
  // kInvalidArgument when a record with `payload` bytes could never be
  // written (more than half the log: a checkpoint must always make room).
  Status CheckFits(uint32_t payload) const;
  // Whether such a record fits after the tail now.
  bool HasRoom(uint32_t payload) const { return tail_ + RecordBytes(payload) <= size_; }
  // Writes record `seq` at the tail and persists it (step "log-append").
  // Precondition: HasRoom(len).
  Status Append(uint64_t seq, pool_format::RecordType type, const void* payload, uint32_t len);
  // After a checkpoint made every record so far part of the tables.
  void Reset() { tail_ = 0; }

  // Visits the records after `seq` (seq + 1, seq + 2, ...) from offset 0
  // in order, up to the first that is not the next one, is torn or fails
  // its checksum; the tail is then after the last one visited. A visitor
  // error stops the replay and is returned. Returns how many were visited.
  using Visitor = std::function<Status(const pool_format::RecordHeader& h, const uint8_t* payload)>;
  Result<uint64_t> Replay(uint64_t seq, const Visitor& apply);

 private:
  static uint64_t RecordBytes(uint32_t payload) {
    return pool_format::AlignUp(sizeof(pool_format::RecordHeader) + payload, pool_format::kRecordAlign);
  }

  Media* media_;  // borrowed: Pool::Impl owns both and declares media first
  uint64_t offset_, size_, seed_;
  std::string name_;
  uint64_t tail_ = 0;
  std::vector<uint8_t> buf_;  // Append's staging
};

}  // namespace pmemd::pool_internal
