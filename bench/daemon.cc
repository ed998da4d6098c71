#include "daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "pmemd/client.h"
#include "pmemd/fs.h"

namespace pmemd::bench {

SpawnedDaemon::~SpawnedDaemon() {
  if (pid > 0) {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
  if (!dir.empty()) std::filesystem::remove_all(dir);
}

Status SpawnDaemon(const std::string& bin, const std::string& tag, const std::string& config_json,
                   SpawnedDaemon* d) {
  std::string tmpl = "/tmp/pmemd-" + tag + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return Status::FromErrno(errno, "mkdtemp " + tmpl);
  d->dir = tmpl;
  ::chmod(tmpl.c_str(), 0755);
  d->socket = d->dir + "/pmemd.sock";
  d->log = d->dir + "/pmemd.log";
  const std::string config = d->dir + "/pmemd.json";
  PMEMD_RETURN_IF_ERROR(WriteFileAtomic(config, config_json));
  const std::string state = d->dir + "/state";
  d->pid = ::fork();
  if (d->pid < 0) return Status::FromErrno(errno, "fork for " + bin);
  if (d->pid == 0) {
    int fd = ::open(d->log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::execl(bin.c_str(), bin.c_str(), "--config", config.c_str(), "--socket", d->socket.c_str(), "--state-dir",
            state.c_str(), "--platform", "emulated", nullptr);
    ::_exit(127);
  }
  for (int i = 0; i < 3000; ++i) {
    if (Client::Connect(d->socket, 1000).ok()) return Status::Ok();
    if (::waitpid(d->pid, nullptr, WNOHANG) == d->pid) {
      d->pid = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::Unavailable(bin + " did not start serving " + d->socket + "; see " + d->log);
}

pid_t PeerPid(const std::string& socket) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  struct ucred uc{};
  socklen_t len = sizeof uc;
  return ::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 ? uc.pid : -1;
}

std::uint64_t ProcStatusKb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(field)) return std::strtoull(line.c_str() + std::strlen(field) + 1, nullptr, 10);
  return 0;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(static_cast<double>(v.size()) * p))];
}

}  // namespace pmemd::bench
