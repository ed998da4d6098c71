#include "pmemd/fs.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
