// Progress notifications end to end in-process: the real server, session,
// dispatcher and pool methods over a real socket, driven by the real
// client and by raw lines. In the unit label, so that it runs under ASan
// and TSan too (CMakePresets.json, scripts/test.sh).
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pmemd/api.h"
#include "pmemd/client.h"
#include "pmemd/json_reader.h"
#include "pmemd/json_schema.h"
#include "pmemd/pool_manager.h"
#include "pmemd/server.h"
#include "support/temp_dir.h"

namespace pmemd {
namespace {

using nlohmann::json;

constexpr uint64_t kBlockSize = 2ull << 20;
constexpr uint64_t kBlocks = 10000;

struct Step {
  std::string stage;
  uint64_t done, total;
  std::string unit;
};

// A line-at-a-time raw connection, to see exactly what the server sends.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  bool connected() const { return connected_; }
  void Send(const json& request) {
    std::string line = request.dump() + "\n";
    std::string_view rest = line;
    while (!rest.empty()) {
      ssize_t n = ::send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
      ASSERT_GT(n, 0) << std::strerror(errno);
      rest.remove_prefix(static_cast<size_t>(n));
    }
  }
  // The next line, parsed; null when the server closed the connection.
  json Next() {
    for (;;) {
      if (size_t nl = buf_.find('\n'); nl != std::string::npos) {
        json j = json::parse(buf_.substr(0, nl));
        buf_.erase(0, nl + 1);
        return j;
      }
      char chunk[65536];
      ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
      if (n <= 0) return nullptr;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
  // The progress notifications for request `id`, then its answer.
  std::pair<std::vector<json>, json> UntilAnswer(const json& id) {
    std::vector<json> notes;
    for (json j = Next();; j = Next()) {
      if (j.is_null() || j.contains("id")) return {notes, j};
      EXPECT_EQ(j.value("method", ""), "progress") << j.dump();
      EXPECT_EQ(j["params"]["id"], id) << j.dump();
      notes.push_back(j["params"]);
    }
  }

 private:
  UniqueFd fd_;
  bool connected_ = false;
  std::string buf_;
};

json Request(const json& id, const std::string& method, json params) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

// Every stage's steps go up and the stage ends at its total; the stages
// come in `stages` order.
void ExpectStages(const std::vector<Step>& steps, const std::vector<std::string>& stages, const std::string& unit) {
  std::vector<std::string> seen;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    EXPECT_EQ(s.unit, unit) << "step " << i;
    EXPECT_LE(s.done, s.total) << "step " << i;
    if (seen.empty() || seen.back() != s.stage) {
      if (!seen.empty()) {
        EXPECT_EQ(steps[i - 1].done, steps[i - 1].total) << "stage " << seen.back() << " ended short";
      }
      seen.push_back(s.stage);
      continue;
    }
    EXPECT_GT(s.done, steps[i - 1].done) << "stage " << s.stage << " went backwards at step " << i;
    EXPECT_EQ(s.total, steps[i - 1].total) << "stage " << s.stage;
  }
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back().done, steps.back().total) << "the last step completes the operation";
  EXPECT_EQ(seen, stages);
}

class ServerProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PoolOptions defaults;
    defaults.strategy = InitStrategy::kTemplate;
    defaults.memmap_threads = 1;
    auto pools = PoolManager::Open(nullptr, dir_.path() + "/state", nullptr, defaults);
    ASSERT_TRUE(pools.ok()) << pools.status().ToString();
    pools_ = std::move(*pools);
    ASSERT_TRUE(RegisterPoolMethods(&registry_, pools_.get()).ok());
    // Reports `stages` one-step stages, then waits to be let go: a peer
    // that reads nothing meanwhile must not hold it up.
    ASSERT_TRUE(registry_
                    .Add({.name = "chatter",
                          .summary = "many stages of progress",
                          .access = Access::kRead,
                          .params = {Param::Unsigned("stages", "how many").Default(0)},
                          .result = schema::Any(),
                          .handler = [this](JsonReader& r, const CallContext& ctx) -> Result<json> {
                            uint64_t stages = 0;
                            r.Optional("stages", &stages);
                            PMEMD_RETURN_IF_ERROR(r.Finish());
                            for (uint64_t i = 0; i < stages; ++i)
                              ReportProgress(ctx.progress, "s" + std::to_string(i), 1, 1, "steps");
                            std::lock_guard lock(mu_);
                            chatter_done_ = true;
                            cv_.notify_all();
                            return json("done");
                          },
                          .reports_progress = true})
                    .ok());
    // Reports a new stage after another until the test lets it go.
    ASSERT_TRUE(registry_
                    .Add({.name = "endless",
                          .summary = "progress without end",
                          .access = Access::kRead,
                          .params = {},
                          .result = schema::Any(),
                          .handler = [this](JsonReader& r, const CallContext& ctx) -> Result<json> {
                            PMEMD_RETURN_IF_ERROR(r.Finish());
                            for (uint64_t i = 0;; ++i) {
                              {
                                std::lock_guard lock(mu_);
                                if (endless_released_) return json("released");
                              }
                              ReportProgress(ctx.progress, "s" + std::to_string(i), 1, 1, "steps");
                              std::this_thread::yield();
                            }
                          },
                          .reports_progress = true})
                    .ok());
    ServerOptions o;
    o.socket_path = dir_.path() + "/s.sock";
    o.worker_threads = 2;
    server_ = std::make_unique<Server>(o, &dispatcher_);
    Status s = server_->Listen();
    ASSERT_TRUE(s.ok()) << s.ToString();
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      thread_.join();
    }
    server_.reset();
    pools_.reset();
  }
  std::string Socket() const { return dir_.path() + "/s.sock"; }

  // create-pool of a file holding at least kBlocks blocks, progress recorded.
  void CreateBigPool(Client& c) {
    std::vector<Step> steps;
    auto r = c.Call("create-pool",
                    {{"name", "big"},
                     {"path", scratch_.path() + "/big.pool"},
                     {"size", (kBlocks + 8) * kBlockSize},
                     {"block_size", kBlockSize},
                     {"memmap", "mem"}},
                    [&](const ProgressStep& s) { steps.push_back({std::string(s.stage), s.done, s.total, std::string(s.unit)}); });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_GE((*r)["blocks_total"].get<uint64_t>(), kBlocks);
    ASSERT_GE(steps.size(), 3u);
    EXPECT_EQ(steps[0].stage, "memmap");
    EXPECT_EQ(steps[0].unit, "pages");
    EXPECT_EQ(steps[1].stage, "memmap");
    EXPECT_EQ(steps[1].done, steps[1].total);
    std::vector<Step> render(steps.begin() + 2, steps.end());
    ExpectStages(render, {"render"}, "blocks");
  }

  pmemd::testing::TempDir dir_{"pmemd-progress"};
  pmemd::testing::TempDir scratch_{"pmemd-progress-pool", pmemd::testing::ScratchRoot()};
  std::unique_ptr<PoolManager> pools_;
  Registry registry_;
  Dispatcher dispatcher_{&registry_, AccessPolicy()};
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool chatter_done_ = false;
  bool endless_released_ = false;
};

