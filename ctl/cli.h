// pmemctl's command table and the conventions every command shares.
//
// One table (ndctl's habit): each command has its name, a summary, its
// positional targets and its options (pmemd/options.h), and one function.
// Everything else is derived from it: parsing (getopt_long), `--help`,
// the man page pmemctl(8) and the bash completion (both generated at build
// time by man/pmemd_docgen.cc).
//
// Exit codes (kExitCodes, shown by --help and the man page): 0 ok, 1 the
// operation failed, 2 usage error, 3 daemon unreachable. Each failure prints
// one line on stderr naming cause and fix; with --json the JSON-RPC error
// object ({code, message, data: {code, errno, ...}}) is also printed on
// stdout.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/client.h"
#include "pmemd/options.h"

namespace pmemctl {

enum ExitCode { kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitUnreachable = 3 };

struct ExitCodeDoc {
  int code;
  const char* meaning;
};
extern const std::vector<ExitCodeDoc> kExitCodes;

struct GlobalOptions {
  std::string socket;        // --socket; "" = try SocketCandidates() in turn
  bool json = false;         // --json; default: human on a terminal, JSON otherwise
  // --timeout: seconds to wait for an answer; 0 (the default) waits as long
  // as the daemon works on the request (it bounds its own operations:
  // offline-memory has a deadline, online-blocks of 2047 blocks takes 30 s).
  int timeout_s = 0;
};

// The sockets a client tries when --socket is not given, in order, each
// with where it comes from: $PMEMD_SOCKET, the per-user socket (not for
// root), /run/pmemd/pmemd.sock. Duplicates are dropped.
struct SocketCandidate {
  std::string path;
  std::string origin;  // "$PMEMD_SOCKET", "per-user", "system"
};
std::vector<SocketCandidate> SocketCandidates();

// Connects to the first candidate that answers; the error names every one
// tried and why each failed (kUnavailable, or the one failure when a single
// socket was named).
pmemd::Result<pmemd::Client> ConnectAny(const std::vector<SocketCandidate>& candidates, std::string* used,
                                        int timeout_s = 0);

// The JSON-RPC error object for a failure that did not come from the
// daemon (or whose raw object is lost): {code, message, data: {code, errno}}.
nlohmann::json ErrorObject(const pmemd::Status& status);

// What a command needs: its arguments, parsed, and a way to call the daemon.
struct Invocation {
  GlobalOptions global;
  std::vector<std::string> args;  // after the verb, as given
  pmemd::ParsedOptions opts;      // args parsed against the command's table (Command::Run)
  // Calls a method. On failure it prints nothing: it records the error
  // (error, failure) for Report, so that a command that goes on (several
  // targets) can decide what to say.
  std::function<pmemd::Result<nlohmann::json>(const std::string&, const nlohmann::json&)> call;
  // The connection `call` uses, connecting first if needed (monitor streams
  // on it); nullptr when no daemon answered (error and failure are set).
  std::function<pmemd::Client*()> client;
  // Set by a command before a call to a method that reports progress: the
  // bar's label ("online-blocks pool0"). On a terminal's stderr, and not
  // with --json, `call` then asks for progress and draws it (progress_bar.h).
  std::string progress_label;
  nlohmann::json error;           // the last call's error object (null when none)
  int failure = kExitFailed;      // the exit code the last failure calls for
};

struct Command {
  const char* name;
  const char* summary;  // one line
  std::vector<pmemd::PositionalSpec> targets;
  std::vector<pmemd::OptionSpec> options;  // the command's own; CommonOptions() are added
  std::function<int(Invocation&)> handler;  // returns an exit code, or -1: "report inv.error"
  const char* description = "";  // a paragraph for the man page; "" = the summary

  // Parses inv.args (the command's options and CommonOptions()), answers
  // --help, then runs the handler; returns the exit code to use, -1 when
  // the handler leaves the report of a failed call to the caller.
  int Run(Invocation& inv) const;
  // Every option it accepts: its own, then CommonOptions().
  std::vector<pmemd::OptionSpec> AllOptions() const;
  // "create-namespace --region R [options]" (without "pmemctl ").
  std::string Synopsis() const;
  // The text of `pmemctl <name> --help`.
  std::string Help() const;
};

const std::vector<Command>& Commands();
const Command* FindCommand(const std::string& name);
// --json, --human, --help: accepted by every command.
const std::vector<pmemd::OptionSpec>& CommonOptions();
// pmemctl's own options, before the command (hidden ones included).
const std::vector<pmemd::OptionSpec>& GlobalOptionSpecs();

// Whether output is JSON after `args` (as given, unparsed: for an error
// found while parsing them): the last of --json/--human, else `dflt`.
bool JsonAfter(const std::vector<std::string>& args, bool dflt);
// The same from parsed options (abbreviations included); the last one
// given wins when both are.
bool JsonAfter(const pmemd::ParsedOptions& parsed, const std::vector<std::string>& args, bool dflt);

// Prints `message` as "pmemctl <verb>: message" and returns kExitUsage.
// With --json (as the command saw it) the error object goes to stdout too.
int UsageError(const std::string& verb, const std::string& message);
int UsageError(const std::string& verb, const std::string& message, bool json);
// Prints the result as JSON or by `human`.
void Print(const Invocation& inv, const nlohmann::json& result,
           const std::function<std::string(const nlohmann::json&)>& human);
// Prints inv.error: one line on stderr, and with --json the object on stdout.
void Report(const Invocation& inv, const std::string& verb);

}  // namespace pmemctl
