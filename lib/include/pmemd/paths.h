// Where pmemd listens and keeps state when nothing says otherwise. In base
// because both ends need the socket's default: the daemon (config.h's
// DefaultConfig) and pmemctl, which links no daemon code.
//
// Thread safety: pure functions of the effective uid and the environment.
#pragma once

#include <string>

namespace pmemd {

// The system paths for root (/run/pmemd/pmemd.sock, /var/lib/pmemd), per-user
// ones otherwise ($XDG_RUNTIME_DIR/pmemd/pmemd.sock or
// /tmp/pmemd-<uid>/pmemd.sock; $XDG_STATE_HOME/pmemd or ~/.local/state/pmemd).
std::string DefaultSocketPath();
std::string DefaultStateDir();

}  // namespace pmemd
