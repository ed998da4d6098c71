// pmemctl's progress bar against the real daemon: drawn on a terminal's
// stderr (a pseudo-terminal here) and erased at the end; nothing when
// stderr is a pipe or with --json.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

#include "support/daemon_fixture.h"

namespace pmemd::testing {
namespace {

using nlohmann::json;

struct TtyRun {
  int exit_code = -1;
  std::string err;  // what pmemctl wrote to its terminal stderr
};

// Runs pmemctl with stderr on a new pseudo-terminal (stdout to /dev/null)
// and returns what the terminal received. The 60 s bound only keeps a hung
// child from hanging the test; no verdict depends on it.
TtyRun RunWithTtyStderr(std::vector<std::string> args) {
  TtyRun r;
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    ADD_FAILURE() << "openpty: " << std::strerror(errno);
    return r;
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(slave, 2);
    ::close(master);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(slave);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO: the child's end is closed
    r.err.append(buf, static_cast<size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(child, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class ProgressCliTest : public DaemonFixture {
 protected:
  void SetUp() override {
    WriteConfig(
        {{"emulated", {{"regions", {{{"size", 1ull << 30}, {"file", scratch_.path() + "/region0.img"}}}}}}});
    Start();
    file_ = scratch_.path() + "/p.pool";
    Ok({"create-pool", "p", "--path", file_, "--size", "140M", "--block-size", "2M", "--memmap", "mem"});
  }
  void TearDown() override { d_.reset(); }  // before scratch_ goes

  std::vector<std::string> Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {PMEMCTL_BIN, "--socket", Socket()});
    return args;
  }

  TempDir scratch_{"pmemd-progress-it", ScratchRoot()};
  std::string file_;
};

TEST_F(ProgressCliTest, OnATerminalTheBarCountsTheBlocksAndIsErasedAtTheEnd) {
  json pool = Ok({"list-pools", "p"})["pools"][0];
  const std::string total = std::to_string(pool["blocks_total"].get<uint64_t>());
  TtyRun r = RunWithTtyStderr(Ctl({"--human", "online-blocks", "p"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.rfind("\r\033[Konline-blocks p  [....................] 0/" + total + " blocks", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("[####################] " + total + "/" + total + " blocks\r\033[K"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.substr(r.err.size() - 4), "\r\033[K") << "the bar is erased last";
  EXPECT_EQ(r.err.find('\n'), std::string::npos) << "the bar never scrolls: " << r.err;
  EXPECT_EQ(Ok({"list-pools", "p"})["pools"][0]["blocks_online"], pool["blocks_total"]);
}

TEST_F(ProgressCliTest, WithJsonOnATerminalThereIsNoBar) {
  TtyRun r = RunWithTtyStderr(Ctl({"--json", "offline-blocks", "p"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_F(ProgressCliTest, IntoAPipeThereIsNoBarAndTheOutputIsAsBefore) {
  RunResult r = d_->Ctl({"--human", "online-blocks", "p", "0-3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("4 of 4 blocks"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pmemd::testing
