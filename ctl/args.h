// Argument values shared by pmemctl commands: sizes with ndctl's suffixes.
// Options themselves are parsed from each command's table (cli.h,
// pmemd/options.h).
#pragma once

#include "pmemd/size.h"

namespace pmemctl {

// Sizes with ndctl's suffixes: the daemon's own parser (pmemd/size.h), so a
// size on the command line reads as it does in the configuration.
using pmemd::ParseSize;

}  // namespace pmemctl
