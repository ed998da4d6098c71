#include "redo_log.h"

#include <cstring>

#include "pmemd/log.h"

namespace pmemd::pool_internal {

namespace pf = pool_format;

Status RedoLog::CheckFits(uint32_t payload) const {
  const uint64_t total = RecordBytes(payload);
  if (total > size_ / 2)
    return Status::InvalidArgument("the change needs a " + std::to_string(total) + "-byte log record, more than half of the " +
                                   std::to_string(size_) + "-byte log; split it into smaller ranges");
  return Status::Ok();
}

Status RedoLog::Append(uint64_t seq, pf::RecordType type, const void* payload, uint32_t len) {
  pf::RecordHeader h{};
  h.magic = pf::kRecordMagic;
  h.type = static_cast<uint16_t>(type);
  h.length = len;
  h.seq = seq;
  buf_.resize(sizeof h + len);
  std::memcpy(buf_.data(), &h, sizeof h);
  std::memcpy(buf_.data() + sizeof h, payload, len);
  h.checksum = pf::Checksum(buf_.data(), buf_.size(), seed_);
  std::memcpy(buf_.data(), &h, sizeof h);
  PMEMD_RETURN_IF_ERROR(media_->Write(offset_ + tail_, buf_.data(), buf_.size(), "log-append"));
  tail_ += RecordBytes(len);
  return Status::Ok();
}

Result<uint64_t> RedoLog::Replay(uint64_t seq, const Visitor& apply) {
  auto log = GetLogger("pool");
  uint64_t pos = 0, visited = 0;
  std::vector<uint8_t> buf;
  for (;;) {
    if (pos + sizeof(pf::RecordHeader) > size_) break;
    pf::RecordHeader h;
    PMEMD_RETURN_IF_ERROR(media_->Read(offset_ + pos, &h, sizeof h, "read the log"));
    if (h.magic != pf::kRecordMagic || h.seq != seq + 1) break;
    // Append never writes a record of more than half the log.
    if (h.length > size_ - pos - sizeof h || sizeof h + h.length > size_ / 2) {
      log->warn("pool {}: dropped torn log record {} at log offset {} (bad length)", name_, h.seq, pos);
      break;
    }
    buf.resize(sizeof h + h.length);
    PMEMD_RETURN_IF_ERROR(media_->Read(offset_ + pos, buf.data(), buf.size(), "read the log"));
    pf::RecordHeader zeroed = h;
    zeroed.checksum = 0;
    std::memcpy(buf.data(), &zeroed, sizeof zeroed);
    if (pf::Checksum(buf.data(), buf.size(), seed_) != h.checksum) {
      log->warn("pool {}: dropped torn log record {} at log offset {} (checksum)", name_, h.seq, pos);
      break;
    }
    PMEMD_RETURN_IF_ERROR(apply(h, buf.data() + sizeof h));
    ++seq;
    ++visited;
    pos += RecordBytes(h.length);
  }
  tail_ = pos;
  return visited;
}

}  // namespace pmemd::pool_internal
