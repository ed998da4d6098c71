// TempDir: a fresh directory (mkdtemp) for one test, removed with all it
// holds when the TempDir is destroyed. Shared by the unit tests beside the
// code and the integration tests (CMake target pmemd_test_support).
//
//   TempDir dir("pmemd-owner");           // /tmp/pmemd-owner-XXXXXX
//   TempDir scratch("pmemd-pool", ScratchRoot());
//
// A directory that cannot be made throws std::system_error, which GoogleTest
// reports as the test's failure (a fixture member fails the test before its
// body runs).
#pragma once

#include <string>

namespace pmemd::testing {

// /dev/shm when it is writable, else /tmp: for files the code persists with
// msync or fsync, which is a disk flush on ext4 and nothing on tmpfs.
std::string ScratchRoot();

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "pmemd-test", const std::string& root = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace pmemd::testing
