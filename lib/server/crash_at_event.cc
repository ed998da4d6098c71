#include "crash_at_event.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include "pmemd/log.h"

namespace pmemd {

Result<std::optional<EventBus::Subscription>> CrashAtEventFromEnvironment(EventBus* bus) {
  const char* v = std::getenv(kCrashAtEventEnv);
  if (v == nullptr) return std::optional<EventBus::Subscription>();
  const std::string spec(v);
  const auto a = spec.find(':'), b = spec.rfind(':');
  char* end = nullptr;
  const unsigned long long n = (a != std::string::npos && b > a) ? std::strtoull(spec.c_str() + b + 1, &end, 10) : 0;
  if (n == 0 || end == nullptr || *end != '\0' || a == 0 || b == a + 1)
    return Status::InvalidArgument(std::string(kCrashAtEventEnv) + "='" + spec +
                                   "' is not KIND:TO:N (e.g. memory_block:going-offline:3)");
  const std::string kind = spec.substr(0, a), to = spec.substr(a + 1, b - a - 1);
  GetLogger("pmemd")->warn("{}={}: this process kills itself at event {} of {} entering {} (crash testing)",
                           kCrashAtEventEnv, spec, n, kind, to);
  auto seen = std::make_shared<std::atomic<uint64_t>>(0);
  return std::optional<EventBus::Subscription>(bus->Subscribe([kind, to, n, seen](const Event& e) {
    if (e.kind == kind && e.to == to && seen->fetch_add(1) + 1 == n) ::kill(::getpid(), SIGKILL);
  }));
}

}  // namespace pmemd
