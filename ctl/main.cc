// pmemctl: the command-line client of pmemd. One command table, one
// function per command (ndctl's habit); JSON for scripts, tables for people.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "pmemd/paths.h"

namespace pmemctl {

namespace {

void Usage(FILE* out) {
  std::fprintf(out,
               "usage: pmemctl [--socket PATH] [--json|--human] <command> [args]\n\n"
               "The socket defaults to $PMEMD_SOCKET, else %s.\n"
               "Output is a table on a terminal and JSON otherwise; --json/--human choose.\n\n"
               "commands:\n",
               pmemd::DefaultSocketPath().c_str());
  for (const auto& c : Commands()) std::fprintf(out, "  %-14s %s\n  %-14s   %s\n", c.name, c.usage, "", c.summary);
}

int Main(int argc, char** argv) {
  GlobalOptions g;
  g.json = !::isatty(STDOUT_FILENO);
  if (const char* s = std::getenv("PMEMD_SOCKET"); s && *s) g.socket = s;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      Usage(stdout);
      return kExitOk;
    } else if (a == "--json") {
      g.json = true;
    } else if (a == "--human") {
      g.json = false;
    } else if (a == "--socket") {
      if (i + 1 >= argc) return UsageError("", "--socket needs a path");
      g.socket = argv[++i];
    } else if (a.starts_with("--socket=")) {
      g.socket = a.substr(9);
    } else if (a.starts_with("-")) {
      return UsageError("", "unknown option '" + a + "'");
    } else {
      break;
    }
  }
  if (i >= argc) {
    Usage(stderr);
    return kExitUsage;
  }
  std::string verb = argv[i++];
  const Command* cmd = nullptr;
  for (const auto& c : Commands())
    if (verb == c.name) cmd = &c;
  if (cmd == nullptr) return UsageError(verb, "unknown command");
  if (g.socket.empty()) g.socket = pmemd::DefaultSocketPath();

  Invocation inv;
  inv.global = g;
  // Arguments may also carry --json/--human after the verb.
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") inv.global.json = true;
    else if (a == "--human") inv.global.json = false;
    else inv.args.push_back(a);
  }
  for (const auto& a : inv.args)
    if (a == "--help" || a == "-h") {
      std::printf("usage: pmemctl %s %s\n  %s\n", cmd->name, cmd->usage, cmd->summary);
      return kExitOk;
    }
  int failure = kExitOk;
  std::optional<pmemd::Client> client;
  inv.call = [&](const std::string& method, const nlohmann::json& params) -> pmemd::Result<nlohmann::json> {
    if (!client) {
      auto c = pmemd::Client::Connect(inv.global.socket);
      if (!c.ok()) {
        std::fprintf(stderr, "pmemctl: %s\n", c.status().message().c_str());
        failure = kExitUnreachable;
        return c.status();
      }
      client.emplace(std::move(*c));
    }
    auto r = client->Call(method, params);
    if (!r.ok()) {
      std::fprintf(stderr, "pmemctl %s: %s\n", verb.c_str(), r.status().message().c_str());
      failure = r.status().code() == pmemd::Code::kUnavailable ? kExitUnreachable : kExitFailed;
    }
    return r;
  };
  int rc = cmd->run(inv);
  return rc < 0 ? failure : rc;
}

}  // namespace
}  // namespace pmemctl

int main(int argc, char** argv) {
  try {
    return pmemctl::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pmemctl: internal error: %s\n", e.what());
    return pmemctl::kExitFailed;
  }
}
