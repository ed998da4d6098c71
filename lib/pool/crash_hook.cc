#include "pmemd/crash_hook.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "pmemd/log.h"

namespace pmemd {

namespace {

class CrashAt : public PoolHooks {
 public:
  CrashAt(std::string step, uint64_t at) : step_(std::move(step)), at_(at) {}
  bool CrashAfterPersist(std::string_view step, uint64_t) override {
    Count(step);
    return false;
  }
  void Milestone(std::string_view point) override {
    if (!step_.empty()) Count(point);
  }

 private:
  void Count(std::string_view step) {
    if (!step_.empty() && step != step_) return;
    if (steps_.fetch_add(1) + 1 == at_) ::kill(::getpid(), SIGKILL);
  }

  const std::string step_;  // "" counts every persist step
  const uint64_t at_;
  std::atomic<uint64_t> steps_{0};
};

}  // namespace

Result<PoolHooks*> CrashHookFromEnvironment() {
  const char* v = std::getenv(kCrashAtPersistEnv);
  if (v == nullptr) return static_cast<PoolHooks*>(nullptr);
  const std::string value = v;
  const size_t colon = value.rfind(':');
  const std::string step = colon == std::string::npos ? "" : value.substr(0, colon);
  const std::string n = colon == std::string::npos ? value : value.substr(colon + 1);
  char* end = nullptr;
  errno = 0;
  unsigned long long at = std::strtoull(n.c_str(), &end, 10);
  if (n.empty() || *end != '\0' || errno != 0 || at == 0 || (colon != std::string::npos && step.empty()))
    return Status::InvalidArgument(std::string(kCrashAtPersistEnv) + "='" + value +
                                   "' is neither N nor STEP:N with N a positive integer (the persist step, or the "
                                   "Nth step of that name, to crash after)");
  GetLogger("pool")->warn("{}={}: this process kills itself after pool {} {} (crash testing)", kCrashAtPersistEnv, value,
                          step.empty() ? "persist step" : "step '" + step + "'", at);
  static CrashAt hook(step, at);
  return static_cast<PoolHooks*>(&hook);
}

}  // namespace pmemd
