// DIMM health and bad blocks, watched (issue 13 item 2; docs/health.md).
//
// The rules are pure functions, unit-tested on their own: which alarms a
// reading trips, and what changed between two readings (the event to
// publish, the lines to log). The HealthMonitor applies them: it reads the
// platform's DIMM health (Platform::ReadDimmHealth) and bad blocks (List
// after Refresh) once at start, then on every notification the platform
// gives (the kernel's DIMM health events) and at least every `interval`;
// it publishes "dimm" and "badblocks" events and logs a DIMM that crosses
// a threshold at warning. `list` and `metrics` answer from its last
// reading, so no request waits for a firmware command.
//
// Thread safety: the functions are pure. HealthMonitor's methods may be
// called from any thread; its platform and event bus are borrowed and must
// outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pmemd/events.h"
#include "pmemd/mutex.h"
#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd {

// The health states, best first (a larger index is worse; "unknown", the
// command failed, is not ranked).
inline const std::vector<std::string> kDimmHealthStates = {"ok", "non-critical", "critical", "fatal"};

// libndctl's SMART temperature (1/16 degree Celsius, bit 15 the sign) in
// millidegrees, rounded to the nearest (half a millidegree away from zero).
int64_t SmartTemperatureToMillicelsius(unsigned int raw);

// The alarms a reading trips, sorted: "controller_temperature",
// "media_temperature", "spares". An alarm trips when the firmware reports it
// tripped, or when its value has reached its enabled threshold: a
// temperature at or above it, spares at or below it. The emulated
// firmware trips its alarms by the same rule (SetFirmwareAlarms).
std::vector<std::string> TrippedAlarms(const DimmHealth& h);
// Sets the alarm_* flags from the values and enabled thresholds, as a
// DIMM's firmware does.
void SetFirmwareAlarms(DimmHealth* h);
// The values an injection may set: a known health_state and shutdown_state,
// percentages up to 100, temperatures that libndctl's encoding can carry
// (within +-2047.9375 degrees). The message names the field and the range.
Status ValidateDimmHealth(const DimmHealth& h);

// What changed between two readings of one object: the event to publish
// (none when nothing an admin acts on changed), and the lines to log.
struct HealthChange {
  std::optional<Event> event;
  std::vector<std::string> warnings;  // crossed for the worse
  std::vector<std::string> notices;   // back to normal
};

// One DIMM. `before` null: the first reading (no event; warnings for what
// is already wrong). A "dimm" event's from/to is the health_state
// ("unsupported" for a DIMM without SMART); it is published when the
// state, the tripped alarms, the shutdown state or the unsafe shutdown
// count changed, not for a temperature that moved within its bounds.
HealthChange DiffDimmHealth(const std::string& dimm, const std::optional<DimmHealth>* before,
                            const std::optional<DimmHealth>& after);

// The bad blocks of one region or namespace.
struct BadblockState {
  std::string region;  // the region itself, or the namespace's
  uint64_t count = 0;  // 512-byte sectors
  std::vector<BadRange> ranges;
  bool operator==(const BadblockState&) const = default;
};
// By object name ("region0", "namespace0.1").
using BadblockMap = std::map<std::string, BadblockState>;
BadblockMap BadblocksOf(const Inventory& inv);
// One region or namespace. `before` null: the first reading, or an object
// that is new (no event; a warning at the first reading when it has bad
// blocks). A "badblocks" event's from/to are the counts ("0" -> "8").
HealthChange DiffBadblocks(const std::string& object, const BadblockState* before, const BadblockState& after,
                           bool first_reading);

// A notifier that only Notify() wakes (the emulated platform's, and the
// base Platform's, which nobody notifies).
class ManualHealthNotifier final : public HealthNotifier {
 public:
  void Notify() EXCLUDES(mu_);
  bool Wait(std::chrono::milliseconds timeout) override EXCLUDES(mu_);
  void Interrupt() override EXCLUDES(mu_);

 private:
  Mutex mu_;
  CondVar cv_;
  bool pending_ GUARDED_BY(mu_) = false;
  bool interrupted_ GUARDED_BY(mu_) = false;
};

struct HealthMonitorOptions {
  std::chrono::milliseconds interval{60'000};  // the config's health_interval_ms
  bool watch = true;                           // false: no thread, Poll() only (tests)
};

// The last reading.
struct HealthReading {
  DimmHealthMap dimms;
  BadblockMap badblocks;
  uint64_t polls = 0;     // readings taken
  uint64_t failures = 0;  // readings that failed (the previous values were kept)
};

class HealthMonitor {
 public:
  // Takes the first reading before it returns, then watches (options.watch).
  HealthMonitor(Platform* platform, EventBus* events, HealthMonitorOptions options);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  HealthReading Latest() const EXCLUDES(mu_);
  // One reading, now, on the calling thread (one at a time with the watcher's).
  void Poll() EXCLUDES(poll_mu_, mu_);

 private:
  void Watch();

  Platform* const platform_;  // borrowed
  EventBus* const events_;    // borrowed, may be null
  const HealthMonitorOptions options_;
  const std::shared_ptr<HealthNotifier> notifier_;
  Mutex poll_mu_ ACQUIRED_BEFORE(mu_);  // one reading at a time
  mutable Mutex mu_;
  HealthReading latest_ GUARDED_BY(mu_);
  bool first_ GUARDED_BY(poll_mu_) = true;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace pmemd
