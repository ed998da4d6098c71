// Which processes hold a device open or mapped, as fuser(1) finds them: by
// walking /proc/<pid>/fd and /proc/<pid>/maps.
//
// Why pmemd needs it: the kernel does not refuse to unbind a device-dax
// device that a process maps, and does not wait for it either. On 6.1 the
// unbind tears the device's page descriptors down while a page of it may
// still be referenced (a pipe that a page was vmspliced into, an RDMA
// registration), and releasing that reference later oopses the kernel
// (docs/memory-blocks.md, "Disabling a device that is in use"). ndctl and
// daxctl do not look. pmemd refuses to disable or reconfigure a dax device
// that any other process holds open or mapped, naming the processes. A
// reference that outlives every mapping and descriptor (the pipe alone)
// cannot be seen from userspace; the documentation says so.
//
// Thread safety: a plain function; reads /proc only.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "pmemd/status.h"

namespace pmemd {

struct DeviceUser {
  pid_t pid = 0;
  std::string comm;  // /proc/<pid>/comm
  std::string how;   // "open" or "mapped"
};

// Processes other than this one that hold the character device `rdev` open
// (a descriptor whose target is that device) or mapped (a mapping of a path
// that is that device), at most `max` of them. Processes that vanish during
// the walk, or whose entries cannot be read, are skipped.
std::vector<DeviceUser> CharDeviceUsers(dev_t rdev, const std::string& proc_root = "/proc", size_t max = 8);

// "pid 320 (pin_dax: mapped), pid 4 (qemu: open)".
std::string DescribeUsers(const std::vector<DeviceUser>& users);

// Busy naming the users when there are any: "cannot <op> <what>: <device>
// is in use by ...; stop them, then retry". Ok when nobody holds it.
Status CheckCharDeviceUnused(dev_t rdev, const std::string& device, const std::string& op);

}  // namespace pmemd
