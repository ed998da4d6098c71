#include "platform/ndctl_kmem.h"

#include <sys/sysmacros.h>

#include <climits>

#include "platform/device_users.h"
#include "platform/ndctl_lib.h"
#include "platform/sysfs_memory.h"

namespace pmemd::nd {

namespace {

// How many whole memory blocks of `block_size` fit in [start, start + size).
uint64_t WholeBlocks(uint64_t start, uint64_t size, uint64_t block_size) {
  if (block_size == 0) return 0;
  uint64_t first = (start + block_size - 1) / block_size, end = (start + size) / block_size;
  return end > first ? end - first : 0;
}

std::string JoinIds(const std::vector<MemoryBlock>& blocks) {
  std::string s;
  for (const auto& b : blocks) s += (s.empty() ? "" : ", ") + std::to_string(b.id);
  return s;
}

}  // namespace

// The memory blocks (whole, aligned) that hold a dax device's range, with
// their current state.
Result<std::vector<MemoryBlock>> DaxBlocks(daxctl_dev* dev, const std::string& sysfs_root, uint64_t* block_size,
                                          std::string* auto_online) {
  PMEMD_ASSIGN_OR_RETURN(sysfs::MemoryTopology topo, sysfs::ReadMemoryTopology(sysfs_root));
  const std::string name = Str(daxctl_dev_get_devname(dev));
  std::vector<sysfs::PhysRange> ranges;
  daxctl_mapping* m;
  daxctl_mapping_foreach(dev, m) ranges.push_back({daxctl_mapping_get_start(m), daxctl_mapping_get_size(m), name});
  unsigned long long res = daxctl_dev_get_resource(dev);
  if (ranges.empty() && res != 0 && res != ULLONG_MAX) ranges.push_back({res, daxctl_dev_get_size(dev), name});
  sysfs::AssignDaxDevices(topo.blocks, ranges);
  if (block_size) *block_size = topo.block_size;
  if (auto_online) *auto_online = topo.auto_online_blocks;
  std::vector<MemoryBlock> out;
  for (auto& b : topo.blocks)
    if (b.dax_device == name) out.push_back(b);
  return out;
}

Status ToSystemRam(daxctl_dev* dev, const std::string& chardev, bool online, bool movable, const KmemEnv& env,
                   std::chrono::steady_clock::time_point t0) {
  const auto& log = env.log;
  uint64_t block_size = 0;
  std::string policy;
  PMEMD_RETURN_IF_ERROR(DaxBlocks(dev, env.sysfs_root, &block_size, &policy).status());
  if (WholeBlocks(daxctl_dev_get_resource(dev), daxctl_dev_get_size(dev), block_size) == 0)
    return Status::FailedPrecondition(chardev + " holds no whole, aligned memory block of " +
                                      std::to_string(block_size) +
                                      " bytes; create a devdax namespace of at least 1 GiB");
  PMEMD_RETURN_IF_ERROR(CheckCharDeviceUnused(makedev(daxctl_dev_get_major(dev), daxctl_dev_get_minor(dev)),
                                              chardev, "reconfigure " + chardev + " to system-ram"));
  if (int rc = daxctl_dev_disable(dev); rc < 0)
    return Status(Code::kBusy, "cannot reconfigure " + chardev + ": disabling it failed (" + Errno(rc) +
                                   "); close what maps it, then retry", -rc);
  if (int rc = daxctl_dev_enable_ram(dev); rc < 0) {
    int back = daxctl_dev_enable_devdax(dev);
    return Status(Code::kIoError, "cannot reconfigure " + chardev + " to system-ram: binding kmem failed (" +
                                      Errno(rc) + "); it is " + (back < 0 ? "disabled" : "devdax again") +
                                      "; the kernel log (dmesg) says why", -rc);
  }
  PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, DaxBlocks(dev, env.sysfs_root, nullptr, nullptr));
  size_t already = 0;
  for (const auto& b : blocks) already += b.state == "online";
  if (already > 0) {
    // The kernel's auto-online policy (or a udev rule) got there first:
    // pmemd works with it rather than offlining and onlining again.
    log->info("{}: the kernel onlined {} of {} blocks itself (auto_online_blocks={}){}", chardev, already,
              blocks.size(), policy,
              online ? "" : "; left online as the policy wants, despite --no-online");
  }
  Status online_status;
  if (online) {
    MemoryOpResult r =
        OnlineBlocks(chardev, blocks, movable, sysfs::SysfsBlockWriter(sysfs::MemoryDir(env.sysfs_root)), nullptr,
                     WalkReporting(env.progress));
    for (const auto& b : r.blocks)
      if (!b.status.ok() && online_status.ok()) online_status = b.status;
    PMEMD_ASSIGN_OR_RETURN(blocks, DaxBlocks(dev, env.sysfs_root, nullptr, nullptr));
  }
  // One event per block with where it ended, as the emulated platform.
  Publish(env.events, "dax_device", chardev, "devdax", "system-ram", {{"blocks", blocks.size()}});
  for (const auto& b : blocks)
    Publish(env.events, "memory_block", "memory" + std::to_string(b.id), "", b.state,
            {{"dax_device", chardev}, {"movable", b.state == "online" ? b.zone == "Movable" : movable}});
  if (!online_status.ok())
    return online_status.Annotate(chardev + " is system-ram but its memory could not be onlined (run "
                                  "online-memory " + chardev + " to retry)");
  log->info("{}: devdax -> system-ram ({} blocks, {}) in {} ms", chardev, blocks.size(),
            online ? (movable ? "online movable" : "online") : "not onlined", MsSince(t0));
  return Status::Ok();
}

Status ToDevdax(daxctl_dev* dev, const std::string& chardev, const KmemEnv& env,
                std::chrono::steady_clock::time_point t0) {
  const auto& log = env.log;
  PMEMD_ASSIGN_OR_RETURN(std::vector<MemoryBlock> blocks, DaxBlocks(dev, env.sysfs_root, nullptr, nullptr));
  std::vector<MemoryBlock> on;
  for (const auto& b : blocks)
    if (b.state != "offline") on.push_back(b);
  if (!on.empty())
    return Status::Busy(chardev + " has online memory blocks (" + JoinIds(on) + "); run offline-memory " +
                        chardev + " first");
  if (int rc = daxctl_dev_disable(dev); rc < 0)
    return Status(Code::kBusy, "cannot reconfigure " + chardev + " to devdax: removing its memory failed (" +
                                   Errno(rc) + "); the kernel log (dmesg) says why", -rc);
  if (int rc = daxctl_dev_enable_devdax(dev); rc < 0)
    return Status(Code::kIoError, "cannot reconfigure " + chardev + " to devdax: binding device_dax failed (" +
                                      Errno(rc) + "); it is disabled now, retry reconfigure-device", -rc);
  for (const auto& b : blocks)
    Publish(env.events, "memory_block", "memory" + std::to_string(b.id), "offline", "", {});
  Publish(env.events, "dax_device", chardev, "system-ram", "devdax", {});
  log->info("{}: system-ram -> devdax ({} blocks removed) in {} ms", chardev, blocks.size(), MsSince(t0));
  return Status::Ok();
}

}  // namespace pmemd::nd
