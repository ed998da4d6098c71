// The HealthMonitor and the manual notifier (pmemd/health.h).
#include "pmemd/health.h"

#include "pmemd/log.h"

namespace pmemd {

void ManualHealthNotifier::Notify() {
  {
    MutexLock lock(mu_);
    pending_ = true;
  }
  cv_.NotifyAll();
}

bool ManualHealthNotifier::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (!pending_ && !interrupted_)
    if (!cv_.WaitUntil(mu_, deadline)) break;
  if (interrupted_) return false;
  const bool notified = pending_;
  pending_ = false;
  return notified;
}

void ManualHealthNotifier::Interrupt() {
  {
    MutexLock lock(mu_);
    interrupted_ = true;
  }
  cv_.NotifyAll();
}

std::shared_ptr<HealthNotifier> Platform::OpenHealthNotifier() { return std::make_shared<ManualHealthNotifier>(); }

HealthMonitor::HealthMonitor(Platform* platform, EventBus* events, HealthMonitorOptions options)
    : platform_(platform), events_(events), options_(options), notifier_(platform->OpenHealthNotifier()) {
  Poll();
  if (options_.watch) watcher_ = std::thread([this] { Watch(); });
}

HealthMonitor::~HealthMonitor() {
  stop_ = true;
  notifier_->Interrupt();
  if (watcher_.joinable()) watcher_.join();
}

HealthReading HealthMonitor::Latest() const {
  MutexLock lock(mu_);
  return latest_;
}

void HealthMonitor::Poll() {
  MutexLock poll(poll_mu_);
  auto log = GetLogger("health");
  HealthReading before = Latest();
  HealthReading now = before;
  ++now.polls;
  bool failed = false;
  // Bad blocks: what List() shows once Refresh() made it re-read them.
  Status refreshed = platform_->Refresh();
  Result<Inventory> inv = refreshed.ok() ? platform_->List() : Result<Inventory>(refreshed);
  if (inv.ok()) {
    now.badblocks = BadblocksOf(*inv);
  } else {
    failed = true;
    log->warn("reading bad blocks failed: {}; keeping the last reading", inv.status().message());
  }
  Result<DimmHealthMap> dimms = platform_->ReadDimmHealth();
  if (dimms.ok()) {
    now.dimms = std::move(*dimms);
  } else {
    failed = true;
    log->warn("reading DIMM health failed: {}; keeping the last reading", dimms.status().message());
  }
  now.failures += failed;

  std::vector<HealthChange> changes;
  for (const auto& [dimm, health] : now.dimms) {
    auto it = before.dimms.find(dimm);
    // A DIMM that appeared later is a first reading of its own.
    changes.push_back(DiffDimmHealth(dimm, first_ || it == before.dimms.end() ? nullptr : &it->second, health));
  }
  for (const auto& [object, state] : now.badblocks) {
    auto it = before.badblocks.find(object);
    changes.push_back(
        DiffBadblocks(object, first_ || it == before.badblocks.end() ? nullptr : &it->second, state, first_));
  }
  first_ = false;
  {
    MutexLock lock(mu_);
    latest_ = now;
  }
  // The reading is in place before its events go out: a subscriber that
  // lists DIMMs on a "dimm" event sees the new health.
  for (HealthChange& c : changes) {
    for (const auto& w : c.warnings) log->warn("{}", w);
    for (const auto& n : c.notices) log->info("{}", n);
    if (c.event && events_) events_->Publish(std::move(*c.event));
  }
}

void HealthMonitor::Watch() {
  while (!stop_) {
    notifier_->Wait(options_.interval);  // a notification or the interval: read either way
    if (stop_) break;
    Poll();
  }
}

}  // namespace pmemd
