#include "pmemd/fs.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace pmemd {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "open " + path);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

namespace {

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "write " + what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "open directory " + dir);
  if (::fsync(fd.get()) != 0) return Status::FromErrno(errno, "fsync directory " + dir);
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view contents, int mode) {
  std::filesystem::path p(path);
  std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  UniqueFd fd;
  std::string tmp;
  for (int attempt = 0; !fd.valid(); ++attempt) {
    uint64_t nonce = 0;
    if (::getrandom(&nonce, sizeof nonce, 0) != sizeof nonce) return Status::FromErrno(errno, "getrandom");
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(nonce));
    tmp = dir + "/." + p.filename().string() + ".tmp." + suffix;
    fd = UniqueFd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd.valid() && (errno != EEXIST || attempt == 8)) return Status::FromErrno(errno, "create " + tmp);
  }
  Status s = WriteAll(fd.get(), contents, tmp);
  if (s.ok() && ::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) s = Status::FromErrno(errno, "chmod " + tmp);
  if (s.ok() && ::fsync(fd.get()) != 0) s = Status::FromErrno(errno, "fsync " + tmp);
  fd.reset();
  // rename replaces a symlink at `path` rather than following it.
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    s = Status::FromErrno(errno, "rename " + tmp + " to " + path);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(dir);
}

Status MakeDirs(const std::string& path, int mode) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST)
      return Status::FromErrno(errno, "mkdir " + cur);
  }
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + path);
  if (!S_ISDIR(st.st_mode)) return Status::FailedPrecondition(path + " exists and is not a directory");
  return Status::Ok();
}

Status CheckPrivateDir(const std::string& path) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + path);
  if (!S_ISDIR(st.st_mode))
    return Status::FailedPrecondition(path + " is not a directory (a symlink or a file); pmemd keeps its state "
                                      "only in a real directory of its own: remove it, or choose another state_dir");
  if (st.st_uid != ::geteuid())
    return Status::FailedPrecondition(path + " is owned by uid " + std::to_string(st.st_uid) + ", not by pmemd (uid " +
                                      std::to_string(::geteuid()) + "); run: chown " + std::to_string(::geteuid()) +
                                      " " + path);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return Status::FailedPrecondition(path + " (mode " + mode +
                                      ") is writable by other users, who could plant files pmemd would trust; "
                                      "run: chmod go-w " + path);
  }
  return Status::Ok();
}

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

Result<std::string> ReadSysfs(const std::string& path) {
  PMEMD_ASSIGN_OR_RETURN(std::string s, ReadFile(path));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status WriteSysfs(const std::string& path, std::string_view value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "open " + path);
  // sysfs takes the value in one write; a short write is an error there.
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return Status::FromErrno(errno, "write '" + std::string(value) + "' to " + path);
  if (static_cast<size_t>(n) != value.size())
    return Status::IoError("short write of '" + std::string(value) + "' to " + path);
  return Status::Ok();
}

}  // namespace pmemd
