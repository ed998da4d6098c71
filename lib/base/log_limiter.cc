#include "pmemd/log_limiter.h"

#include <cstdio>

namespace pmemd {

namespace {
// Above this many keys, expired entries are dropped on the next Admit.
constexpr size_t kPruneAbove = 1024;
}  // namespace

std::optional<uint64_t> LogLimiter::Admit(uint64_t key, Clock::time_point now) {
  MutexLock lock(mu_);
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (inserted || now - e.logged_at >= interval_) {
    uint64_t suppressed = inserted ? 0 : e.suppressed;
    e.logged_at = now;
    e.suppressed = 0;
    if (inserted && entries_.size() > kPruneAbove) PruneLocked(now);
    return suppressed;
  }
  ++e.suppressed;
  return std::nullopt;
}

void LogLimiter::PruneLocked(Clock::time_point now) {
  // Only entries with nothing to report: a suppressed count is never lost.
  std::erase_if(entries_, [&](const auto& kv) {
    return kv.second.suppressed == 0 && now - kv.second.logged_at >= interval_;
  });
}

std::string SuppressedNote(uint64_t suppressed, LogLimiter::Clock::duration interval) {
  if (suppressed == 0) return "";
  auto secs = std::chrono::duration_cast<std::chrono::duration<double>>(interval).count();
  char buf[96];
  std::snprintf(buf, sizeof buf, " (%llu more like it suppressed in the last %g s)",
                static_cast<unsigned long long>(suppressed), secs);
  return buf;
}

}  // namespace pmemd
