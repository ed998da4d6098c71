// Declarative layouts: a document saying which namespaces, system-ram
// devices, pools, online pool blocks and leases a host should have
// (docs/layouts.md is its reference), the plan that takes the host from
// what it has to that, and the plan's execution through the very
// operations the single JSON-RPC methods call (PlatformOwner, PoolManager,
// Pool), so each step has their checks, journal and events.
//
//   PMEMD_ASSIGN_OR_RETURN(Layout layout, ParseLayout(doc));
//   LayoutApplier applier(owner, pools);
//   PMEMD_ASSIGN_OR_RETURN(ApplyResult r, applier.Apply(layout, {.dry_run = true}));
//   for (const PlanStep& s : r.plan.steps) ...  // op, object, reason, destroys_data
//
// Objects are known by name: namespaces by their label's name, pools by
// theirs, leases by pool and name. A namespace without a name cannot be in a
// layout; like everything else the layout leaves out, it is kept unless the
// apply prunes.
//
// Thread safety: Layout, LayoutSnapshot and LayoutPlan are plain values and
// the functions over them pure (PlanLayout only asks the platform to plan);
// a LayoutApplier may be used from any thread, its applies one at a time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/mutex.h"
#include "pmemd/owner.h"
#include "pmemd/platform.h"
#include "pmemd/pool.h"
#include "pmemd/pool_manager.h"
#include "pmemd/status.h"

