#include "support/temp_dir.h"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace pmemd::testing {

std::string ScratchRoot() { return ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"; }

TempDir::TempDir(const std::string& prefix, const std::string& root) {
  std::string tmpl = root + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace pmemd::testing
