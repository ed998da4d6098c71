#include "platform/memory_blocks.h"

#include <cerrno>
#include <map>
#include <thread>

#include <gtest/gtest.h>

namespace pmemd {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(KmemStateTest, NamesRoundTrip) {
  for (KmemState s : {KmemState::kOffline, KmemState::kOnline, KmemState::kGoingOffline})
    EXPECT_EQ(ParseKmemState(KmemStateName(s)).value(), s);
  EXPECT_EQ(ParseKmemState("going-online").status().code(), Code::kInvalidArgument);
}

TEST(KmemStateTest, TheTableIsTheKernels) {
  EXPECT_TRUE(IsLegalKmemTransition(KmemState::kOffline, KmemState::kOnline));
  EXPECT_TRUE(IsLegalKmemTransition(KmemState::kOnline, KmemState::kGoingOffline));
  EXPECT_TRUE(IsLegalKmemTransition(KmemState::kGoingOffline, KmemState::kOffline));
  EXPECT_TRUE(IsLegalKmemTransition(KmemState::kGoingOffline, KmemState::kOnline));  // cancelled
  EXPECT_FALSE(IsLegalKmemTransition(KmemState::kOnline, KmemState::kOffline));
  EXPECT_FALSE(IsLegalKmemTransition(KmemState::kOffline, KmemState::kGoingOffline));
  Status s = CheckKmemTransition(7, KmemState::kOnline, KmemState::kOffline);
  EXPECT_NE(s.message().find("memory block 7 cannot go from online to offline; from online a block goes "
                             "going-offline"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(KmemRequestWord(KmemState::kOnline, true), "online_movable");
  EXPECT_EQ(KmemRequestWord(KmemState::kOnline, false), "online_kernel");
  EXPECT_EQ(KmemRequestWord(KmemState::kOffline, true), "offline");
}

// The kernel's side of block writes, in memory: busy blocks refuse an
// offline with EBUSY; stuck ones keep the writer until its deadline, as
// offline_pages() does with pinned pages until a signal stops it.
struct FakeKernel {
  std::map<uint64_t, std::string> state;  // "online" / "offline"
  std::map<uint64_t, int> busy;           // EBUSY answers left (-1: forever)
  std::map<uint64_t, bool> stuck;
  std::vector<std::string> writes;
  std::vector<std::string> transitions;

  BlockStateWriter Writer() {
    return [this](const BlockWrite& w) -> Status {
      std::string word(KmemRequestWord(w.to, w.movable));
      writes.push_back(std::to_string(w.id) + "=" + word);
      if (w.to == KmemState::kOffline && stuck[w.id]) {
        std::this_thread::sleep_until(w.deadline);
        return Status(Code::kBusy, "stopped at its deadline", EINTR);
      }
      if (w.to == KmemState::kOffline && busy.count(w.id) && busy[w.id] != 0) {
        if (busy[w.id] > 0) --busy[w.id];
        return Status(Code::kBusy, "write 'offline' to memory" + std::to_string(w.id) + "/state: Device or resource busy",
                      EBUSY);
      }
      state[w.id] = w.to == KmemState::kOffline ? "offline" : "online";
      return Status::Ok();
    };
  }
  BlockTransitionFn Transitions() {
    return [this](uint64_t id, KmemState from, KmemState to, bool cancelled) {
      transitions.push_back(std::to_string(id) + ":" + std::string(KmemStateName(from)) + "->" +
                            std::string(KmemStateName(to)) + (cancelled ? "(cancelled)" : ""));
    };
  }
  std::vector<MemoryBlock> Blocks(const std::string& zone = "Movable") const {
    std::vector<MemoryBlock> v;
    for (const auto& [id, s] : state) {
      MemoryBlock b;
      b.id = id;
      b.state = s;
      b.zone = s == "online" ? zone : "";
      v.push_back(b);
    }
    return v;
  }
};

BlockWalkOptions NoSleep(std::vector<long>* slept) {
  BlockWalkOptions o;
  o.sleep = [slept](milliseconds d) { slept->push_back(static_cast<long>(d.count())); };
  return o;
}

TEST(BlockWalkerTest, OnlineOnlinesOnlyOfflineBlocksMovable) {
  FakeKernel k;
  k.state = {{40, "offline"}, {41, "online"}, {42, "offline"}};
  MemoryOpResult r = OnlineBlocks("dax0.1", k.Blocks(), true, k.Writer(), k.Transitions());
  EXPECT_FALSE(r.rolled_back);
  ASSERT_EQ(r.blocks.size(), 3u);
  EXPECT_EQ(r.blocks[0].from, "offline");
  EXPECT_EQ(r.blocks[0].to, "online");
  EXPECT_EQ(r.blocks[1].from, "online");
  EXPECT_EQ(r.blocks[1].to, "online");
  EXPECT_EQ(k.writes, (std::vector<std::string>{"40=online_movable", "42=online_movable"}));
  EXPECT_EQ(k.transitions, (std::vector<std::string>{"40:offline->online", "42:offline->online"}));
}

// "stage done/total" of each report.
ProgressFn Record(std::vector<std::string>* out) {
  return [out](const ProgressStep& s) {
    out->push_back(std::string(s.stage) + " " + std::to_string(s.done) + "/" + std::to_string(s.total) + " " +
                   std::string(s.unit));
  };
}

TEST(BlockWalkerTest, ProgressCountsTheBlocksToChangeOneByOne) {
  FakeKernel k;
  k.state = {{40, "offline"}, {41, "online"}, {42, "offline"}};
  std::vector<std::string> seen;
  OnlineBlocks("dax0.1", k.Blocks(), true, k.Writer(), nullptr, WalkReporting(Record(&seen)));
  EXPECT_EQ(seen, (std::vector<std::string>{"online 0/2 blocks", "online 1/2 blocks", "online 2/2 blocks"}));
  seen.clear();
  OfflineBlocks("dax0.1", k.Blocks(), k.Writer(), nullptr, WalkReporting(Record(&seen)));
  EXPECT_EQ(seen, (std::vector<std::string>{"offline 0/3 blocks", "offline 1/3 blocks", "offline 2/3 blocks",
                                            "offline 3/3 blocks"}));
}

TEST(BlockWalkerTest, AWalkThatRollsBackStopsItsProgressShortOfTheTotal) {
  FakeKernel k;
  k.state = {{40, "online"}, {41, "online"}, {42, "online"}};
  k.busy[41] = -1;
  std::vector<long> slept;
  std::vector<std::string> seen;
  BlockWalkOptions o = NoSleep(&slept);
  o.progress = Record(&seen);
  MemoryOpResult r = OfflineBlocks("dax0.1", k.Blocks(), k.Writer(), nullptr, o);
  EXPECT_TRUE(r.rolled_back);
  EXPECT_EQ(seen, (std::vector<std::string>{"offline 0/3 blocks", "offline 1/3 blocks"}));
}

TEST(BlockWalkerTest, OnlineKernelZoneWhenNotMovable) {
  FakeKernel k;
  k.state = {{7, "offline"}};
  OnlineBlocks("dax0.0", k.Blocks(), false, k.Writer(), nullptr);
  EXPECT_EQ(k.writes, (std::vector<std::string>{"7=online_kernel"}));
}

TEST(BlockWalkerTest, OfflineRetriesBusyBlocksWithBackoff) {
  FakeKernel k;
  k.state = {{40, "online"}, {41, "online"}};
  k.busy[41] = 3;
  std::vector<long> slept;
  MemoryOpResult r = OfflineBlocks("dax0.1", k.Blocks(), k.Writer(), k.Transitions(), NoSleep(&slept));
  EXPECT_FALSE(r.rolled_back);
  EXPECT_EQ(slept, (std::vector<long>{10, 20, 40}));
  EXPECT_EQ(k.state[40], "offline");
  EXPECT_EQ(k.state[41], "offline");
  for (const auto& b : r.blocks) EXPECT_TRUE(b.status.ok()) << b.status.ToString();
  // Each block is going-offline while the kernel works on it, then offline.
  EXPECT_EQ(k.transitions, (std::vector<std::string>{"40:online->going-offline", "40:going-offline->offline",
                                                     "41:online->going-offline", "41:going-offline->offline"}));
}

TEST(BlockWalkerTest, OfflineFailingPartWayRollsBackIntoTheSameZone) {
  FakeKernel k;
  k.state = {{40, "online"}, {41, "online"}, {42, "online"}};
  k.busy[42] = -1;  // never frees up
  std::vector<long> slept;
  MemoryOpResult r = OfflineBlocks("dax0.1", k.Blocks("Normal"), k.Writer(), k.Transitions(), NoSleep(&slept));
  EXPECT_TRUE(r.rolled_back);
  ASSERT_EQ(r.blocks.size(), 3u);
  for (int i : {0, 1}) {
    EXPECT_EQ(r.blocks[i].from, "online");
    EXPECT_EQ(r.blocks[i].to, "online");
    EXPECT_TRUE(r.blocks[i].rolled_back);
    EXPECT_TRUE(r.blocks[i].status.ok());
  }
  EXPECT_FALSE(r.blocks[2].rolled_back);
  EXPECT_EQ(r.blocks[2].status.code(), Code::kBusy);
  EXPECT_EQ(r.blocks[2].status.sys_errno(), EBUSY);
  EXPECT_NE(r.blocks[2].status.message().find("memory block 42 of dax0.1 is busy"), std::string::npos)
      << r.blocks[2].status.message();
  // Within the 2 s budget, doubling up to 500 ms.
  long total = 0;
  for (long d : slept) total += d;
  EXPECT_LE(total, 2000);
  EXPECT_EQ(slept.back(), 500);
  for (const auto& [id, s] : k.state) EXPECT_EQ(s, "online") << id;
  EXPECT_EQ(k.writes.back(), "41=online_kernel");  // back to Normal, where it was
  EXPECT_EQ(k.transitions, (std::vector<std::string>{
                               "40:online->going-offline", "40:going-offline->offline", "41:online->going-offline",
                               "41:going-offline->offline", "42:online->going-offline",
                               "42:going-offline->online(cancelled)", "40:offline->online(cancelled)",
                               "41:offline->online(cancelled)"}));
}

// A block whose offline never finishes (pinned pages): the walk ends at its
// deadline with kBusy naming the block and why, and everything it offlined
// is online again.
TEST(BlockWalkerTest, OfflineOfAStuckBlockEndsAtTheDeadlineAndRollsBack) {
  FakeKernel k;
  k.state = {{40, "online"}, {41, "online"}, {42, "online"}};
  k.stuck[41] = true;
  BlockWalkOptions o;
  o.timeout = milliseconds(300);
  auto t0 = Clock::now();
  MemoryOpResult r = OfflineBlocks("dax0.1", k.Blocks(), k.Writer(), k.Transitions(), o);
  auto took = Clock::now() - t0;
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(1000));
  EXPECT_TRUE(r.rolled_back);
  ASSERT_EQ(r.blocks.size(), 2u);  // 42 was never tried
  EXPECT_TRUE(r.blocks[0].rolled_back);
  const Status& s = r.blocks[1].status;
  EXPECT_EQ(s.code(), Code::kBusy);
  EXPECT_EQ(s.sys_errno(), EINTR);
  EXPECT_NE(s.message().find("memory block 41 of dax0.1 did not go offline within 300 ms"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("migrating its pages"), std::string::npos) << s.message();
  for (const auto& [id, st] : k.state) EXPECT_EQ(st, "online") << id;
  EXPECT_EQ(k.writes, (std::vector<std::string>{"40=offline", "41=offline", "40=online_movable"}));
}

// Busy retries never outlast the deadline either, whatever the delays.
TEST(BlockWalkerTest, BusyRetriesStopAtTheDeadline) {
  FakeKernel k;
  k.state = {{1, "online"}};
  k.busy[1] = -1;
  BlockWalkOptions o;
  o.timeout = milliseconds(100);
  o.first_delay = milliseconds(30);
  auto t0 = Clock::now();
  MemoryOpResult r = OfflineBlocks("dax0.0", k.Blocks(), k.Writer(), nullptr, o);
  EXPECT_LT(Clock::now() - t0, milliseconds(300));
  EXPECT_TRUE(r.rolled_back);
  EXPECT_EQ(r.blocks[0].status.code(), Code::kBusy);
}

TEST(BlockWalkerTest, OfflineDoesNotRetryOtherErrors) {
  FakeKernel k;
  k.state = {{5, "online"}};
  std::vector<long> slept;
  auto writer = [](const BlockWrite&) { return Status(Code::kInvalidArgument, "write: Invalid argument", EINVAL); };
  MemoryOpResult r = OfflineBlocks("dax0.0", k.Blocks(), writer, nullptr, NoSleep(&slept));
  EXPECT_TRUE(r.rolled_back);
  EXPECT_TRUE(slept.empty());
  EXPECT_EQ(r.blocks[0].status.code(), Code::kInvalidArgument);
}

TEST(BlockWalkerTest, BlocksInNoStableStateAreLeftAlone) {
  FakeKernel k;
  std::vector<MemoryBlock> blocks(1);
  blocks[0].id = 3;
  blocks[0].state = "going-offline";
  MemoryOpResult off = OfflineBlocks("dax0.0", blocks, k.Writer(), nullptr);
  MemoryOpResult on = OnlineBlocks("dax0.0", blocks, true, k.Writer(), nullptr);
  EXPECT_TRUE(k.writes.empty());
  EXPECT_EQ(off.blocks[0].to, "going-offline");
  EXPECT_EQ(on.blocks[0].to, "going-offline");
}

}  // namespace
}  // namespace pmemd
