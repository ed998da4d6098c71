#include "pmemd/event_stream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <string>
#include <thread>
#include <vector>

namespace pmemd {
namespace {

using nlohmann::json;

std::vector<json> Parse(const std::vector<std::string>& lines) {
  std::vector<json> out;
  for (const auto& l : lines) out.push_back(json::parse(l));
  return out;
}

void PublishN(EventBus* bus, int n, const std::string& kind = "namespace") {
  for (int i = 0; i < n; ++i) bus->Publish({.kind = kind, .object = kind + std::to_string(i), .from = "", .to = "x"});
}

TEST(EventStreamTest, EventLinesAreNotificationsWithSeqTimeAndRequest) {
  EventBus bus;
  EventStream stream(&bus);
  auto sub = stream.Subscribe({});
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->seq, 0u);
  {
    ScopedRequestOrigin origin({.method = "create-namespace", .id = 7, .uid = 1000, .pid = 42});
    bus.Publish({.kind = "namespace", .object = "namespace0.0", .from = "", .to = "devdax"});
  }
  bus.Publish({.kind = "daemon", .object = "pmemd", .from = "ready", .to = "stopping"});
  auto got = Parse(sub->subscriber->TakeLines(1 << 20));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["jsonrpc"], "2.0");
  EXPECT_EQ(got[0]["method"], "event");
  EXPECT_FALSE(got[0].contains("id"));
  const json& p = got[0]["params"];
  EXPECT_EQ(p["seq"], 1);
  EXPECT_EQ(p["kind"], "namespace");
  EXPECT_EQ(p["to"], "devdax");
  EXPECT_EQ(p["request"]["method"], "create-namespace");
  EXPECT_EQ(p["request"]["id"], 7);
  EXPECT_EQ(p["request"]["uid"], 1000);
  EXPECT_EQ(p["request"]["pid"], 42);
  EXPECT_TRUE(p["time"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(got[1]["params"]["seq"], 2);
  EXPECT_FALSE(got[1]["params"].contains("request"));
}

TEST(EventStreamTest, Rfc3339IsUtcWithNanoseconds) {
  EXPECT_EQ(Rfc3339(1'000'000'000ull * 86400 + 5), "1970-01-02T00:00:00.000000005Z");
}

TEST(EventStreamTest, FiltersByKindAndObject) {
  EventBus bus;
  EventStream stream(&bus);
  auto by_kind = stream.Subscribe({.kinds = {"pool"}});
  auto by_object = stream.Subscribe({.objects = {"namespace1"}});
  PublishN(&bus, 3, "namespace");
  PublishN(&bus, 2, "pool");
  auto k = Parse(by_kind->subscriber->TakeLines(1 << 20));
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0]["params"]["object"], "pool0");
  EXPECT_EQ(k[1]["params"]["object"], "pool1");
  auto o = Parse(by_object->subscriber->TakeLines(1 << 20));
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0]["params"]["seq"], 2);
}

TEST(EventStreamTest, SinceReplaysTheRingThenLiveEvents) {
  EventBus bus;
  EventStream stream(&bus, {.ring_size = 8});
  PublishN(&bus, 5);
  auto sub = stream.Subscribe({}, 3);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->seq, 5u);
  PublishN(&bus, 1, "pool");
  auto got = Parse(sub->subscriber->TakeLines(1 << 20));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0]["params"]["seq"], 4);
  EXPECT_EQ(got[1]["params"]["seq"], 5);
  EXPECT_EQ(got[2]["params"]["seq"], 6);
}

TEST(EventStreamTest, SinceOlderThanTheRingSaysWhatWasMissedFirst) {
  EventBus bus;
  EventStream stream(&bus, {.ring_size = 4});
  PublishN(&bus, 10);  // the ring holds 7..10
  auto sub = stream.Subscribe({}, 2);
  ASSERT_TRUE(sub.ok());
  auto got = Parse(sub->subscriber->TakeLines(1 << 20));
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0]["method"], "missed");
  EXPECT_EQ(got[0]["params"]["missed"], 4);  // 3, 4, 5, 6
  EXPECT_EQ(got[0]["params"]["since"], 2);
  EXPECT_EQ(got[0]["params"]["first_seq"], 7);
  EXPECT_EQ(got[1]["params"]["seq"], 7);
  EXPECT_EQ(got[4]["params"]["seq"], 10);
}

TEST(EventStreamTest, SinceZeroWithAFullRingMissesNothingWhenTheRingHoldsAll) {
  EventBus bus;
  EventStream stream(&bus, {.ring_size = 4});
  PublishN(&bus, 4);
  auto got = Parse(stream.Subscribe({}, 0)->subscriber->TakeLines(1 << 20));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0]["method"], "event");
}

TEST(EventStreamTest, SincePastTheLastEventIsRefused) {
  EventBus bus;
  EventStream stream(&bus);
  PublishN(&bus, 2);
  auto sub = stream.Subscribe({}, 3);
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.status().code(), Code::kInvalidArgument);
  EXPECT_NE(sub.status().message().find("restart"), std::string::npos);
}

