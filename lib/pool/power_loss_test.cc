// A power-loss model for pool media.
//
// Everywhere else a simulated crash keeps every store the pool made: the
// pool writes into a shared mapping, and the mapping (or the page cache,
// after SIGKILL) survives. On real pmem a store that was never persisted
// may be lost, so a missing persist call, or one that covers the wrong
// range, passes every such test and loses data in production.
//
// PowerLoss keeps a second, durable image of the pool's bytes that only
// persist calls update (PoolHooks::Persisted), at cache-line granularity. A
// crash then replaces the media with that image, optionally with a random
// subset of the lines that were stored but not persisted (and, within a
// line, of its 8-byte words: stores are atomic at 8 bytes, a line is
// written back whole or torn at word boundaries), as PMDK's pmreorder
// explores store reordering. The pool is re-attached from there and must
// come back to an acknowledged state.
#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "format.h"
#include "pmemd/fs.h"
#include "pool_test_util.h"

namespace pmemd {
namespace {

using namespace pooltest;  // NOLINT
namespace pf = pool_format;

constexpr uint64_t kLine = 64;
constexpr uint64_t kPoolBytes = 64 * kM;

class PowerLoss : public FaultHooks {
 public:
  explicit PowerLoss(std::string durable) : durable_(std::move(durable)) {}

  void Persisted(const uint8_t* base, uint64_t size, uint64_t offset, uint64_t len) override {
    live_ = base;
    live_size_ = size;
    const uint64_t lo = pf::AlignDown(offset, kLine);
    const uint64_t hi = std::min<uint64_t>(pf::AlignUp(offset + len, kLine), std::min<uint64_t>(size, durable_.size()));
    std::memcpy(durable_.data() + lo, base + lo, hi - lo);
  }
  bool CrashAfterPersist(std::string_view step, uint64_t n) override {
    const bool crash = FaultHooks::CrashAfterPersist(step, n);
    // What the CPU caches and the media held together at the crash.
    // (The image covers the metadata; pool code never writes past it.)
    if (crash) at_crash_.assign(reinterpret_cast<const char*>(live_), std::min<uint64_t>(live_size_, durable_.size()));
    return crash;
  }
  bool crashed() const { return !at_crash_.empty(); }
  // The media if every store had reached it (what a process crash leaves).
  const std::string& KeptEverything() const { return at_crash_; }

  // The media after the power failed: the durable image, with, when `rng`
  // is given, a random subset of the unpersisted lines written back whole
  // or torn at 8-byte boundaries.
  std::string AfterPowerLoss(std::mt19937_64* rng) const {
    std::string media = durable_;
    if (rng == nullptr) return media;
    const uint64_t n = std::min<uint64_t>(media.size(), at_crash_.size());
    for (uint64_t line = 0; line + kLine <= n; line += kLine) {
      if (std::memcmp(media.data() + line, at_crash_.data() + line, kLine) == 0) continue;
      switch ((*rng)() % 3) {
        case 0:  // never written back
          break;
        case 1:  // written back whole
          std::memcpy(media.data() + line, at_crash_.data() + line, kLine);
          break;
        default:  // torn: some of its words
          for (uint64_t w = 0; w < kLine; w += 8)
            if ((*rng)() % 2) std::memcpy(media.data() + line + w, at_crash_.data() + line + w, 8);
      }
    }
    return media;
  }

