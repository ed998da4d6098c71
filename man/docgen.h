// pmemd-docgen: the man pages pmemctl(8), pmemd(8), pmemd.json(5) and the
// bash completion for pmemctl, rendered from the tables the programs
// themselves use: pmemctl's command table (ctl/cli.h), pmemd's option
// table (DaemonOptions) and the config schema (pmemd/config_schema.h). The
// build runs pmemd-docgen, so a page cannot drift from the code.
//
// Thread safety: pure functions.
#pragma once

#include <string>

namespace pmemd::docgen {

std::string PmemctlManPage();   // pmemctl.8
std::string PmemdManPage();     // pmemd.8
std::string ConfigManPage();    // pmemd.json.5
std::string PmemctlCompletion();  // bash: complete -F _pmemctl pmemctl

}  // namespace pmemd::docgen
