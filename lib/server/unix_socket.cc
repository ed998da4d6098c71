#include "server/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "pmemd/fs.h"
#include "pmemd/log.h"

namespace pmemd::server_internal {

PeerCred ReadPeerCred(int fd) {
  PeerCred p;
  struct ucred uc{};
  socklen_t len = sizeof uc;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0) {
    p.known = true;
    p.pid = uc.pid;
    p.uid = uc.uid;
    p.gid = uc.gid;
  }
  return p;
}

Status ClearStaleSocket(const std::string& path, const std::string& option) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::FromErrno(errno, "stat " + path);
  }
  if (!S_ISSOCK(st.st_mode))
    return Status::FailedPrecondition(path + " exists and is not a socket; remove it or choose another " + option);
  // A socket file: is a process answering on it?
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::FromErrno(errno, "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    PeerCred peer = ReadPeerCred(fd.get());
    return Status::AlreadyExists("another process" + (peer.known ? " (pid " + std::to_string(peer.pid) + ")" : std::string()) +
                                 " is already serving " + path + "; stop it first, or choose another " + option);
  }
  if (errno != ECONNREFUSED) return Status::FromErrno(errno, "probe existing socket " + path);
  if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, "remove stale socket " + path);
  GetLogger("server")->info("removed stale socket {} left by an earlier run", path);
  return Status::Ok();
}

ino_t SocketInode(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

void RemoveOwnSocket(const std::string& path, ino_t ino) {
  if (ino == 0) return;
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && st.st_ino == ino) ::unlink(path.c_str());
}

}  // namespace pmemd::server_internal
