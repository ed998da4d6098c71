// The JSON-RPC methods pmemd serves, registered by area.
//
// Each Register* function adds one area's methods to a Registry; the
// objects they use must outlive the registry. The methods themselves are
// thin: they read params with JsonReader, call lib/, render with
// platform_json.h. docs/api.md documents every one of them.
#pragma once

#include <string>

#include "pmemd/platform.h"
#include "pmemd/rpc.h"

namespace pmemd {

struct DaemonInfo {
  std::string version = PMEMD_VERSION;
  std::string api_version = PMEMD_API_VERSION;
  std::string platform_kind;
  std::string socket_path;
  std::string state_dir;
};

// version
Status RegisterDaemonMethods(Registry* registry, const DaemonInfo& info);
// list
Status RegisterPlatformMethods(Registry* registry, Platform* platform);

}  // namespace pmemd
