// Pool: format, attach, blocks, leases, bad input, recovery, and an
// exhaustive crash test: a script of operations is cut after every persist
// step in turn, the pool re-attached, and the state compared with what was
// acknowledged.
#include "pmemd/pool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "format.h"
#include "pmemd/fs.h"
#include "pool_test_util.h"

namespace pmemd {
namespace {

using namespace pooltest;  // NOLINT: the fixtures of every pool test

TEST(PoolTest, FormatAttachLeaseDetachReattach) {
  PoolFile f(64 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  EXPECT_EQ(*Pool::ReadName(f.backing()), "p0");
  Lease a, b;
  {
    auto pool = MustAttach(f);
    ASSERT_TRUE(pool);
    PoolStatus s = pool->Describe();
    EXPECT_EQ(s.name, "p0");
    EXPECT_EQ(s.blocks_online, 0u);
    EXPECT_EQ(s.granularity, "page");
    EXPECT_EQ(s.data_offset % (2 * kM), 0u);
    EXPECT_EQ(s.capacity.available_size, 0u);
    // A new block's pages are Offline with refcount 1, not Reserved.
    const PageDesc* d = pool->memmap().data() + s.data_offset / kK4;
    EXPECT_TRUE(d->IsOffline());
    EXPECT_FALSE(d->IsReserved());
    EXPECT_EQ(d->RefCount(), 1);
    EXPECT_EQ(pool->CreateLease(Spec("a", kK4)).status().code(), Code::kNoSpace);
    auto r = pool->OnlineBlocks(0, 4);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->status.ok());
    EXPECT_EQ(pool->Describe().blocks_online, 4u);
    EXPECT_FALSE(d->IsOffline());
    EXPECT_TRUE(d->IsFree());
    EXPECT_EQ(d->RefCount(), 0);
    auto la = pool->CreateLease(Spec("a", 3 * kK4, kK4, "vm1"));
    ASSERT_TRUE(la.ok()) << la.status().ToString();
    a = *la;
    LeaseSpec sb = Spec("b", 2 * kM, 2 * kM);
    sb.labels = {{"app", "db"}};
    auto lb = pool->CreateLease(sb);
    ASSERT_TRUE(lb.ok()) << lb.status().ToString();
    b = *lb;
    EXPECT_EQ(b.offset % (2 * kM), 0u);
    EXPECT_TRUE(pool->memmap().data()[a.offset / kK4].IsLeased());
    EXPECT_EQ(pool->memmap().data()[a.offset / kK4].Owner(), a.id);
    CheckInvariants(*pool);
  }
  auto pool = MustAttach(f);
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->Describe().blocks_online, 4u);
  auto la = pool->GetLease("a");
  ASSERT_TRUE(la.ok());
  EXPECT_EQ(la->offset, a.offset);
  EXPECT_EQ(la->size, 3 * kK4);
  EXPECT_EQ(la->owner, "vm1");
  auto lb = pool->GetLease("b");
  ASSERT_TRUE(lb.ok());
  EXPECT_EQ(lb->offset, b.offset);
  EXPECT_EQ(lb->labels.at("app"), "db");
  EXPECT_EQ(lb->id, b.id);
  CheckInvariants(*pool);
}

TEST(PoolTest, CreateIsIdempotentForTheSameParameters) {
  PoolFile f(32 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  auto pool = MustAttach(f);
  ASSERT_TRUE(pool->OnlineBlocks(0, 2).ok());
  auto a = pool->CreateLease(Spec("a", 8 * kK4));
  ASSERT_TRUE(a.ok());
  auto again = pool->CreateLease(Spec("a", 8 * kK4));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->offset, a->offset);
  EXPECT_EQ(pool->ListLeases().size(), 1u);
  auto diff = pool->CreateLease(Spec("a", 16 * kK4));
  EXPECT_EQ(diff.status().code(), Code::kAlreadyExists);
  EXPECT_NE(diff.status().message().find("different parameters"), std::string::npos);
}

// Each field takes part in "the same request": a retry that differs in any
// one of size, alignment, owner or labels is not a retry (issue 16).
TEST(PoolTest, ARetryThatDiffersInAnyFieldIsAlreadyExistsAndChangesNothing) {
  PoolFile f(32 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  auto pool = MustAttach(f);
  ASSERT_TRUE(pool->OnlineBlocks(0, 4).ok());
  const LeaseSpec base{"a", 2 * kM, 2 * kM, "db", {{"tier", "hot"}}};
  auto a = pool->CreateLease(base);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto same = pool->CreateLease(base);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->id, a->id);
  std::vector<std::pair<std::string, LeaseSpec>> variants;
  LeaseSpec v = base;
  v.size = 4 * kM;
  variants.push_back({"size", v});
  v = base;
  v.align = kK4;
  variants.push_back({"align", v});
  v = base;
  v.owner = "web";
  variants.push_back({"owner", v});
  v = base;
  v.owner = "";
  variants.push_back({"no owner", v});
  v = base;
  v.labels = {{"tier", "cold"}};
  variants.push_back({"label value", v});
  v = base;
  v.labels = {{"tier", "hot"}, {"zone", "a"}};
  variants.push_back({"extra label", v});
  v = base;
  v.labels = {};
  variants.push_back({"no labels", v});
  const PoolStatus before = pool->Describe(true);
  for (const auto& [what, spec] : variants) {
    auto r = pool->CreateLease(spec);
    EXPECT_EQ(r.status().code(), Code::kAlreadyExists) << what;
    // The message names the parameter that differs (pmemd/retry.h).
    const std::string field = what.find("label") != std::string::npos ? "labels"
                              : what.find("owner") != std::string::npos ? "owner"
                                                                        : what;
    EXPECT_NE(r.status().message().find(field + ": asked "), std::string::npos) << what << ": " << r.status().message();
    auto got = pool->GetLease("a");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->id, a->id) << what;
    EXPECT_EQ(got->size, base.size) << what;
    EXPECT_EQ(got->owner, base.owner) << what;
    EXPECT_EQ(got->labels, base.labels) << what;
  }
  EXPECT_EQ(pool->Describe(true).seq, before.seq) << "a refused retry wrote a record";
  EXPECT_EQ(pool->ListLeases().size(), 1u);
}

