// A test-only fault injection for whole-process crash tests: when the
// environment variable PMEMD_TEST_CRASH_AT_PERSIST is set, the pmemd
// process kills itself with SIGKILL
//   - N:      right after the Nth pool persist step it makes (counting every
//             pool, from start-up: format, attach, replay, checkpoints, log
//             appends, the seal at detach);
//   - STEP:N: right after the Nth persist step or milestone (PoolHooks) of
//             that name, e.g. "memmap-seal:1" inside a clean detach,
//             "memmap-filled:1" inside a rebuild of a dev pool's array.
// A crash test so lands inside an operation, inside recovery or inside a
// detach by construction, whatever the machine's speed.
//
// Unset (always, outside tests), the daemon runs without pool hooks.
//
// Thread safety: the hook may be called from any thread.
#pragma once

#include "pmemd/pool.h"

namespace pmemd {

inline constexpr const char* kCrashAtPersistEnv = "PMEMD_TEST_CRASH_AT_PERSIST";

// nullptr unless the environment asks for a crash; then a process-wide
// hook. kInvalidArgument when the variable is neither N nor STEP:N with N a
// positive integer.
Result<PoolHooks*> CrashHookFromEnvironment();

}  // namespace pmemd
