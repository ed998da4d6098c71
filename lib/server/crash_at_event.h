// A test-only fault injection for crash tests of multi-step platform
// operations: when PMEMD_TEST_CRASH_AT_EVENT=KIND:TO:N is set, pmemd kills
// itself with SIGKILL as it publishes the Nth event of KIND entering state
// TO ("memory_block:going-offline:3": during an offline-memory, right after
// its third block started going offline). A kill so lands inside the
// operation by construction, whatever the machine's speed
// (tests/vm/scenarios/pmemd_restart.sh). The pool's persist-step
// counterpart is lib/include/pmemd/crash_hook.h.
//
// Unset (always, outside tests), nothing is subscribed.
#pragma once

#include <optional>

#include "pmemd/events.h"
#include "pmemd/status.h"

namespace pmemd {

inline constexpr const char* kCrashAtEventEnv = "PMEMD_TEST_CRASH_AT_EVENT";

// A subscription that kills the process at the event the environment names,
// or nullopt when the variable is unset; kInvalidArgument when it is not
// KIND:TO:N with N a positive integer.
Result<std::optional<EventBus::Subscription>> CrashAtEventFromEnvironment(EventBus* bus);

}  // namespace pmemd