TEST_F(ServerProgressTest, TenThousandBlocksOnlineAndOfflineReportInOrderAndCompleteBeforeTheAnswer) {
  auto client = Client::Connect(Socket(), 600000);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Client& c = *client;
  ASSERT_NO_FATAL_FAILURE(CreateBigPool(c));
  const std::string range = "0-" + std::to_string(kBlocks - 1);

  // Online through the client: its progress callback sees every step
  // before Call returns the answer.
  std::vector<Step> steps;
  auto on = c.Call("online-blocks", {{"pool", "big"}, {"blocks", range}}, [&](const ProgressStep& s) {
    steps.push_back({std::string(s.stage), s.done, s.total, std::string(s.unit)});
  });
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  ExpectStages(steps, {"online"}, "blocks");
  EXPECT_EQ(steps.front().done, 0u);
  EXPECT_EQ(steps.back().total, kBlocks);
  EXPECT_LE(steps.size(), 102u) << "about one notification per 1% (ProgressLimiter)";
  ASSERT_EQ((*on)["blocks"].size(), kBlocks);
  for (const auto& b : (*on)["blocks"]) ASSERT_EQ(b["to"], "online") << b.dump();
  EXPECT_EQ((*on)["rolled_back"], false);

  // Offline over a raw connection: the notifications, then the answer,
  // then nothing more for that request: the next line is the next answer.
  RawConnection raw(Socket());
  ASSERT_TRUE(raw.connected());
  raw.Send(Request("off", "offline-blocks", {{"pool", "big"}, {"blocks", range}, {"progress", true}}));
  auto [notes, answer] = raw.UntilAnswer("off");
  ASSERT_TRUE(answer.contains("result")) << answer.dump();
  ASSERT_EQ(answer["result"]["blocks"].size(), kBlocks);
  for (const auto& b : answer["result"]["blocks"]) ASSERT_EQ(b["to"], "offline") << b.dump();
  steps.clear();
  for (const auto& n : notes) steps.push_back({n["stage"], n["done"], n["total"], n["unit"]});
  ExpectStages(steps, {"isolate", "offline"}, "blocks");
  EXPECT_EQ(steps.back().total, kBlocks);
  raw.Send(Request(2, "list-pools", {{"pool", "big"}}));
  json next = raw.Next();
  ASSERT_EQ(next["id"], 2) << "a line came after offline-blocks' answer: " << next.dump();
  EXPECT_EQ(next["result"]["pools"][0]["blocks_online"], 0);

  // Without "progress" the answer is the only line.
  raw.Send(Request(3, "online-blocks", {{"pool", "big"}, {"blocks", "0-9"}}));
  EXPECT_EQ(raw.Next()["id"], 3);
}

TEST_F(ServerProgressTest, APeerThatDoesNotReadNeverHoldsUpTheWorkerAndStillGetsTheLastStepThenTheAnswer) {
  // Far more notification bytes than the socket holds.
  constexpr uint64_t kStages = 20000;
  RawConnection raw(Socket());
  ASSERT_TRUE(raw.connected());
  raw.Send(Request(7, "chatter", {{"stages", kStages}, {"progress", true}}));
  {
    // Nothing is read until the handler has reported every step.
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return chatter_done_; });
  }
  auto [notes, answer] = raw.UntilAnswer(7);
  EXPECT_EQ(answer["result"], "done") << answer.dump();
  ASSERT_FALSE(notes.empty());
  EXPECT_LT(notes.size(), kStages) << "the bounded queue dropped the oldest while the peer did not read";
  EXPECT_EQ(notes.back()["stage"], "s" + std::to_string(kStages - 1)) << "the last step is never dropped";
  for (size_t i = 1; i < notes.size(); ++i)
    ASSERT_LT(std::stoul(notes[i - 1]["stage"].get<std::string>().substr(1)),
              std::stoul(notes[i]["stage"].get<std::string>().substr(1)))
        << "in order";
}

TEST_F(ServerProgressTest, NotificationsDoNotStretchTheClientsTimeout) {
  // Were each notification to restart the receive timeout, this call would
  // never return: the method reports until it is let go, after the call.
  auto client = Client::Connect(Socket(), 300);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto r = client->Call("endless", json::object(), [](const ProgressStep&) {});
  {
    std::lock_guard lock(mu_);
    endless_released_ = true;
  }
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("did not answer in time"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace pmemd
