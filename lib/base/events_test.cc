#include "pmemd/events.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace pmemd {
namespace {

TEST(EventBusTest, DeliversInOrderWithIncreasingSeq) {
  EventBus bus;
  std::vector<Event> seen;
  auto sub = bus.Subscribe([&](const Event& e) { seen.push_back(e); });
  bus.Publish({.kind = "memory_block", .object = "memory3", .from = "offline", .to = "online"});
  bus.Publish({.kind = "lease", .object = "p0/a", .from = "", .to = "created"});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].seq, 1u);
  EXPECT_EQ(seen[1].seq, 2u);
  EXPECT_EQ(seen[0].to, "online");
  EXPECT_GT(seen[0].time_ns, 0u);
  EXPECT_EQ(bus.last_seq(), 2u);
  EXPECT_EQ(ToJson(seen[1])["object"], "p0/a");
}

TEST(EventBusTest, SubscriptionEndsWhenDestroyed) {
  EventBus bus;
  int a = 0, b = 0;
  auto sa = bus.Subscribe([&](const Event&) { ++a; });
  {
    auto sb = bus.Subscribe([&](const Event&) { ++b; });
    bus.Publish({.kind = "pool"});
  }
  bus.Publish({.kind = "pool"});
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 1);
}

TEST(EventBusTest, ConcurrentPublishersEachEventDeliveredOnceInSeqOrder) {
  EventBus bus;
  std::vector<uint64_t> seqs;  // written only under the bus's delivery lock
  auto sub = bus.Subscribe([&](const Event& e) { seqs.push_back(e.seq); });
  constexpr int kThreads = 4, kEach = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) bus.Publish({.kind = "lease"});
    });
  for (auto& t : threads) t.join();
  ASSERT_EQ(seqs.size(), size_t{kThreads * kEach});
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
}

TEST(EventBusTest, UnsubscribeWhilePublishingIsSafe) {
  EventBus bus;
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    while (!stop.load()) bus.Publish({.kind = "pool"});
  });
  for (int i = 0; i < 200; ++i) {
    auto counter = std::make_unique<int>(0);
    auto sub = bus.Subscribe([c = counter.get()](const Event&) { ++*c; });
    // sub is destroyed before counter: after that no callback may touch it.
  }
  stop = true;
  publisher.join();
}

}  // namespace
}  // namespace pmemd
