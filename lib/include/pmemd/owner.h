// PlatformOwner: the one owner of a platform's state in the daemon.
//
// Every change to namespaces and dax devices goes through here:
//   - changes to one region are serialized (a mutex per region) while reads
//     (List, plans) stay concurrent; docs/api.md, "Namespaces", says what
//     happens without this;
//   - each change is written to an intent journal (<state_dir>/intents.json,
//     replaced atomically) before it starts and removed when it ends; at
//     start-up, Open() reconciles leftover intents with what the platform
//     shows, finishing or undoing interrupted work and removing the orphans
//     it created, and logs each action;
//   - namespaces that pmemd itself uses (pools) are protected: the in-use
//     check refuses to destroy, disable or reconfigure them.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/mutex.h"
#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd {

class EventBus;

class PlatformOwner {
 public:
  // Takes the platform (owned from here on); reconciles the journal at
  // `journal_path`. `events` is borrowed (may be null) and must outlive the
  // owner; the daemon's EventBus is declared before it (daemon.cc, Parts).
  static Result<std::unique_ptr<PlatformOwner>> Open(std::unique_ptr<Platform> platform,
                                                     std::string journal_path, EventBus* events);
  ~PlatformOwner();

  Platform* platform() const { return platform_.get(); }
  std::string_view Kind() const { return platform_->Kind(); }

  Result<Inventory> List() { return platform_->List(); }

  Result<NamespacePlan> PlanCreateNamespace(const NamespaceSpec& spec);
  // A create naming an existing namespace is a retry (pmemd/retry.h): the
  // namespace comes back as it is and *created (when given) is false; a
  // request that differs from it is already_exists. FindCreateRetry is that
  // check alone (for dry runs).
  Result<Namespace> CreateNamespace(NamespaceSpec spec, bool* created = nullptr);
  Result<std::optional<Namespace>> FindCreateRetry(const NamespaceSpec& spec);
  Status DestroyNamespace(const std::string& dev, bool force);
  Status EnableNamespace(const std::string& dev);
  Status DisableNamespace(const std::string& dev);
  Result<NamespacePlan> PlanReconfigureNamespace(const std::string& dev, const NamespaceSpec& spec);
  // `force` is the user's acknowledgement that the data is destroyed.
  Result<Namespace> ReconfigureNamespace(const std::string& dev, NamespaceSpec spec, bool force);
  // `progress` as the Platform's (platform.h); may be empty.
  Result<DaxDevice> ReconfigureDevice(const std::string& chardev, const std::string& mode, bool online,
                                      bool movable, const ProgressFn& progress = {});
  Result<MemoryOpResult> OnlineMemory(const std::string& chardev, bool movable, const ProgressFn& progress = {});
  Result<MemoryOpResult> OfflineMemory(const std::string& chardev, const ProgressFn& progress = {});

  // Several operations as one change (a layout's apply): every region's
  // lock, taken in name order when the hold is made and let go when it is
  // destroyed. Single operations from other threads wait for it, and then
  // see what it did; the operations the holding thread makes through this
  // owner meanwhile run under it (they do not lock their region again).
  // Holds on one owner are taken one after the other, never nested.
  class RegionsHold {
   public:
    ~RegionsHold();
    RegionsHold(const RegionsHold&) = delete;
    RegionsHold& operator=(const RegionsHold&) = delete;

   private:
    friend class PlatformOwner;
    RegionsHold(PlatformOwner* owner, std::vector<Mutex*> locks);
    PlatformOwner* owner_;
    std::vector<Mutex*> locks_;  // owned by owner_->region_locks_, in the order taken
  };
  // Waits for the regions' running operations and for another hold.
  Result<std::unique_ptr<RegionsHold>> HoldAllRegions() EXCLUDES(locks_mu_);

  // Platform::PlanCreateSeries, and Platform::CheckUnused with pmemd's own
  // users (attached pools) left out: the caller plans what happens to those.
  std::vector<Result<NamespacePlan>> PlanCreateSeries(const std::vector<std::string>& released,
                                                      const std::vector<NamespaceSpec>& specs) {
    return platform_->PlanCreateSeries(released, specs);
  }
  Status CheckUnusedOutsidePmemd(const std::string& dev, const std::string& op) {
    return platform_->CheckUnused(dev, op);
  }

  // Returns non-OK (kBusy) for a namespace or dax device pmemd itself uses.
  // What the check captures (the daemon's PoolManager) is borrowed: it must
  // outlive every operation that runs after SetInUseCheck, or be replaced
  // first.
  using InUseCheck = std::function<Status(const std::string& dev)>;
  void SetInUseCheck(InUseCheck check) EXCLUDES(check_mu_);

  // What reconciliation did at Open(), one line per action (for tests/logs).
  const std::vector<std::string>& reconciled() const { return reconciled_; }

 private:
  PlatformOwner(std::unique_ptr<Platform> platform, std::string journal_path, EventBus* events);

  struct Intent {
    uint64_t id = 0;
    std::string op;
    std::string region;
    nlohmann::json args;
  };
  // Journal: Begin writes the intent durably, End removes it.
  Result<uint64_t> Begin(const std::string& op, const std::string& region, nlohmann::json args)
      EXCLUDES(journal_mu_);
  void End(uint64_t id) EXCLUDES(journal_mu_);
  Status SaveJournal() REQUIRES(journal_mu_);
  Status Reconcile() EXCLUDES(journal_mu_);
  // What the operation table's row for intent.op does with it.
  Status ReconcileOne(const Intent& intent, std::string* action);
  // Every journaled operation: under its region's lock, `prepare` checks
  // (in use, plans) and returns the journal's arguments (null: nothing a
  // restart could find again, so no intent); the intent is
  // written, `body` runs, the intent is removed (after the row's clean-up
  // when the body failed and the row asks for one). owner.cc has the table.
  using Prepare = std::function<Result<nlohmann::json>()>;
  template <typename T>
  Result<T> Run(const char* op, const std::string& region, const Prepare& prepare,
                const std::function<Result<T>()>& body);
  Status SetEnabled(const std::string& dev, bool enable);

  Mutex& RegionLock(const std::string& region) EXCLUDES(locks_mu_);
  // The region of a namespace or dax device, from a fresh inventory.
  Result<std::string> RegionOf(const std::string& dev);
  Status CheckInUse(const std::string& dev) EXCLUDES(check_mu_);

  std::unique_ptr<Platform> platform_;
  std::string journal_path_;
  EventBus* events_;  // borrowed (Open), may be null

  Mutex journal_mu_;
  std::map<uint64_t, Intent> intents_ GUARDED_BY(journal_mu_);
  uint64_t next_intent_ GUARDED_BY(journal_mu_) = 1;

  Mutex hold_mu_ ACQUIRED_BEFORE(locks_mu_);  // one RegionsHold at a time
  // The thread that holds every region (RegionsHold); its operations do not
  // lock them again. Default-constructed: none.
  std::atomic<std::thread::id> holder_{};

  Mutex locks_mu_;
  // One per region, created on first use and kept for the owner's life (a
  // reference handed out stays valid); held for a whole operation.
  std::map<std::string, std::unique_ptr<Mutex>> region_locks_ GUARDED_BY(locks_mu_);

  Mutex check_mu_;
  InUseCheck in_use_ GUARDED_BY(check_mu_);
  std::vector<std::string> reconciled_;
};

}  // namespace pmemd
