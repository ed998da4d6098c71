// A test-only fault injection for whole-process crash tests: when the
// environment variable PMEMD_TEST_CRASH_AT_PERSIST=N is set, the pmemd
// process kills itself with SIGKILL right after the Nth pool persist step
// it makes (counting every pool, from start-up: format, attach, replay,
// checkpoints, log appends). A crash test so lands inside an operation, or
// inside recovery, by construction, whatever the machine's speed.
//
// Unset (always, outside tests), the daemon runs without pool hooks.
//
// Thread safety: the hook may be called from any thread.
#pragma once

#include "pmemd/pool.h"

namespace pmemd {

inline constexpr const char* kCrashAtPersistEnv = "PMEMD_TEST_CRASH_AT_PERSIST";

// nullptr unless the environment asks for a crash; then a process-wide
// hook. kInvalidArgument when the variable is not a positive integer.
Result<PoolHooks*> CrashHookFromEnvironment();

}  // namespace pmemd
