// The steps that change a namespace on the real kernel, each as ndctl v76
// takes it (ndctl/namespace.c): the safe disable, clearing an old info block,
// clearing a stale uuid, giving a namespace its personality (fsdax, devdax,
// sector, raw) and its sector size. The platform (ndctl_platform.cc) decides
// the order and the rollback; each step here changes one thing and says what
// went wrong and how to get out of it.
//
// Thread safety: each step works on the objects of one context (borrowed,
// owned by the caller, single-threaded); callers serialize changes.
#pragma once

#include <ndctl/libndctl.h>

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd::nd {

// Disables a namespace the safe way (its block device not mounted or held
// open) and releases its pfn/dax/btt claim, so its personality can change.
// kBusy naming the way out when something still uses it.
Status DisableAndRelease(ndctl_namespace* ndns, const std::string& op);
// DisableAndRelease's checks alone, changing nothing: kBusy when the
// namespace's block device is mounted or held open, or a process holds one
// of its dax devices open or mapped.
Status CheckNamespaceUnused(ndctl_namespace* ndns, const std::string& op);

// ndctl's namespace_prep_reconfig(): disabled, released, forced raw, and the
// old info block cleared.
Status PrepareReconfig(ndctl_namespace* ndns, const std::string& op, const std::shared_ptr<spdlog::logger>& log);

// An idle seed that still holds the uuid of an interrupted create gets it
// cleared (size 0 drops it). That frees `ndns`: use the returned object.
Result<ndctl_namespace*> ClearStaleUuid(ndctl_ctx* ctx, ndctl_namespace* ndns, const std::string& dev);

// What a namespace uuid write's return code `rc` means, for `what`.
Status UuidWriteStatus(const std::string& what, const std::string& uuid, int rc);

// Gives a disabled, configured namespace its personality: the region's pfn
// (fsdax), dax (devdax) or btt (sector) seed claims it with `claim_uuid` in
// its info block and is enabled; raw enables the namespace itself.
Status ApplyPersonality(ndctl_region* region, ndctl_namespace* ndns, const NamespacePlan& plan,
                        const std::string& claim_uuid);

// The namespace's own sector size (fsdax, raw) when the kernel offers it.
Status SetNamespaceSectorSize(ndctl_namespace* ndns, const NamespacePlan& plan);

}  // namespace pmemd::nd
