// kmem on the real kernel: a dax device becomes system RAM (its memory
// blocks hot-added, then onlined by the walker in memory_blocks.h) or goes
// back to devdax, the way daxctl v76 does it (daxctl/device.c).
//
// Thread safety: each function works on the objects of one context
// (borrowed, owned by the caller, single-threaded); callers serialize
// changes to one device. `events` is borrowed and may be null.
#pragma once

#include <daxctl/libdaxctl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "platform/memory_blocks.h"
#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd::nd {

struct KmemEnv {
  std::string sysfs_root;
  EventBus* events = nullptr;  // borrowed from NdctlPlatform (may be null)
  std::shared_ptr<spdlog::logger> log;
  ProgressFn progress;  // hears of the blocks onlined (may be empty)
};

// The memory blocks (whole, aligned) that hold a dax device's range, with
// their current state; also the block size and auto-online policy if asked.
Result<std::vector<MemoryBlock>> DaxBlocks(daxctl_dev* dev, const std::string& sysfs_root, uint64_t* block_size,
                                          std::string* auto_online);

// devdax -> system-ram: kmem binds, then (online) every block is onlined,
// movable or not. Publishes the dax_device event and one memory_block event
// per block with where it ended.
Status ToSystemRam(daxctl_dev* dev, const std::string& chardev, bool online, bool movable, const KmemEnv& env,
                   std::chrono::steady_clock::time_point t0);

// system-ram -> devdax: refused (kBusy) while any block is not offline.
Status ToDevdax(daxctl_dev* dev, const std::string& chardev, const KmemEnv& env,
                std::chrono::steady_clock::time_point t0);

}  // namespace pmemd::nd
