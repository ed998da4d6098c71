// An Inventory served from memory and kept exact by the kernel's uevents.
//
// The cache holds the last full walk. Uevents mark what changed: anything of
// the nd or dax subsystems (namespaces, regions, dax devices) marks the whole
// model; a memory block's online/offline marks only that block, re-read on
// its own. List() first drains every event already queued, checks the
// cheap fingerprint of what changes without a uevent (a namespace's size),
// then re-reads what is marked: a list answered after a command returned
// reflects it, because the kernel queues the uevent on the socket before the
// sysfs write that caused it returns (docs/inventory.md).
//
// Bounded under a storm: events are read at most max_drain per pass and only
// leave marks (a set of at most max_dirty_blocks block ids, beyond which the
// whole model is marked), so memory does not grow with the event rate; the
// background watcher re-reads at most once per settle period. A lost event
// (ENOBUFS) marks the whole model and logs a warning: never a stale model.
//
// Changes found this way are published on the EventBus with detail
// {"source": "external"}. pmemd's own operations bracket their changes with
// BeginOwnChange/EndOwnChange: their events are published by the operation,
// and the model is re-read quietly after.
//
// Thread safety: every method may be called from any thread. `events` is
// borrowed (may be null) and must outlive the cache.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "platform/uevent.h"
#include "pmemd/mutex.h"
#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd {

class EventBus;

struct InventoryReaders {
  std::function<Result<Inventory>()> read_all;                 // the full walk
  std::function<Result<MemoryBlock>(uint64_t id)> read_block;  // one block; kNotFound when it is gone
  std::function<std::string()> fingerprint;                    // may be empty: no such check
};

struct InventoryCacheOptions {
  size_t max_drain = 65536;        // events read per pass
  size_t max_dirty_blocks = 256;   // more marked blocks than this: re-read everything
  std::chrono::milliseconds settle{50};       // the watcher gathers events this long before re-reading
  std::chrono::milliseconds max_age{30000};   // re-read everything at least this often (bad blocks have no uevent)
  bool watch = true;                          // run the background watcher (publishes external changes)
};

struct InventoryCacheStats {
  uint64_t events = 0;        // relevant uevents seen
  uint64_t full_reads = 0;
  uint64_t block_reads = 0;
  uint64_t resyncs = 0;       // full re-reads forced by lost events
  uint64_t from_memory = 0;   // lists answered without reading the kernel
};

class InventoryCache {
 public:
  InventoryCache(std::unique_ptr<UeventSource> source, InventoryReaders readers, EventBus* events,
                 InventoryCacheOptions options = {});
  ~InventoryCache();
  InventoryCache(const InventoryCache&) = delete;
  InventoryCache& operator=(const InventoryCache&) = delete;

  Result<Inventory> List() EXCLUDES(mu_);
  void BeginOwnChange() EXCLUDES(mu_);
  void EndOwnChange() EXCLUDES(mu_);
  // The next List() re-reads everything (the health monitor's poll: bad
  // blocks a scrub found change without a uevent).
  void Invalidate() EXCLUDES(mu_);
  InventoryCacheStats stats() const EXCLUDES(mu_);

 private:
  void PumpLocked() REQUIRES(mu_);  // drains and marks
  void Mark(const Uevent& e) REQUIRES(mu_);
  Status RefreshLocked(bool publish) REQUIRES(mu_);
  void PublishDiff(const Inventory& before, const Inventory& after);
  void Watch() EXCLUDES(mu_);

  const std::unique_ptr<UeventSource> source_;
  const InventoryReaders readers_;
  EventBus* const events_;
  const InventoryCacheOptions options_;

  mutable Mutex mu_;
  std::optional<Inventory> model_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point read_at_ GUARDED_BY(mu_);
  std::string fingerprint_ GUARDED_BY(mu_);
  bool all_dirty_ GUARDED_BY(mu_) = true;
  bool quiet_ GUARDED_BY(mu_) = false;  // the next re-read is pmemd's own change
  std::set<uint64_t> dirty_blocks_ GUARDED_BY(mu_);
  int own_changes_ GUARDED_BY(mu_) = 0;
  InventoryCacheStats stats_ GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace pmemd
