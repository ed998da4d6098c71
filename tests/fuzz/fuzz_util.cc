#include "fuzz_util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

#include <spdlog/spdlog.h>

#include "pmemd/log.h"

namespace pmemd::fuzz {

std::string ScratchDir(const char* name) {
  const char* base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string tmpl = std::string(base) + "/pmemd-fuzz-" + name + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp");
  return tmpl;
}

std::vector<std::string> SplitAtNul(const uint8_t* data, size_t size) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0)
      out.emplace_back();
    else
      out.back() += static_cast<char>(data[i]);
  }
  return out;
}

void Quiet() {
  spdlog::set_level(spdlog::level::off);
  ResetLoggers(spdlog::level::off);
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
}

}  // namespace pmemd::fuzz
