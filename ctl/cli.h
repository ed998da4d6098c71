// pmemctl's command table and the conventions every command shares.
//
// Exit codes: 0 ok, 1 the operation failed, 2 usage error, 3 daemon
// unreachable; each failure prints one line naming cause and fix.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/client.h"

namespace pmemctl {

enum ExitCode { kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitUnreachable = 3 };

struct GlobalOptions {
  std::string socket;  // --socket, else $PMEMD_SOCKET, else the daemon's default
  bool json = false;   // --json; default: human on a terminal, JSON otherwise
};

// What a command needs: its own arguments and a way to call the daemon.
struct Invocation {
  GlobalOptions global;
  std::vector<std::string> args;
  // Calls a method; on failure prints the error and returns the exit code.
  std::function<pmemd::Result<nlohmann::json>(const std::string&, const nlohmann::json&)> call;
};

struct Command {
  const char* name;
  const char* usage;    // arguments after the verb
  const char* summary;  // one line
  std::function<int(Invocation&)> run;
};

const std::vector<Command>& Commands();

// Prints `message` as "pmemctl <verb>: message" and returns kExitUsage.
int UsageError(const std::string& verb, const std::string& message);
// Prints the result as JSON or by `human`.
void Print(const Invocation& inv, const nlohmann::json& result,
           const std::function<std::string(const nlohmann::json&)>& human);

}  // namespace pmemctl
