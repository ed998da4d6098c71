// The ndctl platform's DIMM health: libndctl's SMART and SMART threshold
// commands into the model (as ndctl list -DH reads them, util/json-smart.c),
// and the kernel's DIMM health notifications.
//
// Thread safety: ReadHealth uses only the context it is given (borrowed,
// single-threaded); the caller serializes firmware commands. A notifier
// owns a context of its own; Wait from one thread, Interrupt from any.
#pragma once

#include <ndctl/libndctl.h>

#include <memory>
#include <optional>
#include <string>

#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd::nd {

// Every DIMM of every bus in `ctx`. A DIMM without the SMART command (QEMU's
// NVDIMM: its _DSM offers only the label functions) maps to nullopt; one
// whose command fails maps to health_state "unknown" (ndctl prints the
// same), with the failure logged.
DimmHealthMap ReadHealth(ndctl_ctx* ctx);

// Polls every DIMM's health event fd (ndctl_dimm_get_health_eventfd: the
// DIMM's nfit "flags" attribute, which the kernel notifies on an ACPI
// health event) for POLLPRI, as ndctl monitor does. kUnavailable when no
// context can be had; DIMMs without the fd are watched by the interval only.
Result<std::shared_ptr<HealthNotifier>> OpenNdctlHealthNotifier();

}  // namespace pmemd::nd
