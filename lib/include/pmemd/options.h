// Command-line options from one table: pmemctl's commands, pmemd and the
// pmemd-bench commands each declare their options once (short and long
// name, argument, one line of help) and everything else follows from the
// table: the parsing (glibc's getopt_long, so `-r0`, `-r 0`, `--region=0`,
// `--region 0`, combined short switches `-NR` and `--` behave as in ndctl
// and every GNU tool), the help text, the man pages and the shell
// completion.
//
// Thread safety: ParseOptions uses getopt_long, whose state is global: call
// it from one thread at a time (main, a test). The rest are pure functions.
#pragma once

#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "pmemd/status.h"

namespace pmemd {

// What an option's argument (or a positional target) is, for help and man
// pages (the metavar shown when OptionSpec::metavar is empty) and for shell
// completion, which completes the live kinds with names asked of the daemon.
enum class ArgKind {
  kNone,       // a switch: no argument
  kText,       // anything
  kNumber,     // an integer
  kSize,       // bytes, with ndctl's K/M/G/T suffixes
  kPath,       // a file (completed by the shell)
  kRegion,     // live names, completed from the daemon
  kNamespace,
  kDaxDevice,
  kPool,
  kLease,
};

// "region", "namespace", ... for the live kinds; "" for the others.
const char* LiveKindName(ArgKind kind);

struct OptionSpec {
  char short_name = 0;      // 'r' for -r; 0 for none
  const char* long_name;    // "region" for --region (always present)
  const char* key;          // the name ParsedOptions files it under ("region", "dry_run")
  ArgKind arg = ArgKind::kNone;
  const char* help = "";    // one line: what it does, its default
  const char* metavar = ""; // "R" in "--region R"; "" = from `arg`
  // The usual values, for help (the metavar "fsdax|devdax" when metavar is
  // empty) and completion. Not enforced here: the owner of the value (the
  // daemon) checks it, with a message that says what is accepted.
  std::vector<std::string> choices = {};
  bool required = false;    // shown outside brackets; the command checks it
  bool hidden = false;      // accepted, but left out of help, man and completion
};

// A positional argument: "NAMESPACE", one or more; "POOL", optional.
struct PositionalSpec {
  const char* name;         // "NAMESPACE"
  ArgKind kind = ArgKind::kText;
  const char* help = "";
  bool optional = false;
  bool repeats = false;     // "NAMESPACE..."
};

// The metavar of an option: spec.metavar, else its choices ("fsdax|devdax"),
// else by kind ("SIZE", "N", "PATH", ...).
std::string Metavar(const OptionSpec& spec);

struct ParsedOptions {
  // Every value given, in order: an option given twice has two (the
  // commands that take one use the last, as getopt's users do).
  std::map<std::string, std::vector<std::string>> values;
  std::set<std::string> switches;
  std::vector<std::string> positional;

  bool Has(const std::string& key) const { return values.count(key) > 0 || switches.count(key) > 0; }
  // The last value of `key`, or "" when it was not given.
  std::string Get(const std::string& key) const;
};

enum class PositionalMode {
  kAnywhere,    // options and positionals mix (GNU permutation); "--" ends options
  kStopAtFirst, // the first positional ends the options: for options before a verb
};

// Parses `args` (without the program name) against `specs`. Errors are
// kInvalidArgument naming the option as given and what it needs:
// "unknown option '--bogus'", "option '--size' needs a value (SIZE)",
// "option '--dry-run' takes no value". With kStopAtFirst, `positional` holds the first positional and
// everything after it, untouched.
Result<ParsedOptions> ParseOptions(std::span<const OptionSpec> specs, const std::vector<std::string>& args,
                                   PositionalMode mode = PositionalMode::kAnywhere);

// "  -s, --size=SIZE        help" lines, one per visible option, aligned.
std::string OptionHelp(std::span<const OptionSpec> specs);
// "[-s SIZE] --region R ..." for a usage line: required options as
// "--region R", the others in brackets.
std::string OptionSynopsis(std::span<const OptionSpec> specs);

}  // namespace pmemd