namespace pmemd {

inline constexpr uint64_t kLayoutVersion = 1;

// Unset optionals match whatever is there and take create-namespace's
// defaults when the namespace is made.
struct LayoutNamespace {
  std::string name;    // the namespace's label name: the layout's key
  std::string region;  // "region0"
  std::string mode = "fsdax";
  std::optional<uint64_t> size;  // what it takes from the region (create-namespace's size)
  std::optional<uint64_t> align;
  std::optional<std::string> map;
  std::optional<uint32_t> sector_size;
};

// The dax device of a devdax namespace of the layout, as system RAM (kmem).
struct LayoutSystemRam {
  std::string ns;        // the namespace's name
  bool online = true;    // every memory block online; false: hot-added, left offline
  bool movable = true;   // ZONE_MOVABLE; false: ZONE_NORMAL
};

// Exactly one of ns (a devdax namespace of the layout, by name), device and
// path. Unset optionals match whatever the pool has and take create-pool's
// defaults when it is made.
struct LayoutPool {
  std::string name;
  std::string ns;
  std::string device;  // "dax0.0"
  std::string path;    // an absolute file path
  std::optional<uint64_t> size;  // path pools: the file's size
  std::optional<uint64_t> block_size;
  std::optional<uint64_t> max_leases;
  std::optional<PoolMemmap> memmap;
  std::optional<uint32_t> owner_uid, owner_gid;
  // Which blocks are online: "all", "none" or ranges ("0-3,7"); unset:
  // whatever they are.
  std::optional<std::string> online_blocks;
};

struct LayoutLease {
  std::string pool;
  std::string name;
  uint64_t size = 0;
  std::optional<uint64_t> align;  // default 2 MiB
  std::optional<std::string> owner;
  std::optional<std::map<std::string, std::string>> labels;
};

struct Layout {
  std::vector<LayoutNamespace> namespaces;
  std::vector<LayoutSystemRam> system_ram;
  std::vector<LayoutPool> pools;
  std::vector<LayoutLease> leases;
  bool prune = false;  // the document's own "prune": destroy what it leaves out
};

// Reads a layout document as JsonReader reads params: unknown keys and wrong
// types are refused with its words. Every problem is gathered, not just the
// first (bad values, duplicate names, a system_ram, pool or lease naming an
// object the layout does not have): kInvalidArgument naming each, with
// detail {"problems": [{"code", "message"}, ...]}. `what` prefixes the
// messages ("params.layout", "config.layout").
Result<Layout> ParseLayout(const nlohmann::json& doc, const std::string& what = "layout");
// The document: every key, unset optionals left out; sizes as integers.
nlohmann::json LayoutToJson(const Layout& layout);
// A JSON Schema (json_schema.h) of the document's keys and types, for
// rpc.discover (apply's layout, export-layout's result); the rules across
// keys are ParseLayout's alone.
nlohmann::json LayoutSchema();

// A pool's blocks: "all", "none" or comma-separated N and N-M; each index
// below `total` (not checked when total is 0: unknown yet).
Result<std::vector<bool>> ParseBlockSet(const std::string& text, uint64_t total);
// The shortest text ParseBlockSet reads back as `online`.
std::string BlockSetText(const std::vector<bool>& online);

// What the host has now.
struct LayoutSnapshot {
  struct PoolState {
    PoolStatus status;  // with blocks
    std::vector<Lease> leases;
  };
  Inventory inventory;
  std::vector<PoolState> pools;           // attached, by name
  std::vector<UnavailablePool> unavailable;
};

// The snapshot as a layout that applies to no change: named namespaces and
// their system-ram devices, attached pools (on a named namespace by its
// name, else by device or path) with their online blocks, and their leases.
Layout ExportLayout(const LayoutSnapshot& now);

// One operation of a plan.
struct PlanStep {
  std::string op;      // the JSON-RPC method it runs: "create-namespace", "detach-pool", ...
  std::string object;  // "namespace ns-a", "dax device of ns-b", "pool p0", "lease p0/l1"
  std::string reason;  // why, in words: "in the layout, not on the host: fsdax 1.00 GiB in region0"
  bool destroys_data = false;
  // What it runs with: the method's params, except that a device made by an
  // earlier step is named by its namespace ("of_namespace": "ns-b") and
  // found when the step runs.
  nlohmann::json params;
};

struct LayoutPlan {
  std::vector<PlanStep> steps;  // in the order they run
};

struct ApplyOptions {
  bool dry_run = false;  // plan only
  bool prune = false;    // also destroy what the layout leaves out (or the layout's own "prune")
  bool force = false;    // allow steps that destroy data
};

// The diff from `now` to `layout`, ordered: lease deletes, pool detaches,
// pool blocks offline, system-ram devices back to devdax, namespace destroys
// and reconfigures; then namespace creates, devices to system-ram, memory
// online, pool creates, pool blocks online, lease creates. Validated whole
// before it is returned: every namespace planned by the platform in order
// (sizes that cannot fit or align), pools' geometry, leases' room, objects
// in use that a step would take away (busy), data a step would destroy
// without `force`. Any problem fails the plan with all of them in the
// message and in detail {"problems": [...]}; the code is theirs when they
// share one, else invalid_argument.
Result<LayoutPlan> PlanLayout(const Layout& layout, const LayoutSnapshot& now, PlatformOwner& owner,
                              const ApplyOptions& options);

nlohmann::json PlanStepJson(const PlanStep& step);

struct ApplyResult {
  LayoutPlan plan;
  bool dry_run = false;
  size_t done = 0;  // steps run (all of them, when Apply returns a result)
};

class LayoutApplier {
 public:
  // Both borrowed; they must outlive the applier.
  LayoutApplier(PlatformOwner* owner, PoolManager* pools) : owner_(owner), pools_(pools) {}
  LayoutApplier(const LayoutApplier&) = delete;
  LayoutApplier& operator=(const LayoutApplier&) = delete;

  Result<LayoutSnapshot> Snapshot() const;

  // Plans and, unless dry_run, runs the plan, holding every region
  // (PlatformOwner::RegionsHold) from the snapshot to the last step, so a
  // namespace or kmem operation that races with it runs before the snapshot
  // or after the last step, never in between. Pool and lease operations
  // serialize per step (each re-checks under its pool's lock, a create by
  // name being a retry). Nothing changes when planning fails. A step that
  // fails stops the apply: the steps before it stay done (each is atomic),
  // the rest are not run, and the error's detail lists every step with its
  // state ("done", "failed", "not_run"); applying again plans from there.
  Result<ApplyResult> Apply(const Layout& layout, const ApplyOptions& options) EXCLUDES(mu_);

 private:
  Status RunStep(const PlanStep& step);

  PlatformOwner* owner_;  // borrowed
  PoolManager* pools_;    // borrowed
  Mutex mu_;              // one apply at a time
};

}  // namespace pmemd
