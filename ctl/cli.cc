// The command table and the helpers every command shares (cli.h).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli.h"
#include "pmemd/paths.h"
#include "pmemd/text.h"

namespace pmemctl {

using nlohmann::json;
using pmemd::ArgKind;

std::vector<Command> ListCommands();
std::vector<Command> NamespaceCommands();
std::vector<Command> PoolCommands();
std::vector<Command> MonitorCommands();
std::vector<Command> LayoutCommands();

const std::vector<ExitCodeDoc> kExitCodes = {
    {kExitOk, "success"},
    {kExitFailed, "the daemon refused or failed the operation (for several targets: at least one failed)"},
    {kExitUsage, "usage error: an unknown command or option, a missing or malformed argument"},
    {kExitUnreachable, "the daemon could not be reached on any socket tried"},
};

namespace {

// Set by Command::Run: usage errors then also go to stdout as JSON.
bool g_json_errors = false;

}  // namespace

const std::vector<Command>& Commands() {
  static const std::vector<Command> all = [] {
    std::vector<Command> v;
    for (auto& c : ListCommands()) v.push_back(c);
    for (auto& c : NamespaceCommands()) v.push_back(c);
    for (auto& c : PoolCommands()) v.push_back(c);
    for (auto& c : LayoutCommands()) v.push_back(c);
    for (auto& c : MonitorCommands()) v.push_back(c);
    return v;
  }();
  return all;
}

const Command* FindCommand(const std::string& name) {
  for (const auto& c : Commands())
    if (name == c.name) return &c;
  return nullptr;
}

const std::vector<pmemd::OptionSpec>& CommonOptions() {
  static const std::vector<pmemd::OptionSpec> common = {
      {0, "json", "json", ArgKind::kNone, "print the daemon's JSON (the default when stdout is not a terminal); "
                                          "errors too, as the JSON-RPC error object on stdout"},
      {0, "human", "human", ArgKind::kNone, "print tables and sizes for people (the default on a terminal)"},
      {'h', "help", "help", ArgKind::kNone, "show this command's usage and options"},
  };
  return common;
}

const std::vector<pmemd::OptionSpec>& GlobalOptionSpecs() {
  static const std::vector<pmemd::OptionSpec> global = {
      {0, "socket", "socket", ArgKind::kPath,
       "the daemon's socket; default: $PMEMD_SOCKET, then the per-user socket, then /run/pmemd/pmemd.sock"},
      {0, "json", "json", ArgKind::kNone, "print JSON, errors included (the default when stdout is not a terminal)"},
      {0, "timeout", "timeout", ArgKind::kNumber,
       "give up waiting for an answer after this many seconds (exit 3); default 0: wait while the daemon works",
       "SECONDS"},
      {0, "human", "human", ArgKind::kNone, "print tables (the default on a terminal)"},
      {0, "version", "version", ArgKind::kNone, "show pmemctl's version and, if reachable, the daemon's"},
      {'h', "help", "help", ArgKind::kNone, "show the commands, the exit codes and these options"},
      // For the bash completion: the live names of a kind, one per line.
      {0, "complete-names", "complete_names", ArgKind::kText, "print live names of KIND for completion", "KIND",
       {}, false, true},
  };
  return global;
}

std::vector<pmemd::OptionSpec> Command::AllOptions() const {
  std::vector<pmemd::OptionSpec> all = options;
  all.insert(all.end(), CommonOptions().begin(), CommonOptions().end());
  return all;
}

std::string Command::Synopsis() const {
  std::string s = name;
  std::string required;
  for (const auto& o : options)
    if (o.required && !o.hidden) {
      required += " --";
      required += o.long_name;
      required += ' ';
      required += pmemd::Metavar(o);
    }
  s += required;
  for (const auto& t : targets) {
    std::string n = std::string(t.name) + (t.repeats ? "..." : "");
    s += ' ';
    s += t.optional ? '[' + n + ']' : n;
  }
  return s + " [options]";
}

std::string Command::Help() const {
  std::string out = "usage: pmemctl " + Synopsis() + "\n\n" + summary + "\n";
  if (!targets.empty()) {
    out += "\n";
    for (const auto& t : targets) {
      std::string n = std::string(t.name) + (t.repeats ? "..." : "");
      out += "  " + n + std::string(n.size() < 14 ? 14 - n.size() : 1, ' ') + t.help + "\n";
    }
  }
  return out + "\noptions:\n" + pmemd::OptionHelp(AllOptions());
}

int Command::Run(Invocation& inv) const {
  auto p = pmemd::ParseOptions(AllOptions(), inv.args);
  if (!p.ok()) return UsageError(name, p.status().message(), JsonAfter(inv.args, inv.global.json));
  inv.opts = std::move(*p);
  inv.global.json = JsonAfter(inv.opts, inv.args, inv.global.json);
  g_json_errors = inv.global.json;
  if (inv.opts.switches.count("help")) {
    std::fputs(Help().c_str(), stdout);
    return kExitOk;
  }
  return handler(inv);
}

std::vector<SocketCandidate> SocketCandidates() {
  std::vector<SocketCandidate> out;
  auto add = [&](std::string path, std::string origin) {
    if (path.empty()) return;
    for (const auto& c : out)
      if (c.path == path) return;
    out.push_back({std::move(path), std::move(origin)});
  };
  if (const char* s = std::getenv("PMEMD_SOCKET"); s && *s) add(s, "$PMEMD_SOCKET");
  if (::geteuid() != 0) add(pmemd::DefaultSocketPath(), "per-user");
  add("/run/pmemd/pmemd.sock", "system");
  return out;
}

pmemd::Result<pmemd::Client> ConnectAny(const std::vector<SocketCandidate>& candidates, std::string* used,
                                        int timeout_s) {
  std::string tried;
  int first_errno = 0;
  for (const auto& c : candidates) {
    auto client = pmemd::Client::Connect(c.path, timeout_s * 1000);
    if (client.ok()) {
      *used = c.path;
      return client;
    }
    if (candidates.size() == 1) return client.status();
    int err = client.status().sys_errno();
    if (first_errno == 0) first_errno = err;
    std::string why = err == ENOENT         ? "no such file"
                      : err == ECONNREFUSED ? "connection refused"
                      : err == EACCES       ? "permission denied: join the socket's group"
                                            : client.status().message();
    tried += (tried.empty() ? "" : ", ") + c.path + " (" + c.origin + ": " + why + ")";
  }
  return pmemd::Status(pmemd::Code::kUnavailable,
                       "cannot connect to pmemd; tried " + tried +
                           "; is pmemd running? (systemctl status pmemd), or name its socket with --socket PATH",
                       first_errno);
}

json ErrorObject(const pmemd::Status& status) {
  json data = {{"code", std::string(pmemd::CodeName(status.code()))}};
  if (status.sys_errno() != 0) data["errno"] = status.sys_errno();
  return {{"code", pmemd::RpcErrorCode(status.code())}, {"message", status.message()}, {"data", data}};
}

bool JsonAfter(const std::vector<std::string>& args, bool dflt) {
  for (const auto& a : args) {
    if (a == "--") break;
    if (a == "--json") dflt = true;
    if (a == "--human") dflt = false;
  }
  return dflt;
}

bool JsonAfter(const pmemd::ParsedOptions& parsed, const std::vector<std::string>& args, bool dflt) {
  const bool json = parsed.switches.count("json") > 0, human = parsed.switches.count("human") > 0;
  if (json && human) return JsonAfter(args, dflt);
  return json ? true : human ? false : dflt;
}

int UsageError(const std::string& verb, const std::string& message) { return UsageError(verb, message, g_json_errors); }

int UsageError(const std::string& verb, const std::string& message, bool json) {
  std::string prefix = verb.empty() ? "pmemctl" : "pmemctl " + verb;
  std::fprintf(stderr, "%s: %s; see %s --help\n", prefix.c_str(), message.c_str(), prefix.c_str());
  if (json)
    std::cout << pmemd::DumpJson(ErrorObject(pmemd::Status::InvalidArgument(message)), 2) << "\n";
  return kExitUsage;
}

void Print(const Invocation& inv, const json& result, const std::function<std::string(const json&)>& human) {
  if (inv.global.json)
    std::cout << pmemd::DumpJson(result, 2) << "\n";
  else
    std::cout << human(result);
}

void Report(const Invocation& inv, const std::string& verb) {
  std::string message = inv.error.is_object() ? inv.error.value("message", std::string("unknown error")) : "failed";
  if (inv.failure == kExitUnreachable)
    std::fprintf(stderr, "pmemctl: %s\n", message.c_str());
  else
    std::fprintf(stderr, "pmemctl %s: %s\n", verb.c_str(), message.c_str());
  if (inv.global.json) std::cout << pmemd::DumpJson(inv.error, 2) << "\n";
}

}  // namespace pmemctl
