// What the namespace planner (namespace_plan.h) needs to know about the real
// kernel, gathered from one libndctl context: regions with their free space,
// seeds and alignments, and the configured namespaces.
//
// Thread safety: uses only the context it is given (borrowed, owned by the
// caller, single-threaded).
#pragma once

#include <ndctl/libndctl.h>

#include "platform/namespace_plan.h"

namespace pmemd::nd {

nsplan::Facts GatherFacts(ndctl_ctx* ctx);

// ndctl's region_get_namespace(): the 0th namespace when it is idle, else
// the region's seed; nullptr when neither is idle.
ndctl_namespace* CreateSeed(ndctl_region* region);

}  // namespace pmemd::nd
