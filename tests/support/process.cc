#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "pmemd/client.h"
#include "pmemd/fs.h"

namespace pmemd::testing {

using Clock = std::chrono::steady_clock;

nlohmann::json RunResult::Json() const { return nlohmann::json::parse(out, nullptr, false); }

namespace {

std::vector<char*> Argv(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// waitpid with a deadline; kills the child when it passes.
int WaitExit(pid_t pid, int timeout_s) {
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -SIGKILL;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -WTERMSIG(status);
}

}  // namespace

RunResult RunProgram(const std::vector<std::string>& argv, int timeout_s, const std::vector<std::string>& env) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    auto args = Argv(argv);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  RunResult r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  while (open_fds > 0 && Clock::now() < deadline) {
    if (::poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[65536];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  r.exit_code = WaitExit(pid, 1 + static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(
                                      deadline - Clock::now()).count()));
  return r;
}

DaemonProcess::DaemonProcess(std::string socket, std::string state_dir, std::vector<std::string> extra)
    : socket_(std::move(socket)), state_dir_(std::move(state_dir)), extra_(std::move(extra)) {
  log_path_ = state_dir_ + ".log";
}

DaemonProcess::~DaemonProcess() {
  if (running()) Kill();
}

bool DaemonProcess::Start(int timeout_s) {
  std::vector<std::string> argv = {PMEMD_BIN, "--socket", socket_, "--state-dir", state_dir_,
                                   "--platform", "emulated"};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::unsetenv("JOURNAL_STREAM");
    for (const auto& e : env_) ::putenv(const_cast<char*>(e.c_str()));
    auto args = Argv(argv);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  while (Clock::now() < deadline) {
    if (!running()) return false;
    auto c = Client::Connect(socket_, 2000);
    if (c.ok() && c->Call("version").ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool DaemonProcess::running() const {
  if (pid_ <= 0) return false;
  // Peek without reaping, so Signal() can still collect the exit status.
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
  return info.si_pid == 0;
}

int DaemonProcess::Signal(int sig, int timeout_s) {
  ::kill(pid_, sig);
  int rc = WaitExit(pid_, timeout_s);
  pid_ = -1;
  return rc;
}

void DaemonProcess::Kill() { Signal(SIGKILL, 10); }

std::string DaemonProcess::Log() const {
  auto r = ReadFile(log_path_);
  return r.ok() ? *r : "";
}

RunResult DaemonProcess::Ctl(std::vector<std::string> args) const {
  args.insert(args.begin(), {PMEMCTL_BIN, "--socket", socket_});
  return RunProgram(args);
}

}  // namespace pmemd::testing
