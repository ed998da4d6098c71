// The server end to end in-process: a real socket, real framing, the real
// dispatcher, with test methods. Run under TSan and ASan in CI.
#include "pmemd/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "pmemd/client.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"

namespace pmemd {
namespace {

using nlohmann::json;

int RawConnect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pmemd-srv-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/s.sock";
    ASSERT_TRUE(registry_
                    .Add({"echo", "echo", Access::kRead,
                          [](const json& p, const CallContext&) -> Result<json> { return p; }})
                    .ok());
    ASSERT_TRUE(registry_
                    .Add({"slow", "sleeps then answers", Access::kRead,
                          [this](const json&, const CallContext&) -> Result<json> {
                            slow_started_ = true;
                            std::this_thread::sleep_for(std::chrono::milliseconds(300));
                            return json("done");
                          }})
                    .ok());
    ASSERT_TRUE(registry_
                    .Add({"whoami", "peer", Access::kRead,
                          [](const json&, const CallContext& c) -> Result<json> {
                            return json{{"uid", c.peer.uid}, {"pid", c.peer.pid}};
                          }})
                    .ok());
  }
  void TearDown() override {
    StopServer();
    std::filesystem::remove_all(dir_);
  }

  void StartServer(size_t max_request = 4096, size_t max_conn = 1024) {
    ServerOptions o;
    o.socket_path = path_;
    o.max_request_bytes = max_request;
    o.max_connections = max_conn;
    o.worker_threads = 2;
    server_ = std::make_unique<Server>(o, &dispatcher_);
    Status s = server_->Listen();
    ASSERT_TRUE(s.ok()) << s.ToString();
    thread_ = std::thread([this] { server_->Run(); });
  }
  void StopServer() {
    if (!server_) return;
    server_->Stop();
    thread_.join();
    server_.reset();
  }

  std::string dir_, path_;
  Registry registry_;
  Dispatcher dispatcher_{&registry_, AccessPolicy()};
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::atomic<bool> slow_started_{false};
};

TEST_F(ServerTest, AnswersAndSeesPeerCredentials) {
  StartServer();
  auto c = Client::Connect(path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto r = c->Call("echo", {{"x", 1}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["x"], 1);
  auto who = c->Call("whoami");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ((*who)["uid"], ::getuid());
  EXPECT_EQ((*who)["pid"], ::getpid());
}

TEST_F(ServerTest, SocketIsNotWorldAccessible) {
  StartServer();
  struct stat st{};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrderAndErrorsDoNotCloseTheConnection) {
  StartServer();
  auto c = Client::Connect(path_);
  ASSERT_TRUE(c.ok());
  auto bad = c->RoundTrip("{not json");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ((*ParseJson(*bad))["error"]["code"], -32700);
  auto r = c->Call("echo", {{"still", "open"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Three requests in one write: three answers, in order.
  int fd = RawConnect(path_);
  ASSERT_GE(fd, 0);
  std::string lines;
  for (int i = 0; i < 3; ++i)
    lines += json{{"jsonrpc", "2.0"}, {"method", "echo"}, {"params", {{"i", i}}}, {"id", i}}.dump() + "\n";
  ASSERT_EQ(::write(fd, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  std::string got;
  char buf[4096];
  while (std::count(got.begin(), got.end(), '\n') < 3) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t a = got.find("\"id\":0"), b = got.find("\"id\":1"), d = got.find("\"id\":2");
  EXPECT_TRUE(a < b && b < d) << got;
}

TEST_F(ServerTest, OversizedLineGetsErrorAndServerKeepsServing) {
  StartServer(/*max_request=*/4096);
  auto c = Client::Connect(path_);
  ASSERT_TRUE(c.ok());
  auto r = c->RoundTrip(std::string(10000, 'x'));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  json j = *ParseJson(*r);
  EXPECT_EQ(j["error"]["code"], -32600);
  EXPECT_NE(j["error"]["message"].get<std::string>().find("4096"), std::string::npos);
  auto c2 = Client::Connect(path_);
  ASSERT_TRUE(c2.ok());
  EXPECT_TRUE(c2->Call("echo").ok());
}

TEST_F(ServerTest, HalfLineThenDisconnectHarmsNobody) {
  StartServer();
  for (int i = 0; i < 20; ++i) {
    int fd = RawConnect(path_);
    ASSERT_GE(fd, 0);
    const char half[] = "{\"jsonrpc\":\"2.0\",\"meth";
    ASSERT_GT(::write(fd, half, sizeof half - 1), 0);
    ::close(fd);
  }
  auto c = Client::Connect(path_);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Call("echo").ok());
}

TEST_F(ServerTest, TwoHundredClientsAtOnce) {
  StartServer();
  constexpr int kClients = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      std::vector<Client> clients;
      for (int i = t; i < kClients; i += 8) {
        auto c = Client::Connect(path_);
        if (c.ok()) clients.push_back(std::move(*c));
      }
      for (auto& c : clients) {
        auto r = c.Call("echo", {{"n", 1}});
        if (r.ok() && (*r)["n"] == 1) ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients);
}

TEST_F(ServerTest, ConnectionLimitRefusesWithAnErrorLine) {
  StartServer(4096, /*max_conn=*/2);
  auto a = Client::Connect(path_);
  auto b = Client::Connect(path_);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->Call("echo").ok());
  ASSERT_TRUE(b->Call("echo").ok());
  auto c = Client::Connect(path_);
  ASSERT_TRUE(c.ok());
  auto r = c->Call("echo");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too many connections"), std::string::npos);
}

TEST_F(ServerTest, StopFinishesInFlightRequestAndRemovesSocket) {
  StartServer();
  auto c = Client::Connect(path_);
  ASSERT_TRUE(c.ok());
  Result<json> answer = Status::Internal("not yet");
  std::thread caller([&] { answer = c->Call("slow"); });
  while (!slow_started_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  StopServer();
  caller.join();
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(*answer, "done");
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ServerTest, StaleSocketIsReplaced) {
  // A socket file nobody listens on: what a crashed daemon leaves.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  ASSERT_TRUE(std::filesystem::exists(path_));
  StartServer();
  auto c = Client::Connect(path_);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Call("echo").ok());
}

TEST_F(ServerTest, LiveServerOnPathIsDetected) {
  StartServer();
  ServerOptions o;
  o.socket_path = path_;
  Server second(o, &dispatcher_);
  Status s = second.Listen();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_NE(s.message().find("already serving"), std::string::npos);
  EXPECT_NE(s.message().find("pid " + std::to_string(::getpid())), std::string::npos);
  auto c = Client::Connect(path_);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Call("echo").ok()) << "the first server must be untouched";
}

TEST_F(ServerTest, NonSocketFileIsNotDeleted) {
  ASSERT_TRUE(WriteFileAtomic(path_, "precious").ok());
  ServerOptions o;
  o.socket_path = path_;
  Server s(o, &dispatcher_);
  Status st = s.Listen();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not a socket"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));
}

}  // namespace
}  // namespace pmemd
