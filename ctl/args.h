// Argument parsing shared by pmemctl commands: flags with values, sizes
// with ndctl's suffixes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pmemd/size.h"
#include "pmemd/status.h"

namespace pmemctl {

// Sizes with ndctl's suffixes: the daemon's own parser (pmemd/size.h), so a
// size on the command line reads as it does in the configuration.
using pmemd::ParseSize;

// Splits args into --flag VALUE / --flag=VALUE options, boolean switches and
// positional arguments. `valued` and `switches` map every accepted spelling
// ("-s", "--size") to the canonical name ("size").
struct ParsedArgs {
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
  std::vector<std::string> positional;
};
pmemd::Result<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                    const std::map<std::string, std::string>& valued,
                                    const std::map<std::string, std::string>& switches);

}  // namespace pmemctl
