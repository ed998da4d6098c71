// pmemd and pmemctl as an admin meets them: real binaries, real socket.
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "pmemd/client.h"
#include "pmemd/fs.h"
#include "support/process.h"

namespace pmemd::testing {
namespace {

using nlohmann::json;

class DaemonTest : public ::testing::Test {
 protected:
  std::string Socket() const { return dir_.path() + "/pmemd.sock"; }
  std::string State() const { return dir_.path() + "/state"; }
  std::unique_ptr<DaemonProcess> StartDaemon(std::vector<std::string> extra = {}) {
    auto d = std::make_unique<DaemonProcess>(Socket(), State(), std::move(extra));
    EXPECT_TRUE(d->Start()) << d->Log();
    return d;
  }
  TempDir dir_;
};

TEST_F(DaemonTest, ListShowsTheEmulatedRegionWithIntegerSizes) {
  auto d = StartDaemon();
  RunResult r = d->Ctl({"list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = r.Json();
  ASSERT_TRUE(j.is_object()) << r.out;
  ASSERT_TRUE(j["regions"].is_array());
  ASSERT_EQ(j["regions"].size(), 1u);
  EXPECT_EQ(j["regions"][0]["dev"], "region0");
  EXPECT_EQ(j["regions"][0]["size"], 8ull << 30);
  EXPECT_TRUE(j["regions"][0]["size"].is_number_unsigned());
  EXPECT_EQ(j["regions"][0]["available_size"], 8ull << 30);
  // Arrays are arrays even when empty.
  EXPECT_TRUE(j["namespaces"].is_array());
  EXPECT_TRUE(j["devices"].is_array());
  EXPECT_TRUE(j["memory_blocks"].is_array());
  // The backing file is sparse: an 8 GiB region costs no disk.
  std::string img = State() + "/emulated/region0.img";
  ASSERT_TRUE(std::filesystem::exists(img));
  EXPECT_EQ(std::filesystem::file_size(img), 8ull << 30);
}

TEST_F(DaemonTest, ListFiltersByKindAndRegion) {
  auto d = StartDaemon();
  json j = d->Ctl({"list", "--regions", "--json"}).Json();
  EXPECT_TRUE(j.contains("regions"));
  EXPECT_FALSE(j.contains("namespaces"));
  j = d->Ctl({"list", "-B", "-D", "--json"}).Json();
  EXPECT_EQ(j["buses"][0]["provider"], "pmemd_emulated");
  EXPECT_EQ(j["dimms"][0]["dev"], "nmem0");
  j = d->Ctl({"list", "--region", "0", "--json"}).Json();
  EXPECT_EQ(j["regions"][0]["dev"], "region0");
  RunResult bad = d->Ctl({"list", "--region", "region9"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("region 'region9' does not exist; known regions: region0"), std::string::npos)
      << bad.err;
}

TEST_F(DaemonTest, HumanOutputHasUnits) {
  auto d = StartDaemon();
  RunResult r = d->Ctl({"list", "--human"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("8.00 GiB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Regions (1)"), std::string::npos);
}

TEST_F(DaemonTest, VersionReportsDaemonApiAndPlatform) {
  auto d = StartDaemon();
  RunResult r = d->Ctl({"version", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = r.Json();
  EXPECT_EQ(j["version"], PMEMD_VERSION);
  EXPECT_EQ(j["api_version"], PMEMD_API_VERSION);
  EXPECT_EQ(j["platform"], "emulated");
  RunResult m = d->Ctl({"list-methods", "--json"});
  ASSERT_EQ(m.exit_code, 0);
  json methods = m.Json()["methods"];
  std::vector<std::string> names;
  for (const auto& x : methods) names.push_back(x["name"]);
  EXPECT_NE(std::find(names.begin(), names.end(), "list"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "version"), names.end());
}

TEST_F(DaemonTest, RestartKeepsTheInventory) {
  json before;
  {
    auto d = StartDaemon();
    before = d->Ctl({"list", "-B", "-D", "-R", "-N", "-X", "-M", "--json"}).Json();
    ASSERT_TRUE(before.is_object());
    EXPECT_EQ(d->Signal(SIGTERM), 0);
  }
  auto d = StartDaemon();
  json after = d->Ctl({"list", "-B", "-D", "-R", "-N", "-X", "-M", "--json"}).Json();
  EXPECT_EQ(before, after);
}

TEST_F(DaemonTest, SigtermExitsCleanlyAndRemovesTheSocket) {
  auto d = StartDaemon();
  ASSERT_TRUE(std::filesystem::exists(Socket()));
  EXPECT_EQ(d->Signal(SIGTERM), 0) << d->Log();
  EXPECT_FALSE(std::filesystem::exists(Socket()));
  EXPECT_NE(d->Log().find("SIGTERM: shutting down"), std::string::npos);
  auto d2 = StartDaemon();
  EXPECT_EQ(d2->Signal(SIGINT), 0);
  EXPECT_FALSE(std::filesystem::exists(Socket()));
}

TEST_F(DaemonTest, SecondDaemonOnTheSameSocketIsRefused) {
  auto d = StartDaemon();
  RunResult second = RunProgram({PMEMD_BIN, "--socket", Socket(), "--state-dir", dir_.path() + "/other",
                          "--platform", "emulated"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("already serving " + Socket()), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(d->pid())), std::string::npos) << second.err;
  // The first one is unharmed.
  EXPECT_EQ(d->Ctl({"version"}).exit_code, 0);
}

TEST_F(DaemonTest, SecondDaemonOnTheSameStateDirIsRefused) {
  auto d = StartDaemon();
  RunResult second = RunProgram({PMEMD_BIN, "--socket", dir_.path() + "/other.sock", "--state-dir", State(),
                          "--platform", "emulated"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("is in use by another pmemd"), std::string::npos) << second.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/other.sock"));
}

TEST_F(DaemonTest, StaleSocketFromACrashIsReplaced) {
  {
    auto d = StartDaemon();
    d->Kill();  // SIGKILL: the socket file stays behind
  }
  ASSERT_TRUE(std::filesystem::exists(Socket()));
  auto d = StartDaemon();
  EXPECT_EQ(d->Ctl({"version"}).exit_code, 0);
  EXPECT_NE(d->Log().find("removed stale socket"), std::string::npos);
}

TEST_F(DaemonTest, PmemctlExitCodes) {
  RunResult unreachable = RunProgram({PMEMCTL_BIN, "--socket", dir_.path() + "/none.sock", "list"});
  EXPECT_EQ(unreachable.exit_code, 3);
  EXPECT_NE(unreachable.err.find("cannot connect to " + dir_.path() + "/none.sock: no such file; is pmemd running?"),
            std::string::npos)
      << unreachable.err;
  RunResult usage = RunProgram({PMEMCTL_BIN, "frobnicate"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("unknown command"), std::string::npos);
  RunResult badopt = RunProgram({PMEMCTL_BIN, "list", "--bogus"});
  EXPECT_EQ(badopt.exit_code, 2);
  RunResult help = RunProgram({PMEMCTL_BIN, "create-namespace", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: pmemctl create-namespace --region R"), std::string::npos) << help.out;
  RunResult env = RunProgram({PMEMCTL_BIN, "version"}, 60, {"PMEMD_SOCKET=" + dir_.path() + "/env.sock"});
  EXPECT_EQ(env.exit_code, 3);
  EXPECT_NE(env.err.find("env.sock"), std::string::npos) << "PMEMD_SOCKET must be honoured";
}

// For scripts: with --json every failure is the JSON-RPC error object on
// stdout (data.code is what a program acts on), the English line stays on
// stderr, and the exit code says which kind of failure it was.
TEST_F(DaemonTest, PmemctlJsonErrorsAreTheErrorObjectOnStdoutWithDocumentedExitCodes) {
  auto d = StartDaemon();
  RunResult missing = d->Ctl({"destroy-namespace", "namespace9.9", "--json"});
  EXPECT_EQ(missing.exit_code, 1);
  json e = missing.Json();
  EXPECT_EQ(e["code"], -32002) << missing.out;
  EXPECT_EQ(e["data"]["code"], "not_found") << missing.out;
  EXPECT_TRUE(e["message"].is_string());
  EXPECT_NE(missing.err.find("pmemctl destroy-namespace: "), std::string::npos) << missing.err;

  RunResult usage = d->Ctl({"--json", "create-namespace", "-r0", "-s"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(usage.Json()["data"]["code"], "invalid_argument") << usage.out;
  EXPECT_NE(usage.Json()["message"].get<std::string>().find("'--size' needs a value"), std::string::npos);

  RunResult gone = RunProgram({PMEMCTL_BIN, "--socket", dir_.path() + "/none.sock", "--json", "list"});
  EXPECT_EQ(gone.exit_code, 3);
  EXPECT_EQ(gone.Json()["data"]["code"], "unavailable") << gone.out;
  EXPECT_EQ(gone.Json()["data"]["errno"], ENOENT) << gone.out;

  // ndctl's spellings reach the daemon; several targets are each reported.
  EXPECT_EQ(d->Ctl({"create-namespace", "-r0", "-s1G", "--json"}).exit_code, 0);
  EXPECT_EQ(d->Ctl({"create-namespace", "--region=0", "--size", "1G", "-mdevdax", "--json"}).exit_code, 0);
  RunResult all = d->Ctl({"destroy-namespace", "all", "-fr0", "--human"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.err.find("destroyed 2 namespaces"), std::string::npos) << all.err;
  EXPECT_NE(all.out.find("destroyed namespace0.0"), std::string::npos) << all.out;
  EXPECT_TRUE(d->Ctl({"list", "-N", "--json"}).Json()["namespaces"].empty());

  RunResult help = RunProgram({PMEMCTL_BIN, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* code : {"0  success", "1  the daemon refused", "2  usage error", "3  the daemon could not be reached"})
    EXPECT_NE(help.out.find(code), std::string::npos) << code;
}

TEST_F(DaemonTest, PmemctlVersionShowsClientAndDaemon) {
  auto d = StartDaemon();
  RunResult v = d->Ctl({"--version", "--human"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("pmemctl " PMEMD_VERSION), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("pmemd " PMEMD_VERSION " (API " PMEMD_API_VERSION ") at " + Socket()), std::string::npos)
      << v.out;
  RunResult alone = RunProgram({PMEMCTL_BIN, "--socket", dir_.path() + "/none.sock", "--version", "--human"});
  EXPECT_EQ(alone.exit_code, 0);
  EXPECT_NE(alone.out.find("pmemd: not reachable: cannot connect to " + dir_.path() + "/none.sock"),
            std::string::npos)
      << alone.out;
}

// Without --socket: $PMEMD_SOCKET, then the per-user socket (not for root),
// then /run/pmemd/pmemd.sock; when none answers, the message names each.
TEST_F(DaemonTest, PmemctlTriesEachSocketInTurnAndNamesThem) {
  const std::string runtime = dir_.path() + "/runtime";
  std::filesystem::create_directories(runtime + "/pmemd");
  auto d = std::make_unique<DaemonProcess>(runtime + "/pmemd/pmemd.sock", State());
  ASSERT_TRUE(d->Start()) << d->Log();
  std::vector<std::string> env = {"PMEMD_SOCKET=" + dir_.path() + "/env.sock", "XDG_RUNTIME_DIR=" + runtime};
  RunResult r = RunProgram({PMEMCTL_BIN, "version", "--json"}, 60, env);
  if (::geteuid() != 0) {
    EXPECT_EQ(r.exit_code, 0) << r.err;  // the per-user socket answered
    return;
  }
  if (std::filesystem::exists("/run/pmemd/pmemd.sock")) GTEST_SKIP() << "a system pmemd is running";
  // Root has no per-user socket: $PMEMD_SOCKET, then the system one.
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("tried " + dir_.path() + "/env.sock ($PMEMD_SOCKET: no such file), /run/pmemd/pmemd.sock "
                       "(system: no such file)"),
            std::string::npos)
      << r.err;
  // A non-root user (nobody, in the socket's group) falls through to its
  // per-user socket.
  if (!std::filesystem::exists("/usr/bin/setpriv")) GTEST_SKIP() << "setpriv (util-linux) is needed as root";
  for (const auto& p : {dir_.path(), runtime, runtime + "/pmemd"})
    std::filesystem::permissions(p, std::filesystem::perms(0755));
  const std::string ctl = dir_.path() + "/pmemctl";
  std::filesystem::copy_file(PMEMCTL_BIN, ctl);
  std::filesystem::permissions(ctl, std::filesystem::perms(0755));
  RunResult nobody = RunProgram({"/usr/bin/setpriv", "--reuid=65534", "--regid=" + std::to_string(::getgid()),
                                 "--clear-groups", ctl, "version", "--json"},
                                60, env);
  EXPECT_EQ(nobody.exit_code, 0) << nobody.err;
  EXPECT_EQ(nobody.Json()["socket"], runtime + "/pmemd/pmemd.sock") << nobody.out;
}

TEST_F(DaemonTest, BadConfigIsRefusedNamingTheKey) {
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/c.json", R"({"emulated":{"regions":[{"size":"8G"}]}})").ok());
  RunResult r = RunProgram({PMEMD_BIN, "--config", dir_.path() + "/c.json", "--socket", Socket(), "--state-dir", State()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("config.emulated.regions[0].size: expected an unsigned integer, got string \"8G\""),
            std::string::npos)
      << r.err;
  RunResult flag = RunProgram({PMEMD_BIN, "--platform", "pmdk", "--socket", Socket(), "--state-dir", State()});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_NE(flag.err.find("use auto, emulated or ndctl"), std::string::npos);
}

TEST_F(DaemonTest, UnderSystemdLogLinesCarryPriorityAndNoTimestamp) {
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/not-a-dir", "x").ok());
  RunResult r = RunProgram({PMEMD_BIN, "--socket", Socket(), "--state-dir", dir_.path() + "/not-a-dir"}, 30,
                           {"JOURNAL_STREAM=8:1234"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.starts_with("<2>pmemd: cannot start: ")) << r.err;
  EXPECT_NE(r.err.find("not-a-dir exists and is not a directory"), std::string::npos) << r.err;
}

TEST_F(DaemonTest, SighupReloadsTheLogLevel) {
  std::string cfg = dir_.path() + "/c.json";
  ASSERT_TRUE(WriteFileAtomic(cfg, R"({"log_level":"info"})").ok());
  auto d = StartDaemon({"--config", cfg});
  ASSERT_TRUE(WriteFileAtomic(cfg, R"({"log_level":"debug"})").ok());
  ::kill(d->pid(), SIGHUP);
  for (int i = 0; i < 200 && d->Log().find("log level is now debug") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_NE(d->Log().find("log level is now debug"), std::string::npos) << d->Log();
  EXPECT_EQ(d->Ctl({"version"}).exit_code, 0) << "SIGHUP must not stop the daemon";
}

// Issue 9, defect 7: a state directory others can write was accepted.
TEST_F(DaemonTest, AStateDirOthersCanWriteIsRefusedWithTheFix) {
  ASSERT_TRUE(MakeDirs(State(), 0700).ok());
  ASSERT_EQ(::chmod(State().c_str(), 0777), 0);
  DaemonProcess d(Socket(), State());
  EXPECT_FALSE(d.Start(10));
  EXPECT_NE(d.Log().find("chmod go-w " + State()), std::string::npos) << d.Log();
  ASSERT_EQ(::chmod(State().c_str(), 0700), 0);
  EXPECT_TRUE(d.Start()) << d.Log();
}

// The documented batch limit, at its edge, over the socket (issue 16).
TEST_F(DaemonTest, ABatchOfExactly256IsAnsweredAnd257IsRefused) {
  auto d = StartDaemon();
  auto c = Client::Connect(Socket());
  ASSERT_TRUE(c.ok());
  for (int n : {256, 257}) {
    json batch = json::array();
    for (int i = 0; i < n; ++i) batch.push_back({{"jsonrpc", "2.0"}, {"method", "version"}, {"id", i}});
    auto r = c->RoundTrip(batch.dump());
    ASSERT_TRUE(r.ok()) << n;
    json j = json::parse(*r);
    if (n == 256) {
      ASSERT_TRUE(j.is_array()) << r->substr(0, 200);
      ASSERT_EQ(j.size(), 256u);
      for (int i = 0; i < n; ++i) EXPECT_EQ(j[i]["id"], i);
      EXPECT_TRUE(j[255].contains("result"));
    } else {
      EXPECT_EQ(j["error"]["code"], -32600);
      EXPECT_NE(j["error"]["message"].get<std::string>().find("limit of 256"), std::string::npos);
    }
  }
}

TEST_F(DaemonTest, BadRequestsOverTheSocketGetJsonRpcErrors) {
  auto d = StartDaemon();
  auto c = Client::Connect(Socket());
  ASSERT_TRUE(c.ok());
  struct Case {
    std::string line;
    int code;
  } cases[] = {
      {"{\"jsonrpc\":\"2.0\",", -32700},
      {"[1,2]", -32600},
      {"{\"jsonrpc\":\"2.0\",\"id\":1}", -32600},
      {"{\"method\":\"list\",\"id\":1}", -32600},
      {"{\"jsonrpc\":\"2.0\",\"method\":\"lsit\",\"id\":1}", -32601},
      {"{\"jsonrpc\":\"2.0\",\"method\":\"list\",\"params\":{\"regions\":\"yes\"},\"id\":1}", -32602},
      {"{\"jsonrpc\":\"2.0\",\"method\":\"list\",\"params\":{\"colour\":1},\"id\":1}", -32602},
      // Issue 9, defects 1 and 2: one invalid byte, and a wrong-typed string
      // of multibyte characters, each aborted the daemon.
      {"\"\xff\"", -32700},
      {"{\"jsonrpc\":\"2.0\",\"method\":\"list\",\"params\":{\"buses\":\"a" + [] {
         std::string e;
         for (int i = 0; i < 30; ++i) e += "\xc3\xa9";
         return e;
       }() + "\"},\"id\":1}",
       -32602},
  };
  for (const auto& k : cases) {
    auto r = c->RoundTrip(k.line);
    ASSERT_TRUE(r.ok()) << k.line;
    json j = json::parse(*r);
    if (j.is_array()) j = j[0];
    EXPECT_EQ(j["error"]["code"], k.code) << k.line << " -> " << *r;
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  }
  // Over the 1 MiB limit.
  auto big = c->RoundTrip(std::string(1100000, ' ') + "{}");
  ASSERT_TRUE(big.ok());
  EXPECT_NE(big->find("exceeds the limit of 1048576 bytes"), std::string::npos);
  EXPECT_EQ(d->Ctl({"version"}).exit_code, 0) << "the daemon keeps serving";
}

// The daemon's soft limit on open files, from /proc/PID/limits.
std::string MaxOpenFiles(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("Max open files")) return line;
  return "";
}

TEST_F(DaemonTest, LoadBoundsFromTheConfigFileAreEnforced) {
  std::string cfg = dir_.path() + "/c.json";
  ASSERT_TRUE(WriteFileAtomic(cfg, R"({"request_timeout_ms":200,"max_reply_bytes":65536})").ok());
  auto d = StartDaemon({"--config", cfg});
  // A partial line is answered with an error naming the key, then closed.
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", Socket().c_str());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_GT(::write(fd, "{\"jsonrpc\"", 11), 0);
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool eof = false;
  while (!eof && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) eof = true; else got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_TRUE(eof) << "the daemon must close a connection that holds a partial line";
  EXPECT_NE(got.find("request_timeout_ms"), std::string::npos) << got;
  // A batch whose reply would pass max_reply_bytes: the answers past it are
  // resource_exhausted errors, and the reply stays near the bound.
  auto c = Client::Connect(Socket());
  ASSERT_TRUE(c.ok());
  json batch = json::array();
  for (int i = 0; i < 256; ++i) batch.push_back({{"jsonrpc", "2.0"}, {"method", "list-methods"}, {"id", i}});
  auto r = c->RoundTrip(batch.dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->size(), 65536u + 256 * 400);
  json j = json::parse(*r);
  ASSERT_EQ(j.size(), 256u);
  EXPECT_TRUE(j[0].contains("result"));
  EXPECT_EQ(j[255]["error"]["data"]["code"], "resource_exhausted") << j[255];
  // The open-file limit is raised to the hard one for max_connections.
  std::string limits = MaxOpenFiles(d->pid());
  struct rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  EXPECT_NE(limits.find(rl.rlim_max == RLIM_INFINITY ? "unlimited" : std::to_string(rl.rlim_max)), std::string::npos)
      << limits;
}

}  // namespace
}  // namespace pmemd::testing
