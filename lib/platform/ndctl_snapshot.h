// The ndctl platform's read: one walk of a libndctl/libdaxctl context and the
// sysfs memory tree into an Inventory, field for field as ndctl/daxctl v76
// print it (see pmemd/ndctl_platform.h for what each part follows).
//
// Thread safety: uses only the context it is given (borrowed, owned by the
// caller, single-threaded) and reads sysfs; DIMM firmware commands (the
// label index; SMART health is read apart, ndctl_health.h) are issued, so
// callers serialize walks.
#pragma once

#include <ndctl/libndctl.h>

#include <string>

#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd::nd {

// Buses, DIMMs, regions, namespaces, dax devices, and the memory blocks of
// <sysfs_root>/devices/system/memory with the dax device owning each.
Result<Inventory> TakeSnapshot(ndctl_ctx* ctx, const std::string& sysfs_root);

// What changes on the nd bus without a uevent, cheaply read from sysfs:
// every region's available_size and every namespace's size (a disabled
// namespace destroyed, a size written). Equal strings: none of it changed.
std::string NdFingerprint(const std::string& sysfs_root);

}  // namespace pmemd::nd
