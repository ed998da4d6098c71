// The JSON-RPC methods pmemd serves, registered by area.
//
// Each Register* function adds one area's methods to a Registry; the
// objects they use must outlive the registry. The methods themselves are
// thin: each declares its params and result schema (rpc.h, Method), reads
// params with the JsonReader the dispatcher binds to that declaration,
// calls lib/, renders with platform_json.h. rpc.discover publishes the
// declarations; docs/api.md explains every method.
#pragma once

#include <string>

#include "pmemd/emulated_platform.h"
#include "pmemd/owner.h"
#include "pmemd/platform.h"
#include "pmemd/rpc.h"

namespace pmemd {

class PoolManager;
class EventStream;
class LayoutApplier;
struct ApplyResult;
class RequestMetrics;
class HealthMonitor;

// What subscribe and metrics read; every pointer borrowed, outliving the
// registry; a null one leaves its families (or subscribe) out.
struct OpsContext {
  std::string platform_kind;
  PlatformOwner* owner = nullptr;
  const PoolManager* pools = nullptr;
  const HealthMonitor* health = nullptr;  // the pmemd_dimm_* families
  EventStream* events = nullptr;
  const RequestMetrics* requests = nullptr;
};

struct DaemonInfo {
  std::string version = PMEMD_VERSION;
  std::string api_version = PMEMD_API_VERSION;
  std::string platform_kind;
  std::string socket_path;
  std::string state_dir;
  // For memmap_budget and memmap_budget_used; not owned, outlives the
  // registry. Null: the fields are left out.
  const PoolManager* pools = nullptr;
};

// Each Register* adds handlers that keep the pointer they are given: the
// owner, platform or pool manager is borrowed and must outlive the registry
// and every dispatcher over it (the daemon declares them in that order,
// daemon.cc, Parts). The registry itself is only filled here, not kept.
//
// version
Status RegisterDaemonMethods(Registry* registry, const DaemonInfo& info);
// list; DIMM health from `health`'s last reading (null: none)
Status RegisterPlatformMethods(Registry* registry, PlatformOwner* owner, const HealthMonitor* health = nullptr);
// create-namespace, destroy-namespace, enable-namespace, disable-namespace,
// reconfigure-namespace, reconfigure-device, online-memory, offline-memory
Status RegisterNamespaceMethods(Registry* registry, PlatformOwner* owner);
// inject-error (the emulated platform only)
Status RegisterEmulatedMethods(Registry* registry, EmulatedPlatform* platform);
// create-pool, attach-pool, detach-pool, list-pools, online-blocks, offline-blocks,
// create-lease, delete-lease, get-lease, list-leases (pool_manager.h)
Status RegisterPoolMethods(Registry* registry, PoolManager* pools);
// subscribe (docs/events.md), metrics (Prometheus text format 0.0.4)
Status RegisterOpsMethods(Registry* registry, const OpsContext& context);
// apply, export-layout (layout.h, docs/layouts.md)
Status RegisterLayoutMethods(Registry* registry, LayoutApplier* applier);
// apply's answer: {dry_run, steps: [{op, object, reason, destroys_data,
// params}], done, changed}.
nlohmann::json ApplyResultJson(const ApplyResult& result);

}  // namespace pmemd
