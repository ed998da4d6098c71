// The event stream (subscribe) and metrics end to end: the real pmemd on the
// emulated platform, driven through lib/client (docs/events.md).
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "pmemd/client.h"
#include "pmemd/fs.h"
#include "support/stream_fixture.h"

namespace pmemd::testing {
namespace {

using nlohmann::json;
constexpr uint64_t kM = 1ull << 20, kG = 1ull << 30;

using EventsTest = StreamFixture;

TEST_F(EventsTest, CreateAndDestroyANamespaceStreamsItsEventsInOrderNamingTheRequest) {
  StartWith();
  Client sub = Connect();
  auto reply = sub.Subscribe();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["subscribed"], true);
  const uint64_t start = (*reply)["seq"];
  EXPECT_GE(start, 1u);  // the daemon's own start event came first

  Client admin = Connect();
  Call(admin, "create-namespace", {{"region", "0"}, {"mode", "fsdax"}, {"size", kG}});  // id 1
  Call(admin, "destroy-namespace", {{"namespace", "namespace0.0"}, {"force", true}});   // id 2

  std::vector<json> seen = ReadUntil(sub, [](const json& n) {
    return n.value("method", "") == "event" && n["params"]["object"] == "namespace0.0" && n["params"]["to"] == "";
  });
  ASSERT_GE(seen.size(), 2u);
  uint64_t last = start;
  for (const json& n : seen) {
    ASSERT_EQ(n["jsonrpc"], "2.0");
    ASSERT_EQ(n["method"], "event") << n.dump();
    ASSERT_FALSE(n.contains("id"));
    const json& e = n["params"];
    EXPECT_EQ(e["seq"].get<uint64_t>(), last + 1) << "gap or reorder: " << n.dump();
    last = e["seq"];
    EXPECT_TRUE(e["time"].get<std::string>().ends_with("Z"));
    EXPECT_GT(e["time_ns"].get<uint64_t>(), 0u);
  }
  const json& created = seen.front()["params"];
  EXPECT_EQ(created["kind"], "namespace");
  EXPECT_EQ(created["object"], "namespace0.0");
  EXPECT_EQ(created["from"], "");
  EXPECT_EQ(created["to"], "fsdax");
  EXPECT_EQ(created["request"]["method"], "create-namespace");
  EXPECT_EQ(created["request"]["id"], 1);
  EXPECT_EQ(created["request"]["uid"], ::getuid());
  EXPECT_EQ(created["request"]["pid"], ::getpid());
  const json& destroyed = seen.back()["params"];
  EXPECT_EQ(destroyed["request"]["method"], "destroy-namespace");
  EXPECT_EQ(destroyed["request"]["id"], 2);

