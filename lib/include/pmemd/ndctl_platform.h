// The ndctl platform: the Platform that drives real pmem through libndctl,
// libdaxctl and sysfs (see platform.h for the model it fills).
//
// Its answers follow ndctl v76 and daxctl v76 field for field, so that what
// pmemd reports can be checked against the tools:
//   buses, dimms, regions   `ndctl list -B -D -R -i` (disabled ones included,
//                           with enabled=false)
//   namespaces              `ndctl list -N -c`: active namespaces and
//                           configured (non-zero size) disabled ones; idle
//                           zero-size seeds are left out. size is what ndctl
//                           prints (pfn/dax/btt size, after map=dev
//                           metadata), raw_size the namespace's own size.
//   dax devices             `daxctl list -D` (zero-size seeds left out)
//   memory blocks           /sys/devices/system/memory, with the dax device
//                           whose range holds each block.
//
// List() answers from a model kept exact by kernel uevents (docs/inventory.md);
// each re-read builds fresh libndctl/libdaxctl contexts.
//
// Thread safety: a Platform from NewNdctlPlatform is safe to use from several
// threads. libndctl/libdaxctl contexts are not thread-safe and cache what they
// read, so every walk builds fresh contexts (a few hundred microseconds) under
// an internal mutex: walks run one at a time, and DIMM firmware commands
// (SMART, label reads) are never issued concurrently.
#pragma once

#include <memory>
#include <string>

#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd {

class EventBus;

struct NdctlPlatformOptions {
  // Where pmemd itself reads sysfs: memory blocks and the presence of the nd
  // bus. libndctl and libdaxctl always read /sys, so anything but "/sys" is
  // only useful in tests.
  std::string sysfs_root = "/sys";
  // Serve List() from a model kept by kernel uevents (docs/inventory.md)
  // rather than walking the kernel on every call. Only with sysfs_root
  // "/sys"; without a uevent socket every List() walks the kernel.
  bool watch_uevents = true;
};

// Fails with kUnavailable when libnvdimm is not loaded (no
// <sysfs_root>/bus/nd) or libndctl cannot create a context; the message
// names the cause and the fix. `events` is borrowed (may be null) and must
// outlive the platform: every later change is published there.
Result<std::unique_ptr<Platform>> NewNdctlPlatform(const NdctlPlatformOptions& options,
                                                   EventBus* events);

}  // namespace pmemd
