// File-system helpers: an owning file descriptor and crash-safe replacement.
//
// Thread safety: free functions are safe to call concurrently on different
// paths; UniqueFd is a value type with no sharing.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

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
// The temporary file has an unpredictable name and is created with
// O_EXCL|O_NOFOLLOW, so nothing planted in the directory is written through.
Status WriteFileAtomic(const std::string& path, std::string_view contents, int mode = 0644);

// mkdir -p with the given mode for directories it creates.
Status MakeDirs(const std::string& path, int mode = 0755);

// A directory that holds pmemd's state must be pmemd's alone: owned by the
// effective uid, a directory (not a symlink), and not writable by group or
// others. kFailedPrecondition with the command that fixes it otherwise.
Status CheckPrivateDir(const std::string& path);

// Whose rights an open is done with.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
};

// The groups `who` has when it logs in: its primary gid and those the user
// database lists for its name (only the primary one when the uid has no
// name).
std::vector<gid_t> GroupsOf(const Credentials& who);

// open(path, flags, mode) with the file-system rights of `who` (its uid,
// its primary gid and the supplementary groups the user database gives it):
// a child process takes those credentials, opens, and passes the descriptor
// back. So a root daemon acting for a user never opens what that user could
// not. O_CLOEXEC is always added. `who` being pmemd's own credentials is a
// plain open; a pmemd that is not root cannot take another user's rights
// (kPermissionDenied).
Result<UniqueFd> OpenAs(const Credentials& who, const std::string& path, int flags, mode_t mode = 0600);

// Reads a sysfs attribute, trailing newline removed.
Result<std::string> ReadSysfs(const std::string& path);
Status WriteSysfs(const std::string& path, std::string_view value);

}  // namespace pmemd