 private:
  std::string durable_;
  const uint8_t* live_ = nullptr;
  uint64_t live_size_ = 0;
  std::string at_crash_;
};

std::string ReadBytes(const std::string& path, uint64_t n) {
  std::string out(n, '\0');
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(::pread(fd.get(), out.data(), n, 0), static_cast<ssize_t>(n));
  return out;
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_EQ(::pwrite(fd.get(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
}

// A run of `ops` without a crash: the snapshot before the first op and
// after each, every op's outcome, how many persist steps it takes, and
// where the data area starts (pool code never writes past it).
struct Baseline {
  std::vector<Snapshot> after;
  std::vector<std::string> outcomes;
  uint64_t steps = 0;
  uint64_t metadata_size = 0;
};

Baseline RunWithoutCrash(const std::vector<Op>& ops) {
  Baseline b;
  PoolFile f(kPoolBytes);
  EXPECT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  FaultHooks h;
  auto pool = MustAttach(f, &h);
  b.after.push_back(Snap(*pool));
  for (const auto& op : ops) {
    b.outcomes.push_back(op(*pool, h));
    b.after.push_back(Snap(*pool));
  }
  b.steps = h.steps;
  b.metadata_size = pool->Describe().data_offset;
  return b;
}

struct Tally {
  int applied = 0, not_applied = 0, images = 0;
};

// Crashes `ops` after persist step n, loses power, and checks every media
// image the loss can leave (the durable one, then `reorders` reordered
// ones): each must attach to the acknowledged state, the op in flight
// wholly applied or not at all, and attach again to the same state.
void CrashAndLosePower(const std::vector<Op>& ops, const Baseline& base, uint64_t n, int reorders,
                       std::mt19937_64* rng, Tally* tally) {
  PoolFile f(kPoolBytes);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  PowerLoss pl(ReadBytes(f.path(), base.metadata_size));  // the format is durable
  pl.crash_at = n;
  size_t in_flight = ops.size();
  {
    auto pool = Pool::Attach(f.backing(), Opts(&pl));
    if (!pool.ok()) {
      in_flight = 0;  // crashed in the attach: nothing acknowledged
    } else {
      for (size_t i = 0; i < ops.size(); ++i) {
        std::string outcome = ops[i](**pool, pl);
        if (pl.steps >= n) {
          in_flight = i;
          break;
        }
        ASSERT_EQ(outcome, base.outcomes[i]) << "op " << i << " with a crash at step " << n;
      }
    }
  }
  ASSERT_TRUE(pl.crashed()) << "step " << n << " was never reached";
  ASSERT_LT(in_flight, ops.size());
  const Snapshot& before = base.after[in_flight];
  const Snapshot& with = base.after[in_flight + 1];
  for (int variant = 0; variant <= reorders; ++variant) {
    WriteBytes(f.path(), pl.AfterPowerLoss(variant == 0 ? nullptr : rng));
    Snapshot got;
    {
      auto pool = Pool::Attach(f.backing(), Opts());
      ASSERT_TRUE(pool.ok()) << "power lost after persist step " << n << " (image " << variant
                             << "): " << pool.status().ToString();
      got = Snap(**pool);
      ASSERT_TRUE(got == before || got == with)
          << "power lost after persist step " << n << " in op " << in_flight << " (image " << variant << ")"
          << "\n got:    " << Show(got) << "\n before: " << Show(before) << "\n after:  " << Show(with);
      CheckInvariants(**pool);
      Status v = (*pool)->VerifyMemmap();
      ASSERT_TRUE(v.ok()) << "step " << n << " image " << variant << ": " << v.ToString();
    }
    auto again = Pool::Attach(f.backing(), Opts());
    ASSERT_TRUE(again.ok()) << "step " << n << " image " << variant << ": " << again.status().ToString();
    ASSERT_TRUE(Snap(**again) == got) << "recovery is not stable: step " << n << " image " << variant;
    (got == with && !(before == with)) ? ++tally->applied : ++tally->not_applied;
    ++tally->images;
  }
}

// Format acknowledges a pool only once it is durable; cut short, it leaves
// either no pool or the new, empty one, never a pool that fails to attach.
TEST(PowerLossTest, FormatIsDurableWhenItReturnsAndACrashInItLeavesNoHalfPool) {
  uint64_t format_steps = 0, metadata_size = 0;
  {
    PoolFile f(kPoolBytes);
    FaultHooks h;
    ASSERT_TRUE(Pool::Format(f.backing(), SmallPool(), &h).ok());
    format_steps = h.steps;
    metadata_size = MustAttach(f)->Describe().data_offset;
  }
  ASSERT_GE(format_steps, 3u);
  int none = 0, empty = 0;
  for (uint64_t n = 1; n <= format_steps + 1; ++n) {
    PoolFile f(kPoolBytes);
    PowerLoss pl(std::string(metadata_size, '\0'));
    pl.crash_at = n;  // format_steps + 1: no crash, the power fails after it returned
    const bool acknowledged = Pool::Format(f.backing(), SmallPool(), &pl).ok() && n > format_steps;
    WriteBytes(f.path(), pl.AfterPowerLoss(nullptr));
    auto pool = Pool::Attach(f.backing(), Opts());
    if (acknowledged) {
      ASSERT_TRUE(pool.ok()) << "a formatted pool did not survive the power loss: " << pool.status().ToString();
    }
    if (pool.ok()) {
      EXPECT_TRUE((*pool)->ListLeases().empty());
      ++empty;
    } else {
      EXPECT_EQ(pool.status().code(), Code::kInvalidArgument) << "step " << n << ": " << pool.status().ToString();
      ++none;
    }
  }
  EXPECT_GT(none, 0);
  EXPECT_GT(empty, 0);
}

// Formatting over a pool (force) and losing the power part way: the old
// pool whole, no pool, or the new empty one; never the old pool's header
// over the new, empty tables (its leases silently gone).
// The old pool's lease sits in a high slot of a large lease table, so that
// every part of the zeroed metadata must be durable before the new header.
TEST(PowerLossTest, ACrashWhileFormattingOverAPoolNeverLeavesTheOldHeaderOverNewTables) {
  PoolFile f(kPoolBytes);
  PoolFormatOptions old_options = SmallPool("old");
  old_options.max_leases = 256;
  ASSERT_TRUE(Pool::Format(f.backing(), old_options).ok());
  std::string old_uuid;
  uint64_t metadata_size = 0;
  {
    auto pool = MustAttach(f);
    ASSERT_TRUE(pool->OnlineBlocks(0, 2).ok());
    for (int i = 0; i < 255; ++i) ASSERT_TRUE(pool->CreateLease(Spec("f" + std::to_string(i), kK4)).ok());
    ASSERT_TRUE(pool->CreateLease(Spec("kept", 8 * kK4)).ok());
    for (int i = 0; i < 255; ++i) ASSERT_TRUE(pool->DeleteLease("f" + std::to_string(i)).ok());
    old_uuid = pool->Describe().uuid;
    metadata_size = pool->Describe().data_offset;
  }
  const std::string old_image = ReadBytes(f.path(), metadata_size);
  PoolFormatOptions fresh = SmallPool("new");
  fresh.max_leases = old_options.max_leases;
  fresh.force = true;
  int old_whole = 0, none = 0, fresh_empty = 0;
  for (uint64_t n = 1;; ++n) {
    WriteBytes(f.path(), old_image);
    PowerLoss pl(old_image);
    pl.crash_at = n;
    const bool done = Pool::Format(f.backing(), fresh, &pl).ok() && !pl.crashed();
    WriteBytes(f.path(), pl.AfterPowerLoss(nullptr));
    auto pool = Pool::Attach(f.backing(), Opts());
    if (!pool.ok()) {
      EXPECT_EQ(pool.status().code(), Code::kInvalidArgument) << "step " << n << ": " << pool.status().ToString();
      ++none;
    } else if ((*pool)->Describe().uuid == old_uuid) {
      EXPECT_EQ((*pool)->name(), "old") << "step " << n;
      EXPECT_TRUE((*pool)->GetLease("kept").ok()) << "step " << n << ": the old header over new tables";
      ++old_whole;
    } else {
      EXPECT_EQ((*pool)->name(), "new") << "step " << n;
      EXPECT_TRUE((*pool)->ListLeases().empty()) << "step " << n;
      ++fresh_empty;
    }
    if (done) break;
  }
  EXPECT_GT(none, 0);
  EXPECT_GT(old_whole + fresh_empty, 0);
}

TEST(PowerLossTest, EveryPersistStepSurvivesLosingWhatWasNotPersisted) {
  const auto ops = Script();
  const Baseline base = RunWithoutCrash(ops);
  ASSERT_GT(base.steps, 100u);
  std::mt19937_64 rng(20261204);
  Tally t;
  for (uint64_t n = 1; n <= base.steps; ++n) {
    CrashAndLosePower(ops, base, n, /*reorders=*/3, &rng, &t);
    if (HasFatalFailure()) return;
  }
  std::printf("[ power loss ] %llu persist steps, %d media images: op in flight applied %d, not applied %d\n",
              static_cast<unsigned long long>(base.steps), t.images, t.applied, t.not_applied);
  EXPECT_GT(t.applied, 0);
  EXPECT_GT(t.not_applied, 0);
}

// A random sequence of lease and block operations, checked against the
// same sequence run without a crash, cut at sampled persist steps.
std::vector<Op> RandomScript(uint64_t seed, size_t n) {
  std::mt19937_64 r(seed);
  std::vector<Op> ops;
  ops.push_back([](Pool& p, FaultHooks&) { return Outcome(p.OnlineBlocks(0, 8)); });
  for (size_t i = 0; i < n; ++i) {
    const std::string name = "r" + std::to_string(r() % 24);
    switch (r() % 8) {
      case 0:
      case 1:
      case 2: {
        const uint64_t align = r() % 4 ? kK4 : 2 * kM;
        const uint64_t size = (1 + r() % (align == kK4 ? 16 : 2)) * align;
        ops.push_back([=](Pool& p, FaultHooks&) { return Outcome(p.CreateLease(Spec(name, size, align)).status()); });
        break;
      }
      case 3:
      case 4:
        ops.push_back([=](Pool& p, FaultHooks&) { return Outcome(p.DeleteLease(name)); });
        break;
      case 5: {
        const uint64_t first = r() % 12, count = 1 + r() % 4;
        ops.push_back([=](Pool& p, FaultHooks&) { return Outcome(p.OnlineBlocks(first, count)); });
        break;
      }
      case 6: {
        const uint64_t first = r() % 12, count = 1 + r() % 4;
        ops.push_back([=](Pool& p, FaultHooks&) { return Outcome(p.OfflineBlocks(first, count)); });
        break;
      }
      default:
        ops.push_back([](Pool& p, FaultHooks&) { return Outcome(p.Checkpoint()); });
    }
  }
  return ops;
}

TEST(PowerLossTest, RandomOperationSequencesSurviveLosingWhatWasNotPersisted) {
  const uint64_t seed = 0x5eed0001;
  std::mt19937_64 rng(seed);
  Tally t;
  for (uint64_t script = 0; script < 3; ++script) {
    const auto ops = RandomScript(seed + script, 150);
    const Baseline base = RunWithoutCrash(ops);
    ASSERT_GT(base.steps, 20u);
    for (uint64_t n = 1 + script; n <= base.steps; n += 3) {
      CrashAndLosePower(ops, base, n, /*reorders=*/2, &rng, &t);
      if (HasFatalFailure()) return;
    }
  }
  std::printf("[ power loss ] random scripts (seed %llu): %d media images: op in flight applied %d, not applied %d\n",
              static_cast<unsigned long long>(seed), t.images, t.applied, t.not_applied);
  EXPECT_GT(t.applied, 0);
  EXPECT_GT(t.not_applied, 0);
}

// Recovery writes too (a replay's checkpoint, rolled-back blocks), and its
// checkpoint writes the tables in place before it commits: a crash at each
// of its persist steps, with the power lost or with every store kept, must
// still recover to exactly what an uninterrupted recovery gives. (A replay
// that refused to delete a lease from a slot the interrupted checkpoint had
// already cleared made such a pool unattachable: found by the integration
// crash loop once it could kill pmemd inside recovery.)
TEST(PowerLossTest, ACrashDuringRecoveryRecoversTheSameState) {
  const auto ops = Script();
  const Baseline base = RunWithoutCrash(ops);
  uint64_t cut = 0;
  for (uint64_t n = 1; n <= base.steps; n += 2) {
    PoolFile f(kPoolBytes);
    ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
    PowerLoss first(ReadBytes(f.path(), base.metadata_size));
    first.crash_at = n;
    {
      auto pool = Pool::Attach(f.backing(), Opts(&first));
      if (pool.ok())
        for (const auto& op : ops) {
          op(**pool, first);
          if (first.steps >= n) break;
        }
    }
    const std::string lost = first.AfterPowerLoss(nullptr);
    WriteBytes(f.path(), lost);
    Snapshot want;
    uint64_t recovery_steps = 0;
    {
      FaultHooks h;
      auto pool = Pool::Attach(f.backing(), Opts(&h));
      ASSERT_TRUE(pool.ok()) << "step " << n << ": " << pool.status().ToString();
      want = Snap(**pool);
      recovery_steps = h.steps;
    }
    for (uint64_t k = 1; k < recovery_steps; ++k) {
      for (bool power_lost : {true, false}) {
        WriteBytes(f.path(), lost);
        PowerLoss second(lost);
        second.crash_at = k;
        (void)Pool::Attach(f.backing(), Opts(&second)).ok();
        WriteBytes(f.path(), power_lost ? second.AfterPowerLoss(nullptr) : second.KeptEverything());
        auto pool = Pool::Attach(f.backing(), Opts());
        const std::string where = "crash after step " + std::to_string(n) + ", then after recovery step " +
                                  std::to_string(k) + (power_lost ? " with the power lost" : " with every store kept");
        ASSERT_TRUE(pool.ok()) << where << ": " << pool.status().ToString();
        ASSERT_TRUE(Snap(**pool) == want) << where << "\n got:  " << Show(Snap(**pool)) << "\n want: " << Show(want);
        ++cut;
      }
    }
  }
  EXPECT_GT(cut, 40u);
}

// A dev pool's clean detach persists its metadata array and then seals it;
// the next attach reuses the array as it is. With the power lost at the
// end of the detach, or at any persist step in it, the array attached
// (reused or rebuilt) must equal a rebuild from the tables, and the state
// the last acknowledged one. (Without the array's persist, or with half
// of it, a reused array holds what never reached the media.)
TEST(PowerLossTest, ACleanDetachSealsTheArrayAndACrashInItNeverLeavesAStaleOne) {
  auto ops = Script();
  // Blocks in the second half of the array's range too.
  ops.push_back([](Pool& p, FaultHooks&) { return Outcome(p.OnlineBlocks(20, 6)); });
  ops.push_back([](Pool& p, FaultHooks&) { return Outcome(p.CreateLease(Spec("late", 3 * kM)).status()); });
  const Baseline base = RunWithoutCrash(ops);
  ASSERT_EQ(base.outcomes.back(), "ok");
  uint64_t detach_first = 0, detach_last = 0;
  {
    // Where the detach's persist steps are.
    PoolFile f(kPoolBytes);
    ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
    FaultHooks h;
    {
      auto pool = MustAttach(f, &h);
      for (const auto& op : ops) op(*pool, h);
      detach_first = h.steps + 1;
    }
    detach_last = h.steps;
    ASSERT_NE(std::find(h.names.begin(), h.names.end(), "memmap-persist"), h.names.end());
    ASSERT_EQ(h.names.back(), "detach-info");
  }
  int reused = 0, rebuilt = 0;
  for (uint64_t n = detach_first; n <= detach_last + 1; ++n) {
    PoolFile f(kPoolBytes);
    ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
    PowerLoss pl(ReadBytes(f.path(), base.metadata_size));
    pl.crash_at = n <= detach_last ? n : 0;  // past the last: a whole clean detach
    {
      auto pool = MustAttach(f, &pl);
      for (const auto& op : ops) op(*pool, pl);
    }
    WriteBytes(f.path(), pl.AfterPowerLoss(nullptr));
    auto pool = Pool::Attach(f.backing(), Opts());
    ASSERT_TRUE(pool.ok()) << "power lost after detach step " << n << ": " << pool.status().ToString();
    ASSERT_TRUE(Snap(**pool) == base.after.back()) << "step " << n << ": " << Show(Snap(**pool));
    Status v = (*pool)->VerifyMemmap();
    ASSERT_TRUE(v.ok()) << "power lost after detach step " << n << ": " << v.ToString();
    CheckInvariants(**pool);
    (*pool)->Describe().memmap_init == "reused" ? ++reused : ++rebuilt;
    if (n > detach_last) {
      EXPECT_EQ((*pool)->Describe().memmap_init, "reused") << "a whole clean detach";
    }
  }
  EXPECT_GT(rebuilt, 0);
}

}  // namespace
}  // namespace pmemd
