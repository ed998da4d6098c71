#include "crash_hook.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "pmemd/log.h"

namespace pmemd {

namespace {

class CrashAtPersist : public PoolHooks {
 public:
  explicit CrashAtPersist(uint64_t at) : at_(at) {}
  bool CrashAfterPersist(std::string_view, uint64_t) override {
    if (steps_.fetch_add(1) + 1 == at_) ::kill(::getpid(), SIGKILL);
    return false;
  }

 private:
  const uint64_t at_;
  std::atomic<uint64_t> steps_{0};
};

}  // namespace

Result<PoolHooks*> CrashHookFromEnvironment() {
  const char* v = std::getenv(kCrashAtPersistEnv);
  if (v == nullptr) return static_cast<PoolHooks*>(nullptr);
  char* end = nullptr;
  errno = 0;
  unsigned long long at = std::strtoull(v, &end, 10);
  if (*v == '\0' || *end != '\0' || errno != 0 || at == 0)
    return Status::InvalidArgument(std::string(kCrashAtPersistEnv) + "='" + v +
                                   "' is not a positive integer (the persist step to crash after)");
  GetLogger("pool")->warn("{}={}: this process kills itself after pool persist step {} (crash testing)",
                          kCrashAtPersistEnv, at, at);
  static CrashAtPersist hook(at);
  return static_cast<PoolHooks*>(&hook);
}

}  // namespace pmemd