TEST(PoolTest, BadInputIsExplainedAndChangesNothing) {
  PoolFile f(32 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  auto pool = MustAttach(f);
  ASSERT_TRUE(pool->OnlineBlocks(0, 3).ok());
  const uint64_t seq = pool->Describe().seq;
  auto zero = pool->CreateLease(Spec("z", 0));
  EXPECT_EQ(zero.status().code(), Code::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("size 0"), std::string::npos);
  auto unaligned = pool->CreateLease(Spec("u", 3 * kM, 2 * kM));
  EXPECT_EQ(unaligned.status().code(), Code::kInvalidArgument);
  EXPECT_NE(unaligned.status().message().find("use 2097152 or 4194304"), std::string::npos) << unaligned.status().message();
  auto huge = pool->CreateLease(Spec("h", 1024 * kM));
  EXPECT_EQ(huge.status().code(), Code::kInvalidArgument);
  EXPECT_NE(huge.status().message().find("larger than pool p0"), std::string::npos);
  auto align = pool->CreateLease(Spec("x", 64 * 1024, 64 * 1024));
  EXPECT_EQ(align.status().code(), Code::kInvalidArgument);
  auto name = pool->CreateLease(Spec("bad name", kK4));
  EXPECT_EQ(name.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(pool->DeleteLease("nope").code(), Code::kNotFound);
  EXPECT_EQ(pool->GetLease("nope").status().code(), Code::kNotFound);
  EXPECT_EQ(pool->OnlineBlocks(2, 100).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(pool->OnlineBlocks(0, 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(pool->Describe().seq, seq) << "nothing was written";
  EXPECT_TRUE(pool->ListLeases().empty());
}

TEST(PoolTest, OfflineOfALeasedBlockIsBusyNamesTheLeaseAndRollsBack) {
  PoolFile f(32 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  auto pool = MustAttach(f);
  ASSERT_TRUE(pool->OnlineBlocks(0, 4).ok());
  // Fill block 0 and put "db" in block 1.
  ASSERT_TRUE(pool->CreateLease(Spec("fill", 2 * kM, 2 * kM)).ok());
  auto db = pool->CreateLease(Spec("db", 2 * kM, 2 * kM));
  ASSERT_TRUE(db.ok());
  PoolStatus before = pool->Describe(true);
  uint64_t db_block = (db->offset - before.data_offset) / before.block_size;
  auto r = pool->OfflineBlocks(0, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->status.ok());
  EXPECT_EQ(r->status.code(), Code::kBusy);
  EXPECT_EQ(r->status.sys_errno(), EBUSY);
  EXPECT_NE(r->status.message().find("holds lease 'fill'"), std::string::npos) << r->status.message();
  EXPECT_TRUE(r->rolled_back);
  PoolStatus after = pool->Describe(true);
  for (uint64_t b = 0; b < 4; ++b) EXPECT_EQ(after.blocks[b].state, BlockState::kOnline);
  EXPECT_EQ(after.capacity.available_size, before.capacity.available_size) << "isolated pages came back";
  ASSERT_TRUE(pool->DeleteLease("fill").ok());
  r = pool->OfflineBlocks(db_block, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->status.message().find("'db'"), std::string::npos);
  ASSERT_EQ(r->blocks[0].holders, std::vector<std::string>{"db"});
  // Blocks without leases go.
  uint64_t free_block = db_block == 3 ? 2 : 3;
  r = pool->OfflineBlocks(free_block, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->status.ok());
  EXPECT_EQ(pool->Describe(true).blocks[free_block].state, BlockState::kOffline);
  CheckInvariants(*pool);
}


TEST(PoolTest, RangeFailureRollsBackTheBlocksAlreadyChanged) {
  PoolFile f(32 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  FaultHooks hooks;
  hooks.fail_block = 3;
  auto pool = MustAttach(f, &hooks);
  auto r = pool->OnlineBlocks(0, 6);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->status.ok());
  EXPECT_NE(r->status.message().find("block 3"), std::string::npos);
  EXPECT_TRUE(r->blocks[0].rolled_back);
  EXPECT_TRUE(r->blocks[2].rolled_back);
  EXPECT_FALSE(r->blocks[4].rolled_back);
  PoolStatus s = pool->Describe(true);
  EXPECT_EQ(s.blocks_online, 0u);
  EXPECT_EQ(s.capacity.available_size, 0u);
  pool.reset();
  pool = MustAttach(f);
  EXPECT_EQ(pool->Describe().blocks_online, 0u);
}

TEST(PoolTest, BadPagesStayPoisonedAndAreNeverLeased) {
  PoolFile f(32 * kM);
  auto fo = SmallPool();
  fo.max_leases = 1024;
  ASSERT_TRUE(Pool::Format(f.backing(), fo).ok());
  PoolOptions o = Opts();
  uint64_t data_offset = 0;
  {
    auto p = MustAttach(f);
    data_offset = p->Describe().data_offset;
  }
  o.badblocks = [&]() -> Result<std::vector<std::pair<uint64_t, uint64_t>>> {
    return std::vector<std::pair<uint64_t, uint64_t>>{{data_offset + 5 * kK4, 512}};
  };
  std::unique_ptr<Pool> pool = Pool::Attach(f.backing(), o).value();
  ASSERT_TRUE(pool->OnlineBlocks(0, 1).ok());
  PoolStatus s = pool->Describe();
  EXPECT_EQ(s.badblock_count, 1u);
  EXPECT_EQ(s.capacity.poisoned_size, kK4);
  EXPECT_EQ(s.capacity.available_size, 2 * kM - kK4);
  const PageDesc& bad = pool->memmap().data()[data_offset / kK4 + 5];
  EXPECT_TRUE(bad.IsHWPoison());
  EXPECT_TRUE(bad.IsOffline());
  EXPECT_EQ(pool->CreateLease(Spec("big", 2 * kM)).status().code(), Code::kNoSpace);
  std::vector<Lease> all;
  for (int i = 0; i < 511; ++i) {
    auto l = pool->CreateLease(Spec("l" + std::to_string(i), kK4));
    ASSERT_TRUE(l.ok()) << i << ": " << l.status().ToString();
    EXPECT_NE(l->offset, data_offset + 5 * kK4);
  }
  EXPECT_EQ(pool->CreateLease(Spec("one-more", kK4)).status().code(), Code::kNoSpace);
  CheckInvariants(*pool);
}

TEST(PoolTest, SecondAttachIsRefusedWhileAttached) {
  PoolFile f(32 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  auto pool = MustAttach(f);
  auto second = Pool::Attach(f.backing(), Opts());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kBusy);
  EXPECT_NE(second.status().message().find("attached by another process (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second.status().message();
  EXPECT_EQ(Pool::Format(f.backing(), SmallPool("again")).code(), Code::kBusy) << "no format under an attached pool";
  pool.reset();
  EXPECT_TRUE(Pool::Attach(f.backing(), Opts()).ok());
}

TEST(PoolTest, NotAPoolCorruptAndNewerAreTold) {
  PoolFile f(32 * kM);
  auto none = Pool::Attach(f.backing(), Opts());
  EXPECT_EQ(none.status().code(), Code::kInvalidArgument);
  EXPECT_NE(none.status().message().find("is not a pmemd pool"), std::string::npos);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  // One damaged copy: repaired from the other.
  f.Poke(pool_format::kHeaderAOffset + 100, f.Peek(pool_format::kHeaderAOffset + 100) ^ 0xff);
  ASSERT_TRUE(MustAttach(f));
  EXPECT_TRUE(MustAttach(f));
  // Both damaged: corruption.
  f.Poke(pool_format::kHeaderAOffset + 100, f.Peek(pool_format::kHeaderAOffset + 100) ^ 0xff);
  f.Poke(pool_format::kHeaderBOffset + 100, f.Peek(pool_format::kHeaderBOffset + 100) ^ 0xff);
  auto bad = Pool::Attach(f.backing(), Opts());
  EXPECT_EQ(bad.status().code(), Code::kCorruption);
  EXPECT_NE(bad.status().message().find("fail their checksum"), std::string::npos);
  // A newer format version.
  ASSERT_TRUE(Pool::Format(f.backing(), [] { auto o = SmallPool(); o.force = true; return o; }()).ok());
  f.Poke(pool_format::kHeaderAOffset + 8, kPoolFormatVersion + 1);
  auto newer = Pool::Attach(f.backing(), Opts());
  EXPECT_EQ(newer.status().code(), Code::kUnsupported);
  EXPECT_NE(newer.status().message().find("upgrade pmemd"), std::string::npos) << newer.status().message();
  // Too small, bad block size.
  PoolFile tiny(2 * kM);
  EXPECT_EQ(Pool::Format(tiny.backing(), SmallPool()).code(), Code::kInvalidArgument);
  auto o = SmallPool();
  o.block_size = 3 * kM;
  EXPECT_EQ(Pool::Format(f.backing(), o).code(), Code::kInvalidArgument);
}

TEST(PoolTest, TornRecordIsDroppedAndEarlierOnesReplay) {
  PoolFile f(32 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  uint64_t log_offset = 0;
  {
    FaultHooks h;
    auto pool = MustAttach(f, &h);
    log_offset = pool_format::ComputeGeometry(32 * kM, 2 * kM, 64, 64 * 1024).log_offset;
    ASSERT_TRUE(pool->OnlineBlocks(0, 2).ok());
    ASSERT_TRUE(pool->CreateLease(Spec("a", kK4)).ok());
    // Crash right after the next record is persisted: the pool writes
    // nothing more (no checkpoint at detach).
    h.crash_at = h.steps + 1;
    ASSERT_FALSE(pool->CreateLease(Spec("b", kK4)).ok());
  }
  // Records: going-online (64 bytes), online (64), a (576), b; tear b's payload.
  f.Poke(log_offset + 704 + 200, f.Peek(log_offset + 704 + 200) ^ 0x5a);
  auto pool = MustAttach(f);
  EXPECT_TRUE(pool->GetLease("a").ok());
  EXPECT_EQ(pool->GetLease("b").status().code(), Code::kNotFound) << "a torn record is not applied";
  EXPECT_EQ(pool->Describe().blocks_online, 2u);
  CheckInvariants(*pool);
}

TEST(PoolTest, CheckpointsKeepTheStateWhenTheLogWraps) {
  PoolFile f(64 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  std::map<std::string, uint64_t> want;
  {
    auto pool = MustAttach(f);
    ASSERT_TRUE(pool->OnlineBlocks(0, 10).ok());
    std::mt19937 rng(7);
    for (int i = 0; i < 600; ++i) {  // a 64 KiB log holds ~110 lease records
      std::string n = "l" + std::to_string(rng() % 40);
      if (want.count(n)) {
        ASSERT_TRUE(pool->DeleteLease(n).ok());
        want.erase(n);
      } else {
        auto l = pool->CreateLease(Spec(n, (1 + rng() % 20) * kK4));
        ASSERT_TRUE(l.ok()) << l.status().ToString();
        want[n] = l->offset;
      }
    }
    CheckInvariants(*pool);
  }
  auto pool = MustAttach(f);
  auto leases = pool->ListLeases();
  ASSERT_EQ(leases.size(), want.size());
  for (const auto& l : leases) EXPECT_EQ(want.at(l.name), l.offset) << l.name;
  CheckInvariants(*pool);
}

TEST(PoolTest, ReadersRunBesideAWriter) {
  PoolFile f(256 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), [] { auto o = SmallPool(); o.max_leases = 256; return o; }()).ok());
  PoolOptions o = Opts();
  o.strategy = InitStrategy::kDeferred;  // background initialization runs meanwhile
  o.memmap_threads = 2;
  std::unique_ptr<Pool> pool = Pool::Attach(f.backing(), o).value();
  ASSERT_TRUE(pool->OnlineBlocks(0, 100).ok());
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      for (const auto& l : pool->ListLeases()) {
        auto owner = pool->LeaseOfPage(l.offset / kK4);
        (void)owner;
      }
      (void)pool->Describe(true);
    }
  });
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string n = "l" + std::to_string(rng() % 50);
    if (!pool->CreateLease(Spec(n, (1 + rng() % 8) * kK4)).ok()) {
      ASSERT_TRUE(pool->DeleteLease(n).ok());
    }
    if (i % 500 == 0) (void)pool->OfflineBlocks(90, 10);
    if (i % 500 == 250) (void)pool->OnlineBlocks(90, 10);
  }
  stop = true;
  reader.join();
  CheckInvariants(*pool);
}

// Readers hold the pool's lock shared, and a reader may be the one that
// finds the media failed (open-lease's size check, a fault while reading
// pages): the failure and the size check's clock must be safe to set from
// several readers at once, and every reader must see the same failure.
// (ThreadSanitizer found open-lease writing them under the shared lock.)
TEST(PoolTest, ReadersThatFindTheMediaFailedAgreeOnIt) {
  PoolFile f(16 * kM);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  auto pool = MustAttach(f);
  ASSERT_TRUE(pool->OnlineBlocks(0, 1).ok());
  ASSERT_TRUE(pool->CreateLease(Spec("a", kK4)).ok());
  ASSERT_EQ(::truncate(f.path().c_str(), 8192), 0);
  std::vector<std::string> seen(4);
  std::vector<std::thread> readers;
  for (size_t t = 0; t < seen.size(); ++t)
    readers.emplace_back([&, t] {
      // Until this reader's own open-lease reports the failure (the size
      // check runs at most every 100 ms, so some calls still succeed).
      for (;;) {
        UniqueFd fd;
        auto r = pool->OpenLease("a", &fd);
        (void)pool->Describe(false);
        if (!r.ok() && r.status().message().find("truncated") != std::string::npos) {
          seen[t] = r.status().message();
          return;
        }
      }
    });
  for (auto& r : readers) r.join();
  const std::string failure = pool->Describe(false).failure;
  ASSERT_NE(failure.find("truncated"), std::string::npos) << failure;
  for (const auto& m : seen) EXPECT_EQ(m, failure) << "every reader reports the first failure";
}

// ---- Exhaustive crash injection -------------------------------------------

TEST(PoolCrashTest, EveryPersistStepRecoversToAnAcknowledgedState) {
  const auto ops = Script();
  // A run without a crash: the snapshot after every operation, and how many
  // persist steps there are.
  std::vector<Snapshot> after;
  std::vector<std::string> outcomes;
  uint64_t total_steps = 0;
  {
    PoolFile f(64 * kM);
    ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
    FaultHooks h;
    auto pool = MustAttach(f, &h);
    after.push_back(Snap(*pool));
    for (const auto& op : ops) {
      outcomes.push_back(op(*pool, h));
      after.push_back(Snap(*pool));
    }
    // The script's failures are the ones it means, and only those: two
    // offlines of blocks that hold leases and an online with an injected
    // failure at block 6, each rolled back; everything else succeeds.
    const std::set<size_t> refused = {5, 8, ops.size() - 2};
    for (size_t i = 0; i < outcomes.size(); ++i)
      EXPECT_EQ(outcomes[i], refused.count(i) ? "rolled back by busy" : "ok") << "op " << i;
    total_steps = h.steps;
    std::set<std::string> kinds(h.names.begin(), h.names.end());
    EXPECT_TRUE(kinds.count("log-append") && kinds.count("checkpoint-commit") && kinds.count("checkpoint-leases"))
        << "the script must reach every kind of persist step";
  }
  ASSERT_GT(total_steps, 100u);
  int applied = 0, not_applied = 0;
  for (uint64_t n = 1; n <= total_steps; ++n) {
    PoolFile f(64 * kM);
    ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
    size_t in_flight = ops.size();
    {
      FaultHooks h;
      h.crash_at = n;
      auto pool = Pool::Attach(f.backing(), Opts(&h));
      if (!pool.ok()) {
        in_flight = 0;  // crashed while attaching: nothing acknowledged
      } else {
        for (size_t i = 0; i < ops.size(); ++i) {
          std::string outcome = ops[i](**pool, h);
          if (h.crash_at && h.steps >= n) {
            in_flight = i;
            break;
          }
          // Acknowledged before the crash: exactly what the uncrashed run got.
          ASSERT_EQ(outcome, outcomes[i]) << "op " << i << " with a crash at step " << n;
        }
      }
    }
    ASSERT_LT(in_flight, ops.size()) << "step " << n << " was never reached";
    auto pool = Pool::Attach(f.backing(), Opts());
    ASSERT_TRUE(pool.ok()) << "step " << n << ": " << pool.status().ToString();
    Snapshot got = Snap(**pool);
    // Acknowledged: everything before the op in flight; the op in flight is
    // either wholly there or not at all.
    const Snapshot& before = after[in_flight];
    const Snapshot& with = after[in_flight + 1];
    ASSERT_TRUE(got == before || got == with)
        << "crash after persist step " << n << " in op " << in_flight << "\n got:    " << Show(got)
        << "\n before: " << Show(before) << "\n after:  " << Show(with);
    (got == with && !(before == with)) ? ++applied : ++not_applied;
    CheckInvariants(**pool);
    // Recovery is stable: attaching again finds the same state.
    pool->reset();
    auto again = Pool::Attach(f.backing(), Opts());
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE(Snap(**again) == got) << "step " << n;
  }
  std::printf("[ crash ] %llu persist steps, each crashed once: op in flight applied %d times, not applied %d\n",
              static_cast<unsigned long long>(total_steps), applied, not_applied);
  // Crashes must have landed on both sides of operations' commit points.
  EXPECT_GT(applied, 0);
  EXPECT_GT(not_applied, 0);
}

}  // namespace
}  // namespace pmemd