  // The daemon's stop is the stream's last event.
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  std::vector<json> tail;
  for (;;) {
    auto n = sub.NextNotification(kWaitMs);
    if (!n.ok()) break;  // the daemon closed the stream
    ASSERT_TRUE(n->has_value()) << "no close within the bound";
    tail.push_back(**n);
  }
  ASSERT_FALSE(tail.empty());
  EXPECT_TRUE(Is(tail.back(), "daemon", "pmemd", "stopping")) << tail.back().dump();
}

TEST_F(EventsTest, FiltersByKindAndObjectAndRefusesAnUnknownKind) {
  StartWith();
  Client by_object = Connect();
  ASSERT_TRUE(by_object.Subscribe({{"objects", {"namespace0.1"}}}).ok());
  Client by_kind = Connect();
  ASSERT_TRUE(by_kind.Subscribe({{"kinds", {"daemon", "pool"}}}).ok());
  Client bad = Connect();
  auto refused = bad.Subscribe({{"kinds", {"namespaces"}}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("params.kinds[0]: expected one of "), std::string::npos) << refused.status().ToString();
  // The refused subscriber's connection still answers requests.
  EXPECT_TRUE(bad.Call("version").ok());

  Client admin = Connect();
  Call(admin, "create-namespace", {{"region", "0"}, {"mode", "devdax"}, {"size", kG}});
  Call(admin, "create-namespace", {{"region", "0"}, {"mode", "fsdax"}, {"size", kG}});
  Call(admin, "create-pool", {{"name", "p0"}, {"device", "dax0.0"}, {"block_size", 16 * kM}});

  auto objects = ReadUntil(by_object, [](const json&) { return true; });
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_TRUE(Is(objects[0], "namespace", "namespace0.1", "fsdax")) << objects[0].dump();
  auto kinds = ReadUntil(by_kind, [](const json& n) { return n["params"]["kind"] == "pool"; });
  for (const json& n : kinds) EXPECT_EQ(n["params"]["kind"], "pool") << n.dump();
  // Nothing else is queued for either: a marker event proves it.
  Call(admin, "create-namespace", {{"region", "0"}, {"mode", "fsdax"}, {"size", kG}});  // namespace0.2
  Call(admin, "reconfigure-namespace", {{"namespace", "namespace0.1"}, {"mode", "raw"}, {"force", true}});
  auto next = ReadUntil(by_object, [](const json&) { return true; });
  EXPECT_EQ(next[0]["params"]["object"], "namespace0.1");
  EXPECT_EQ(next[0]["params"]["request"]["method"], "reconfigure-namespace");
}

TEST_F(EventsTest, SinceReplaysFromTheRingAndSaysWhatWasMissedBeyondIt) {
  StartWith({{"event_ring_size", 3}});
  Client admin = Connect();
  for (int i = 0; i < 3; ++i) Call(admin, "create-namespace", {{"region", "0"}, {"mode", "fsdax"}, {"size", kG}});
  // seq 1 is the daemon's start; 2..4 the three namespaces; the ring holds 2..4.
  Client probe = Connect();
  auto now = probe.Subscribe();
  ASSERT_TRUE(now.ok());
  const uint64_t last = (*now)["seq"];
  ASSERT_EQ(last, 4u);

  Client resume = Connect();
  ASSERT_TRUE(resume.Subscribe({{"since", 2}}).ok());
  auto replay = ReadUntil(resume, [](const json& n) { return n["params"].value("seq", 0) == 4; });
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_EQ(replay[0]["params"]["seq"], 3);
  EXPECT_EQ(replay[0]["params"]["request"]["method"], "create-namespace");

  Client old = Connect();
  ASSERT_TRUE(old.Subscribe({{"since", 0}}).ok());
  auto missed = ReadUntil(old, [](const json& n) { return n["params"].value("seq", 0) == 4; });
  ASSERT_EQ(missed.size(), 4u);
  EXPECT_EQ(missed[0]["method"], "missed");
  EXPECT_EQ(missed[0]["params"]["missed"], 1);
  EXPECT_EQ(missed[0]["params"]["first_seq"], 2);

  Client future = Connect();
  auto refused = future.Subscribe({{"since", 99}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
}

// A subscriber that never reads: the daemon goes on serving others, its
// queue overflows, and once it reads it is told how many it lost.
TEST_F(EventsTest, ASubscriberThatNeverReadsStallsNoOneAndIsToldWhatWasDropped) {
  StartWith({{"event_queue_events", 8}, {"event_queue_bytes", 4096}});
  Client stalled = Connect();
  ASSERT_TRUE(stalled.Subscribe().ok());
  Client admin = Connect();
  Call(admin, "create-namespace", {{"region", "0"}, {"mode", "devdax"}, {"size", 4 * kG}});
  Call(admin, "create-pool", {{"name", "p0"}, {"device", "dax0.0"}, {"block_size", 2 * kM}});
  // Each round is some 4000 block events; the socket's buffer and the
  // queue hold far fewer. Rounds until the daemon itself reports drops.
  uint64_t dropped = 0;
  for (int round = 0; round < 20 && dropped == 0; ++round) {
    Call(admin, "online-blocks", {{"pool", "p0"}, {"blocks", "all"}});
    Call(admin, "offline-blocks", {{"pool", "p0"}, {"blocks", "all"}});
    std::string text = Call(admin, "metrics")["text"];
    auto at = text.find("\npmemd_events_dropped_total ");
    ASSERT_NE(at, std::string::npos);
    dropped = std::stoull(text.substr(at + 28));
  }
  ASSERT_GT(dropped, 0u) << "the stalled subscriber never overflowed";
  // Others are served meanwhile: a create by another client completes.
  Call(admin, "create-namespace", {{"region", "0"}, {"mode", "fsdax"}, {"size", kG}});

  // Reading, it is told of the drops once it has caught up with its queue;
  // then a marker event shows the stream goes on.
  uint64_t told = 0;
  auto is_dropped = [&](const json& n) {
    if (n["method"] != "dropped") return false;
    told += n["params"]["dropped"].get<uint64_t>();
    return true;
  };
  auto seen = ReadUntil(stalled, is_dropped);
  Call(admin, "create-namespace", {{"region", "0"}, {"mode", "fsdax"}, {"size", kG}});
  for (const json& n : ReadUntil(stalled, [&](const json& n) {
         is_dropped(n);
         return Is(n, "namespace", "namespace0.2", "fsdax");
       }))
    seen.push_back(n);
  std::string text = Call(admin, "metrics")["text"];
  dropped = std::stoull(text.substr(text.find("\npmemd_events_dropped_total ") + 28));
  EXPECT_EQ(told, dropped);
  // Delivered sequence numbers only grow, and the gaps are what was dropped.
  uint64_t prev = 0, gaps = 0;
  for (const json& n : seen)
    if (n["method"] == "event") {
      uint64_t seq = n["params"]["seq"];
      EXPECT_GT(seq, prev);
      if (prev) gaps += seq - prev - 1;
      prev = seq;
    }
  EXPECT_EQ(gaps, told);
}

TEST_F(EventsTest, SubscribeInsideABatchStreamsAfterTheBatchAnswer) {
  StartWith();
  Client c = Connect();
  auto line = c.RoundTrip(R"([{"jsonrpc":"2.0","method":"version","id":1},)"
                          R"({"jsonrpc":"2.0","method":"subscribe","params":{"kinds":["namespace"]},"id":2}])");
  ASSERT_TRUE(line.ok());
  json answers = json::parse(*line);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1]["result"]["subscribed"], true);
  Client admin = Connect();
  Call(admin, "create-namespace", {{"region", "0"}, {"mode", "fsdax"}, {"size", kG}});
  auto seen = ReadUntil(c, [](const json&) { return true; });
  EXPECT_TRUE(Is(seen[0], "namespace", "namespace0.0", "fsdax"));
}

// pmemctl monitor prints the stream as JSON lines: here a replay from the
// ring (--since 0) of a namespace's creation and destruction, then the
// daemon's stopping event, after which it exits 0. The SIGTERM waits until
// the daemon counts the monitor as a subscriber (metrics), not for a time.
TEST_F(EventsTest, PmemctlMonitorPrintsTheEventsAsJsonLinesUntilTheDaemonStops) {
  StartWith();
  auto c = Connect();
  Call(c, "create-namespace", {{"region", "region0"}, {"mode", "fsdax"}, {"size", kG}, {"name", "mon"}});
  Call(c, "destroy-namespace", {{"namespace", "namespace0.0"}, {"force", true}});
  RunResult monitor;
  std::thread t([&] {
    monitor = RunProgram({PMEMCTL_BIN, "--socket", d_->socket(), "monitor", "--json", "--since", "0", "--kind",
                          "namespace,daemon"});
  });
  bool subscribed = false;
  for (int i = 0; i < 3000 && !subscribed; ++i) {
    json m = Call(c, "metrics");
    subscribed = m.value("text", "").find("pmemd_event_subscribers 1") != std::string::npos;
    if (!subscribed) std::this_thread::yield();
  }
  EXPECT_TRUE(subscribed);
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  t.join();
  EXPECT_EQ(monitor.exit_code, 0) << monitor.err;
  std::vector<json> lines;
  for (size_t pos = 0; pos < monitor.out.size();) {
    size_t nl = monitor.out.find('\n', pos);
    lines.push_back(json::parse(monitor.out.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  std::vector<std::string> seen;
  for (const auto& e : lines) seen.push_back(e.value("kind", "") + " " + e.value("from", "") + "->" + e.value("to", ""));
  ASSERT_GE(lines.size(), 3u) << monitor.out;
  EXPECT_EQ(seen.back(), "daemon ready->stopping") << monitor.out;
  EXPECT_NE(std::find(seen.begin(), seen.end(), "namespace ->fsdax"), seen.end()) << monitor.out;
  EXPECT_NE(std::find(seen.begin(), seen.end(), "namespace fsdax->"), seen.end()) << monitor.out;
  for (const auto& e : lines)
    if (e.value("kind", "") == "namespace") {
      EXPECT_EQ(e["request"]["uid"], ::getuid()) << e.dump();
    }
}

}  // namespace
}  // namespace pmemd::testing
