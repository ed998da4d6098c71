// The redo log on its own: what Append writes, Replay reads back, and where
// replay stops.
#include "redo_log.h"

#include <gtest/gtest.h>

#include "pool_test_util.h"

namespace pmemd {
namespace {

using namespace pooltest;       // NOLINT
using namespace pool_internal;  // NOLINT
namespace pf = pool_format;

constexpr uint64_t kLogOffset = 64 * 1024;
constexpr uint64_t kLogSize = 64 * 1024;

struct Visited {
  uint64_t seq;
  uint16_t type;
  std::string payload;
};

class RedoLogTest : public ::testing::Test {
 protected:
  RedoLogTest() : file_(kLogOffset + kLogSize) {
    PoolBacking b = file_.backing();
    auto m = Media::Open(b, nullptr);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    media_ = std::move(*m);
  }
  RedoLog Log(uint64_t seed = 7) { return RedoLog(media_.get(), kLogOffset, kLogSize, seed, "t"); }
  static Result<std::vector<Visited>> ReplayAll(RedoLog& log, uint64_t seq) {
    std::vector<Visited> v;
    auto n = log.Replay(seq, [&](const pf::RecordHeader& h, const uint8_t* p) {
      v.push_back({h.seq, h.type, std::string(reinterpret_cast<const char*>(p), h.length)});
      return Status::Ok();
    });
    if (!n.ok()) return n.status();
    EXPECT_EQ(*n, v.size());
    return v;
  }
  Status Append(RedoLog& log, uint64_t seq, const std::string& payload) {
    return log.Append(seq, pf::RecordType::kLeaseClear, payload.data(), static_cast<uint32_t>(payload.size()));
  }

  PoolFile file_;
  std::unique_ptr<Media> media_;
};

TEST_F(RedoLogTest, ReplayVisitsTheAppendedRecordsInOrderAndEndsAtTheTail) {
  RedoLog w = Log();
  ASSERT_TRUE(Append(w, 1, "first").ok());
  ASSERT_TRUE(Append(w, 2, std::string(100, 'x')).ok());
  ASSERT_TRUE(Append(w, 3, "").ok());
  EXPECT_EQ(w.tail(), 64u + 192u + 64u);  // 32-byte header + payload, each to 64 bytes
  RedoLog r = Log();
  auto v = ReplayAll(r, 0);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 3u);
  EXPECT_EQ((*v)[0].seq, 1u);
  EXPECT_EQ((*v)[0].payload, "first");
  EXPECT_EQ((*v)[1].payload, std::string(100, 'x'));
  EXPECT_EQ((*v)[2].seq, 3u);
  EXPECT_EQ((*v)[2].type, static_cast<uint16_t>(pf::RecordType::kLeaseClear));
  EXPECT_EQ(r.tail(), w.tail());
  // After the checkpoint at 2, only 3 is still to be replayed... from
  // offset 0, where 1 is: replay expects the next seq there and stops.
  RedoLog r2 = Log();
  EXPECT_TRUE(ReplayAll(r2, 2)->empty());
  EXPECT_EQ(r2.tail(), 0u);
}

TEST_F(RedoLogTest, ATornOrForeignRecordEndsTheLog) {
  RedoLog w = Log();
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(Append(w, s, "record " + std::to_string(s)).ok());
  // Another pool's records (another uuid, another seed) never match.
  RedoLog other = Log(8);
  EXPECT_TRUE(ReplayAll(other, 0)->empty());
  // A byte of record 2's payload changed: 1 is replayed, the log ends there.
  const uint64_t rec2 = kLogOffset + 64;
  file_.Poke(rec2 + 33, file_.Peek(rec2 + 33) ^ 0x20);
  RedoLog r = Log();
  auto v = ReplayAll(r, 0);
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ(r.tail(), 64u);
  // A length past half the log is torn, whatever its checksum.
  file_.Poke(kLogOffset + 10, 0x80);  // record 1's length, bits 16..23
  RedoLog r3 = Log();
  EXPECT_TRUE(ReplayAll(r3, 0)->empty());
}

TEST_F(RedoLogTest, ResetStartsAgainAtOffsetZeroAndOlderRecordsBehindAreNeverReplayed) {
  RedoLog w = Log();
  for (uint64_t s = 1; s <= 4; ++s) ASSERT_TRUE(Append(w, s, "old").ok());
  w.Reset();  // a checkpoint at 4
  ASSERT_TRUE(Append(w, 5, "new").ok());
  RedoLog r = Log();
  auto v = ReplayAll(r, 4);
  ASSERT_EQ(v->size(), 1u);  // record 2 that follows has seq 2, not 6
  EXPECT_EQ((*v)[0].payload, "new");
}

TEST_F(RedoLogTest, ARecordOfMoreThanHalfTheLogIsRefusedAndAVisitorErrorStopsReplay) {
  RedoLog w = Log();
  EXPECT_TRUE(w.CheckFits(kLogSize / 2 - 32).ok());
  Status big = w.CheckFits(kLogSize / 2);
  EXPECT_EQ(big.code(), Code::kInvalidArgument);
  EXPECT_NE(big.message().find("split it into smaller ranges"), std::string::npos);
  while (w.HasRoom(1000)) ASSERT_TRUE(Append(w, w.tail() / 1088 + 1, std::string(1000, 'f')).ok());
  EXPECT_GT(w.tail() + 1088, kLogSize);
  RedoLog r = Log();
  int seen = 0;
  auto n = r.Replay(0, [&](const pf::RecordHeader&, const uint8_t*) {
    return ++seen == 2 ? Status::Corruption("bad record") : Status::Ok();
  });
  EXPECT_EQ(n.status().code(), Code::kCorruption);
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace pmemd
