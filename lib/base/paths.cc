#include "pmemd/paths.h"

#include <unistd.h>

#include <cstdlib>

namespace pmemd {

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::string DefaultSocketPath() {
  if (::geteuid() == 0) return "/run/pmemd/pmemd.sock";
  std::string runtime = Env("XDG_RUNTIME_DIR");
  if (!runtime.empty()) return runtime + "/pmemd/pmemd.sock";
  return "/tmp/pmemd-" + std::to_string(::geteuid()) + "/pmemd.sock";
}

std::string DefaultStateDir() {
  if (::geteuid() == 0) return "/var/lib/pmemd";
  std::string state = Env("XDG_STATE_HOME");
  if (!state.empty()) return state + "/pmemd";
  std::string home = Env("HOME");
  if (!home.empty()) return home + "/.local/state/pmemd";
  return "/tmp/pmemd-" + std::to_string(::geteuid()) + "/state";
}

}  // namespace pmemd
