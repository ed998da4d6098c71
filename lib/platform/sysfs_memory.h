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
// Changing block states: one walker for online-memory and offline-memory,
// reporting per-block results, all or nothing.

// Writes `state` ("online_movable", "online_kernel", "offline") to memoryN/state.
// Injectable so that the walker can be tested without a kernel.
using BlockStateWriter = std::function<Status(uint64_t id, const std::string& state)>;

// The real writer: writes <memory_dir>/memoryN/state. EBUSY and EAGAIN come
// back as kBusy, with the errno kept.
Status WriteBlockState(const std::string& memory_dir, uint64_t id, const std::string& state);

// One block's state changed (for events): from -> to, with detail
// ("cancelled" for a rollback).
using BlockTransitionFn =
    std::function<void(uint64_t id, const std::string& from, const std::string& to, bool cancelled)>;

struct BlockWalkOptions {
  // Offlining a busy block (pages the kernel cannot migrate yet) is retried
  // with doubling delays, first_delay up to max_delay, for at most timeout.
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds first_delay{10};
  std::chrono::milliseconds max_delay{500};
  std::function<void(std::chrono::milliseconds)> sleep;  // default: this_thread::sleep_for
};

// Onlines every offline block of `blocks` (movable: into ZONE_MOVABLE). If one
// fails, the blocks this call onlined are offlined again (rolled_back).
MemoryOpResult OnlineBlocks(const std::string& chardev, const std::vector<MemoryBlock>& blocks, bool movable,
                            const BlockStateWriter& write, const BlockTransitionFn& on_transition);

// Offlines every online block, retrying busy ones (see BlockWalkOptions). If
// one still fails, the blocks this call offlined are onlined again into the
// zone they were in (rolled_back), so the device ends as it started.
MemoryOpResult OfflineBlocks(const std::string& chardev, const std::vector<MemoryBlock>& blocks,
                             const BlockStateWriter& write, const BlockTransitionFn& on_transition,
                             const BlockWalkOptions& options = {});

}  // namespace pmemd::sysfs
