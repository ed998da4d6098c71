// Memory blocks as the kernel shows them under
// <sysfs_root>/devices/system/memory: the pure-sysfs half of the ndctl
// platform's inventory, kept apart from libndctl/libdaxctl so that it can be
// tested against a fake tree in a temporary directory.
//
// Layout read (Documentation/ABI/testing/sysfs-devices-memory):
//   block_size_bytes        hex without 0x ("8000000" = 128 MiB); required
//   auto_online_blocks      "offline" | "online" | "online_movable" | ...
//   memoryN/phys_index      hex block number; start = phys_index * block size
//   memoryN/state           "online" | "offline" | "going-offline"
//   memoryN/valid_zones     "Movable", "Normal Movable", "none", ...
//   memoryN/removable       "1" | "0" (obsolete, always 1 on current kernels)
//   memoryN/nodeM           symlink to the NUMA node the block belongs to
//
// Thread safety: free functions without shared state; safe from any thread.
// A block that disappears while it is being read (memory hot-remove) is
// skipped; any other unreadable or malformed attribute is an error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/memory_blocks.h"
#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd::sysfs {

struct MemoryTopology {
  uint64_t block_size = 0;          // block_size_bytes
  std::string auto_online_blocks;   // "" when the kernel has no such file
  std::vector<MemoryBlock> blocks;  // sorted by id; dax_device left empty
};

// "<sysfs_root>/devices/system/memory".
std::string MemoryDir(const std::string& sysfs_root);

// Reads block_size_bytes, auto_online_blocks and every memoryN directory.
// Errors: kNotFound when block_size_bytes is missing (a kernel without
// CONFIG_MEMORY_HOTPLUG, or a wrong sysfs root), kIoError when an attribute
// cannot be read or parsed.
Result<MemoryTopology> ReadMemoryTopology(const std::string& sysfs_root);

// Reads one block, memoryN under `memory_dir`. kNotFound when the block
// directory does not exist.
Result<MemoryBlock> ReadMemoryBlock(const std::string& memory_dir, uint64_t id,
                                    uint64_t block_size);

// The zone an online block is in, from its valid_zones: current kernels print
// only that zone for an online block, older ones print it first. "" for an
// offline block (valid_zones then lists where it could go) and for "none" (a
// block that spans zones).
std::string ZoneFromValidZones(std::string_view valid_zones, std::string_view state);

// Parses a sysfs hex number with or without 0x ("8000000", "0x8000000",
// "0000000a"). `what` names the file in the error.
Result<uint64_t> ParseSysfsHex(std::string_view text, const std::string& what);

// A physical address range [start, start + size) owned by a dax device.
struct PhysRange {
  uint64_t start = 0;
  uint64_t size = 0;
  std::string owner;  // "dax0.0"
};

// Sets each block's dax_device to the owner of the range that contains the
// block's start address (the rule daxctl uses to find a device's blocks);
// blocks outside every range get "".
void AssignDaxDevices(std::vector<MemoryBlock>& blocks, const std::vector<PhysRange>& ranges);

// ---------------------------------------------------------------------------
// Changing block states: the sysfs BlockStateWriter for the walker in
// memory_blocks.h.

// Writes `value` to `path` from a child process and waits for it until
// `deadline`; then kills it (SIGKILL) and waits up to `grace` more for it to
// end. The calling thread never blocks in the kernel's write beyond that, and
// a fatal signal is what every kernel accepts to stop an offline it cannot
// finish (docs/memory-blocks.md). Errors: the write's errno; kBusy with
// EINTR when the child was killed at the deadline (the write may or may not
// have taken effect: read the file back); kUnavailable (ETIMEDOUT) when the
// killed child has not ended after `grace` (it is reaped in the background).
Status WriteSysfsWithDeadline(const std::string& path, std::string_view value, Deadline deadline,
                              std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

// The real writer: writes the request word to <memory_dir>/memoryN/state; an
// offline under the request's deadline (WriteSysfsWithDeadline), reading the
// state back when it was stopped. EBUSY and EAGAIN come back as kBusy, with
// the errno kept.
Status WriteBlockState(const std::string& memory_dir, const BlockWrite& w);
BlockStateWriter SysfsBlockWriter(const std::string& memory_dir);

}  // namespace pmemd::sysfs
