// PoolManager: the daemon's owner of every attached pool.
//
// It resolves where a pool lives (a dax device through the platform's
// GetDaxBacking, or a file), formats and attaches pools, and records the
// attached ones in <state_dir>/pools.json (replaced atomically), so that
// they come back by themselves when pmemd restarts: Open() re-attaches
// each, and one that cannot be attached stays listed as unavailable with
// the reason, to be retried at the next start or forgotten by detach-pool.
// It keeps the DRAM budget of memmap-mem pools (config memmap_budget): the
// metadata arrays of attached mem pools (PoolMemmapBytes of each) may take
// at most `memmap_budget` bytes together. A create-pool or attach-pool of a
// mem pool that would pass it is refused with kNoSpace before anything is
// created, formatted or mapped; at start-up, recorded mem pools are
// re-attached in name order while they fit, and one that does not is
// listed unavailable with that reason (never an out-of-memory kill, which
// under systemd would be a restart loop). Dev pools cost none of it.
// It also answers PlatformOwner's in-use check: a dax device or namespace
// holding an attached pool cannot be destroyed, disabled, reconfigured or
// onlined as system-ram.
//
// Thread safety: every method may be called from any thread. Create,
// attach and detach are serialized; Find and InUse never wait for them.
// Pools are handed out as shared_ptr, so a detach while a request uses the
// pool completes when that request does.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pmemd/fs.h"
#include "pmemd/mutex.h"
#include "pmemd/pool.h"
#include "pmemd/status.h"

namespace pmemd {

class EventBus;
class PlatformOwner;

// Exactly one of device ("dax0.0") and path (an absolute file path).
struct PoolTarget {
  std::string device;
  std::string path;
  // Path pools of a non-root caller: the file is opened with these rights
  // (OpenAs), at create and attach and again at every start, so pmemd never
  // opens a file for that caller that the caller could not open itself.
  std::optional<Credentials> open_as;
};

// Pool files: pmemd writes only files it created or pools it formatted.
//   - A new file is created with O_CREAT|O_EXCL|O_NOFOLLOW (mode 0600),
//     and sized only after every parameter was checked; if anything fails
//     later in create-pool, it is removed again.
//   - An existing file is opened with O_NOFOLLOW and must be a regular
//     file that holds a pmemd pool; a file that does not is never
//     overwritten, with or without force.
//   - force overwrites only a pool that is not attached, compared by device
//     and inode (never by the path's spelling).
struct CreatePoolSpec {
  std::string name;
  PoolTarget target;
  uint64_t size = 0;  // path only: the size of a new file, or the new size of a pool file with force
  uint64_t block_size = kPoolDefaultBlockSize;
  uint64_t max_leases = 4096;
  PoolMemmap memmap = PoolMemmap::kDev;
  bool force = false;
  std::optional<uint32_t> owner_uid, owner_gid;  // who may open its leases besides admins
};

// A recorded pool that could not be attached at start-up.
struct UnavailablePool {
  std::string name;
  PoolTarget target;
  Status error;
};

class PoolManager {
 public:
  // Re-attaches the pools recorded in <state_dir>/pools.json. `defaults`
  // gives the init strategy and hooks for every pool (events and badblocks
  // are filled in here).
  // `memmap_budget`: the bytes of DRAM mem pools' arrays may take together.
  // `owner` and `events` are borrowed (either may be null: no device pools,
  // no events) and must outlive the manager and every pool it handed out:
  // the pools publish on `events` and ask `owner` for their bad blocks.
  static Result<std::unique_ptr<PoolManager>> Open(PlatformOwner* owner, std::string state_dir, EventBus* events,
                                                   PoolOptions defaults = {},
                                                   uint64_t memmap_budget = UINT64_MAX);
  ~PoolManager();  // detaches every pool; pools.json keeps them for the next start

  // Formats and attaches. The same name on the same target, already
  // attached, returns it (an idempotent retry). `progress` hears of the
  // attach's stages (Pool::Attach); nothing for a retry.
  Result<PoolStatus> CreatePool(const CreatePoolSpec& spec, const ProgressFn& progress = {});
  Result<PoolStatus> AttachPool(const PoolTarget& target, const ProgressFn& progress = {});
  Status DetachPool(const std::string& name);

  Result<std::shared_ptr<Pool>> Find(const std::string& name) const;
  // Find, and the pool's file still there: a pool whose file was removed or
  // replaced since it was attached stays mapped (pmemd holds it open) but
  // the path its leases name no longer reaches it, so nothing that hands out
  // or changes leases may use it (kFailedPrecondition; logged once).
  Result<std::shared_ptr<Pool>> FindUsable(const std::string& name) const;
  // OK, or why the pool's path no longer names its file.
  Status CheckBacking(const Pool& pool) const;
  std::vector<std::shared_ptr<Pool>> Pools() const;  // sorted by name
  std::vector<UnavailablePool> Unavailable() const;

  // kBusy when `dev` (a dax device or a namespace) holds an attached pool.
  Status InUse(const std::string& dev) const;

  // The memmap budget and the part of it the attached mem pools take. A
  // detached pool's share is returned at once, although its array is freed
  // only when the last request using the pool finishes (a moment later).
  uint64_t memmap_budget() const { return memmap_budget_; }
  uint64_t memmap_budget_used() const;

 private:
  PoolManager(PlatformOwner* owner, std::string state_dir, EventBus* events, PoolOptions defaults,
              uint64_t memmap_budget);
  // OK, or kNoSpace when a pool `name` of `pool_size` bytes with its array in
  // DRAM would pass the budget, saying what it needs, what is left and what
  // to do. `attaching`: the pool exists (its placement is fixed).
  Status CheckMemmapBudget(const std::string& name, uint64_t pool_size, bool attaching) const;
  struct Resolved;
  Result<Resolved> Resolve(const PoolTarget& target, bool may_create) const;
  // Attaches without publishing; Publish makes it visible.
  Result<std::shared_ptr<Pool>> AttachResolved(const Resolved& r, const ProgressFn& progress = {}) const;
  void Publish(std::shared_ptr<Pool> pool, const PoolTarget& target);
  // Name of the attached pool on the same device, or the same file by
  // device and inode; "" when none.
  std::string AttachedOn(const PoolBacking& b) const;
  // Writes pools.json as the attached and unavailable pools, with `add`
  // added and `drop` left out. Requires admin_mu_. The caller changes its
  // maps only after this succeeded, so the record and the daemon agree.
  Status Save(const std::optional<std::pair<std::string, PoolTarget>>& add = std::nullopt,
              const std::string& drop = "") REQUIRES(admin_mu_);

  PlatformOwner* owner_;  // borrowed (Open), may be null
  std::string state_dir_;
  EventBus* events_;      // borrowed (Open), may be null
  PoolOptions defaults_;
  const uint64_t memmap_budget_;

  Mutex admin_mu_ ACQUIRED_BEFORE(map_mu_);  // serializes create, attach, detach and Save
  mutable SharedMutex map_mu_;
  std::map<std::string, std::shared_ptr<Pool>> pools_ GUARDED_BY(map_mu_);
  std::map<std::string, UnavailablePool> unavailable_ GUARDED_BY(map_mu_);
  std::map<std::string, PoolTarget> targets_ GUARDED_BY(map_mu_);          // how each was attached
  std::map<std::string, uint64_t> memmap_charged_ GUARDED_BY(map_mu_);    // mem pools' DRAM arrays
  mutable Mutex warned_mu_;
  mutable std::map<std::string, std::string> warned_ GUARDED_BY(warned_mu_);  // pool -> last backing warning
};

}  // namespace pmemd
