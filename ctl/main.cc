// pmemctl: the command-line client of pmemd. One command table, one
// function per command (ndctl's habit); JSON for scripts, tables for people.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "cli.h"
#include "progress_bar.h"
#include "pmemd/size.h"
#include "pmemd/text.h"

namespace pmemctl {

namespace {

using nlohmann::json;

void Usage(FILE* out) {
  std::fprintf(out,
               "usage: pmemctl [options] <command> [arguments] [command options]\n"
               "       pmemctl <command> --help     (a command's arguments and options)\n\n"
               "Output is a table on a terminal and JSON otherwise; --json/--human choose.\n"
               "Options may come before or after a command's arguments; -r0, -r 0,\n"
               "--region=0 and --region 0 are the same, and -- ends the options.\n\n"
               "options:\n%s\ncommands:\n",
               pmemd::OptionHelp(GlobalOptionSpecs()).c_str());
  for (const auto& c : Commands()) std::fprintf(out, "  %-22s %s\n", c.name, c.summary);
  std::fprintf(out, "\nexit codes:\n");
  for (const auto& e : kExitCodes) std::fprintf(out, "  %d  %s\n", e.code, e.meaning);
  std::fprintf(out, "\nSee pmemctl(8).\n");
}

// The sockets to try: --socket alone when given.
std::vector<SocketCandidate> Candidates(const GlobalOptions& g) {
  if (!g.socket.empty()) return {{g.socket, "--socket"}};
  return SocketCandidates();
}

// pmemctl --version: the client's version, and the daemon's when it answers.
int Version(const GlobalOptions& g) {
  std::string used;
  auto client = ConnectAny(Candidates(g), &used, g.timeout_s ? g.timeout_s : 5);  // a courtesy call: never hang
  pmemd::Result<json> daemon = client.ok() ? client->Call("version") : pmemd::Result<json>(client.status());
  if (g.json) {
    json out = {{"pmemctl", {{"version", PMEMD_VERSION}, {"api_version", PMEMD_API_VERSION}}}};
    if (daemon.ok())
      out["pmemd"] = *daemon;
    else
      out["pmemd_error"] = ErrorObject(daemon.status());
    std::cout << pmemd::DumpJson(out, 2) << "\n";
    return kExitOk;
  }
  std::printf("pmemctl %s (API %s)\n", PMEMD_VERSION, PMEMD_API_VERSION);
  if (daemon.ok())
    std::printf("pmemd %s (API %s) at %s\n", daemon->value("version", std::string("?")).c_str(),
                daemon->value("api_version", std::string("?")).c_str(), used.c_str());
  else
    std::printf("pmemd: not reachable: %s\n", daemon.status().message().c_str());
  return kExitOk;
}

// pmemctl --complete-names KIND [POOL]: live names for the bash completion,
// one per line; nothing (and 0) when the daemon does not answer.
int CompleteNames(const GlobalOptions& g, const std::string& kind, const std::vector<std::string>& rest) {
  std::string used;
  auto client = ConnectAny(Candidates(g), &used, g.timeout_s ? g.timeout_s : 5);  // a courtesy call: never hang
  if (!client.ok()) return kExitOk;
  auto names = [](const json& items, const char* key) {
    if (!items.is_array()) return;
    for (const auto& i : items)
      if (i.is_object() && i.contains(key) && i[key].is_string()) std::printf("%s\n", i[key].get<std::string>().c_str());
  };
  if (kind == "region" || kind == "namespace" || kind == "dax") {
    auto r = client->Call("list", json::object());
    if (!r.ok()) return kExitOk;
    if (kind == "region") names((*r)["regions"], "dev");
    if (kind == "namespace") names((*r)["namespaces"], "dev");
    if (kind == "dax") names((*r)["devices"], "chardev");
  } else if (kind == "pool") {
    auto r = client->Call("list-pools", json::object());
    if (r.ok()) names((*r)["pools"], "name");
  } else if (kind == "lease") {
    json params = json::object();
    if (!rest.empty()) params["pool"] = rest[0];
    auto r = client->Call("list-leases", params);
    if (r.ok()) names((*r)["leases"], "name");
  } else {
    return UsageError("", "--complete-names takes region, namespace, dax, pool or lease");
  }
  return kExitOk;
}

int Main(int argc, char** argv) {
  GlobalOptions g;
  g.json = !::isatty(STDOUT_FILENO);
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto p = pmemd::ParseOptions(GlobalOptionSpecs(), args, pmemd::PositionalMode::kStopAtFirst);
  if (!p.ok()) return UsageError("", p.status().message(), JsonAfter(args, g.json));
  g.json = JsonAfter(*p, args, g.json);
  g.socket = p->Get("socket");
  if (p->Has("timeout")) {
    const std::optional<uint64_t> t = pmemd::ParseDecimal(p->Get("timeout"), 86400);
    if (!t)
      return UsageError("", "--timeout: '" + p->Get("timeout") + "' is not a number of seconds between 0 and 86400",
                        JsonAfter(args, g.json));
    g.timeout_s = static_cast<int>(*t);
  }
  if (p->switches.count("help")) {
    Usage(stdout);
    return kExitOk;
  }
  if (p->switches.count("version")) return Version(g);
  if (p->Has("complete_names")) return CompleteNames(g, p->Get("complete_names"), p->positional);
  if (p->positional.empty()) {
    Usage(stderr);
    return kExitUsage;
  }
  std::string verb = p->positional[0];
  const Command* cmd = FindCommand(verb);
  if (cmd == nullptr) return UsageError(verb, "unknown command", JsonAfter(p->positional, g.json));

  Invocation inv;
  inv.global = g;
  inv.args.assign(p->positional.begin() + 1, p->positional.end());
  std::optional<pmemd::Client> client;
  std::vector<SocketCandidate> candidates = Candidates(g);
  inv.client = [&]() -> pmemd::Client* {
    if (!client) {
      std::string used;
      auto c = ConnectAny(candidates, &used, g.timeout_s);
      if (!c.ok()) {
        inv.error = ErrorObject(c.status());
        inv.failure = kExitUnreachable;
        return nullptr;
      }
      client.emplace(std::move(*c));
    }
    return &*client;
  };
  inv.call = [&](const std::string& method, const json& params) -> pmemd::Result<json> {
    inv.error = nullptr;
    if (inv.client() == nullptr) return pmemd::Status(pmemd::Code::kUnavailable, inv.error.value("message", ""));
    // A bar only for people watching: never with --json, never into a pipe.
    std::optional<ProgressBar> bar;
    pmemd::ProgressFn on_progress;
    if (!inv.progress_label.empty() && !inv.global.json && ::isatty(STDERR_FILENO)) {
      bar.emplace(stderr, inv.progress_label);
      on_progress = [&bar](const pmemd::ProgressStep& step) { bar->Update(step); };
    }
    auto r = client->Call(method, params, on_progress);
    bar.reset();  // erased before anything is printed
    if (!r.ok()) {
      inv.error = client->last_error().is_object() ? client->last_error() : ErrorObject(r.status());
      inv.failure = r.status().code() == pmemd::Code::kUnavailable ? kExitUnreachable : kExitFailed;
    }
    return r;
  };
  int rc = cmd->Run(inv);
  if (rc >= 0) return rc;
  Report(inv, verb);
  return inv.failure;
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
