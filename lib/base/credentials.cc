// Opening files with the rights of another user (pmemd as root serving a
// client's pool file). Apart from fs.cc so that a program that never does
// this (pmemctl, linked statically) does not pull in glibc's NSS lookups.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "pmemd/fs.h"

namespace pmemd {

std::vector<gid_t> GroupsOf(const Credentials& who) {
  std::vector<gid_t> groups{who.gid};
  struct passwd pw{}, *res = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(who.uid, &pw, buf.data(), buf.size(), &res) != 0 || res == nullptr) return groups;
  int n = 64;
  std::vector<gid_t> list(static_cast<size_t>(n));
  if (getgrouplist(pw.pw_name, who.gid, list.data(), &n) < 0) {
    list.resize(static_cast<size_t>(n));
    if (getgrouplist(pw.pw_name, who.gid, list.data(), &n) < 0) return groups;
  }
  list.resize(static_cast<size_t>(n));
  return list;
}

namespace {

// The child's half of OpenAs: only async-signal-safe calls (the parent may
// have other threads), raw syscalls so that only this process changes.
[[noreturn]] void OpenAsChild(int sock, const Credentials& who, const std::vector<gid_t>& groups, const char* path,
                              int flags, mode_t mode) {
  int err = 0, fd = -1;
  if (syscall(SYS_setgroups, groups.size(), groups.data()) != 0 ||
      syscall(SYS_setresgid, who.gid, who.gid, who.gid) != 0 ||
      syscall(SYS_setresuid, who.uid, who.uid, who.uid) != 0) {
    err = errno;
  } else if ((fd = ::open(path, flags, mode)) < 0) {
    err = errno;
  }
  struct iovec iov{&err, sizeof err};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  _exit(::sendmsg(sock, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof err) ? 0 : 1);
}

}  // namespace

Result<UniqueFd> OpenAs(const Credentials& who, const std::string& path, int flags, mode_t mode) {
  if (path.find('\0') != std::string::npos) return Status::InvalidArgument("a path cannot hold a NUL byte");
  if (who.uid == ::geteuid() && who.gid == ::getegid()) {
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
    if (!fd.valid()) return Status::FromErrno(errno, "open " + path);
    return fd;
  }
  if (::geteuid() != 0)
    return Status::PermissionDenied("pmemd runs as uid " + std::to_string(::geteuid()) +
                                    " and cannot open files with the rights of uid " + std::to_string(who.uid) +
                                    "; run pmemd as root to serve other users' pool files");
  const std::vector<gid_t> groups = GroupsOf(who);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return Status::FromErrno(errno, "socketpair");
  UniqueFd mine(sv[0]), theirs(sv[1]);
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno(errno, "fork to open " + path + " as uid " + std::to_string(who.uid));
  if (pid == 0) OpenAsChild(theirs.get(), who, groups, path.c_str(), flags | O_CLOEXEC, mode);
  theirs.reset();
  int err = 0;
  struct iovec iov{&err, sizeof err};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(mine.get(), &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  int recv_errno = errno;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  UniqueFd fd;
  if (n == static_cast<ssize_t>(sizeof err))
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int received = -1;
        std::memcpy(&received, CMSG_DATA(c), sizeof received);
        fd.reset(received);
      }
  const std::string as = " as uid " + std::to_string(who.uid) + " gid " + std::to_string(who.gid);
  if (n != static_cast<ssize_t>(sizeof err))
    return Status::IoError("open " + path + as + ": the helper process failed (" +
                           (n < 0 ? std::string(std::strerror(recv_errno)) : "no answer") + ")");
  if (err != 0) return Status::FromErrno(err, "open " + path + as);
  if (!fd.valid()) return Status::IoError("open " + path + as + ": no descriptor came back");
  return fd;
}

}  // namespace pmemd
