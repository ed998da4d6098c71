// Argument parsing shared by pmemctl commands: flags with values, sizes
// with ndctl's suffixes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pmemd/status.h"

namespace pmemctl {

// "1G" -> 1073741824; K, M, G, T (powers of 1024), optional "iB"/"B";
// plain digits are bytes. Errors say what a size looks like.
pmemd::Result<uint64_t> ParseSize(const std::string& text);

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