TEST(EventStreamTest, AFullQueueDropsAndTellsTheCountBeforeTheNextEvent) {
  EventBus bus;
  EventStream stream(&bus, {.ring_size = 64, .queue_events = 3});
  auto sub = stream.Subscribe({});
  PublishN(&bus, 5);  // 1..3 queued, 4 and 5 dropped
  EXPECT_EQ(stream.dropped_total(), 2u);
  EXPECT_EQ(sub->subscriber->dropped_total(), 2u);
  auto first = Parse(sub->subscriber->TakeLines(1 << 20));
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[2]["params"]["seq"], 3);
  EXPECT_EQ(first[3]["method"], "dropped");
  EXPECT_EQ(first[3]["params"]["dropped"], 2);
  EXPECT_EQ(first[3]["params"]["first_seq"], 4);
  EXPECT_EQ(first[3]["params"]["last_seq"], 5);
  PublishN(&bus, 1);
  auto next = Parse(sub->subscriber->TakeLines(1 << 20));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0]["params"]["seq"], 6);
}

TEST(EventStreamTest, DropsAreToldInPlaceWhenRoomComesBeforeTheReader) {
  EventBus bus;
  EventStream stream(&bus, {.ring_size = 64, .queue_events = 2});
  auto sub = stream.Subscribe({});
  PublishN(&bus, 3);                                    // 1, 2 queued; 3 dropped
  ASSERT_EQ(sub->subscriber->TakeLines(1).size(), 1u);  // reads 1: room for one
  PublishN(&bus, 1);                                    // 4: the note, then 4
  auto got = Parse(sub->subscriber->TakeLines(1 << 20));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0]["params"]["seq"], 2);
  EXPECT_EQ(got[1]["method"], "dropped");
  EXPECT_EQ(got[1]["params"]["last_seq"], 3);
  EXPECT_EQ(got[2]["params"]["seq"], 4);
}

TEST(EventStreamTest, QueueIsBoundedInBytesToo) {
  EventBus bus;
  EventStream stream(&bus, {.ring_size = 64, .queue_events = 1000, .queue_bytes = 600});
  auto sub = stream.Subscribe({});
  PublishN(&bus, 20);
  EXPECT_GT(stream.dropped_total(), 0u);
  size_t bytes = 0;
  for (const auto& l : sub->subscriber->TakeLines(1 << 20))
    if (json::parse(l)["method"] == "event") bytes += l.size();
  EXPECT_LE(bytes, 600u);
}

TEST(EventStreamTest, WakeIsCalledOnceWhenTheFirstLineArrivesAfterAnEmptyTake) {
  EventBus bus;
  EventStream stream(&bus);
  auto sub = stream.Subscribe({});
  int wakes = 0;
  sub->subscriber->SetWake([&] { ++wakes; });
  EXPECT_EQ(wakes, 0);
  EXPECT_TRUE(sub->subscriber->TakeLines(1 << 20).empty());
  PublishN(&bus, 3);
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(sub->subscriber->TakeLines(1 << 20).size(), 3u);
  EXPECT_TRUE(sub->subscriber->TakeLines(1 << 20).empty());
  PublishN(&bus, 1);
  EXPECT_EQ(wakes, 2);
}

TEST(EventStreamTest, SetWakeWithLinesQueuedWakesAtOnce) {
  EventBus bus;
  EventStream stream(&bus);
  auto sub = stream.Subscribe({});
  PublishN(&bus, 1);
  int wakes = 0;
  sub->subscriber->SetWake([&] { ++wakes; });
  EXPECT_EQ(wakes, 1);
}

TEST(EventStreamTest, ClosedSubscriberGetsNothingAndCountsGoOn) {
  EventBus bus;
  EventStream stream(&bus);
  auto sub = stream.Subscribe({});
  EXPECT_EQ(stream.subscribers(), 1u);
  sub->subscriber->Close();
  EXPECT_EQ(stream.subscribers(), 0u);
  PublishN(&bus, 2);
  EXPECT_TRUE(sub->subscriber->TakeLines(1 << 20).empty());
  EXPECT_EQ(stream.published_total(), 2u);
  EXPECT_EQ(stream.last_seq(), 2u);
  sub->subscriber.reset();  // destroying a closed one is fine
}

// Publishers on several threads, a reader woken by its callback on another:
// every event is delivered once, in seq order, or counted as dropped.
TEST(EventStreamTest, ConcurrentPublishersAndAWokenReaderLoseNothingUncounted) {
  EventBus bus;
  EventStream stream(&bus, {.ring_size = 16, .queue_events = 8});
  auto sub = stream.Subscribe({});
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  sub->subscriber->SetWake([&] {
    std::lock_guard lock(mu);
    woken = true;
    cv.notify_one();
  });
  constexpr int kThreads = 4, kEach = 2000;
  std::atomic<bool> done{false};
  uint64_t delivered = 0, told = 0, prev = 0;
  bool ordered = true;
  std::thread reader([&] {
    for (;;) {
      auto lines = sub->subscriber->TakeLines(4096);
      for (const auto& l : lines) {
        json n = json::parse(l);
        if (n["method"] == "dropped") {
          told += n["params"]["dropped"].get<uint64_t>();
        } else {
          uint64_t seq = n["params"]["seq"];
          ordered = ordered && seq > prev;
          prev = seq;
          ++delivered;
        }
      }
      if (!lines.empty()) continue;
      if (done && delivered + told == uint64_t(kThreads) * kEach) return;
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return woken; });
      woken = false;
    }
  });
  std::vector<std::thread> publishers;
  for (int t = 0; t < kThreads; ++t) publishers.emplace_back([&] { PublishN(&bus, kEach, "pool"); });
  for (auto& p : publishers) p.join();
  done = true;
  reader.join();
  EXPECT_TRUE(ordered);
  EXPECT_EQ(delivered + told, uint64_t(kThreads) * kEach);
  EXPECT_EQ(told, stream.dropped_total());
  EXPECT_EQ(stream.published_total(), uint64_t(kThreads) * kEach);
}

}  // namespace
}  // namespace pmemd
