// LogLimiter: at most one log line per key (a peer uid) per interval, with
// a count of the lines that were held back.
//
// A refusal that is logged at warning costs the attacker one request and
// the daemon one log line; at 26k refusals a second that is 26 MB of log in
// five seconds. Callers ask Admit(key) before logging: it says whether to
// log now and how many events for that key were suppressed since the last
// line, so the line can say "(and 512 more in the last 10 s)".
//
//   static LogLimiter limiter(std::chrono::seconds(10));
//   if (auto n = limiter.Admit(uid)) log->warn("refused ... ({})", SuppressedNote(*n));
//
// Memory: one small entry per key seen in the last interval; entries with
// nothing suppressed are pruned once they expire, so the table stays about
// as large as the number of distinct uids active in one interval.
//
// Thread safety: Admit may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "pmemd/mutex.h"

namespace pmemd {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogLimiter(Clock::duration interval) : interval_(interval) {}
  LogLimiter(const LogLimiter&) = delete;
  LogLimiter& operator=(const LogLimiter&) = delete;

  // nullopt: do not log this event (it is counted). Otherwise log it; the
  // value is the number of events for `key` suppressed since the last
  // logged one (0 for the first).
  std::optional<uint64_t> Admit(uint64_t key) { return Admit(key, Clock::now()); }
  // The same at a given time, for tests.
  std::optional<uint64_t> Admit(uint64_t key, Clock::time_point now) EXCLUDES(mu_);

  Clock::duration interval() const { return interval_; }

 private:
  struct Entry {
    Clock::time_point logged_at;
    uint64_t suppressed = 0;
  };
  void PruneLocked(Clock::time_point now) REQUIRES(mu_);

  const Clock::duration interval_;
  Mutex mu_;
  std::unordered_map<uint64_t, Entry> entries_ GUARDED_BY(mu_);
};

// "" for 0, else " (N more suppressed in the last 10 s)": the tail of a
// rate-limited line.
std::string SuppressedNote(uint64_t suppressed, LogLimiter::Clock::duration interval);

}  // namespace pmemd
