// File-system helpers: an owning file descriptor and crash-safe replacement.
//
// Thread safety: free functions are safe to call concurrently on different
// paths; UniqueFd is a value type with no sharing.
#pragma once

#include <string>
#include <string_view>

#include "pmemd/status.h"

namespace pmemd {

// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Reads a whole (small) file.
Result<std::string> ReadFile(const std::string& path);

// Replaces `path` with `contents` so that a crash at any instruction leaves
// either the old file or the new one, never a mix: write a temporary file in
// the same directory, fsync it, rename it over `path`, fsync the directory.
Status WriteFileAtomic(const std::string& path, std::string_view contents, int mode = 0644);

// mkdir -p with the given mode for directories it creates.
Status MakeDirs(const std::string& path, int mode = 0755);

// Reads a sysfs attribute, trailing newline removed.
Result<std::string> ReadSysfs(const std::string& path);
Status WriteSysfs(const std::string& path, std::string_view value);

}  // namespace pmemd
