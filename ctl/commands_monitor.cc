// monitor: the daemon's event stream (subscribe, docs/events.md), one line
// per event, as `ndctl monitor` prints DIMM events: JSON lines with --json,
// else "TIME KIND OBJECT: FROM -> TO [by METHOD (uid U pid P)]". Lost events
// (missed, dropped) are their own JSON lines, or warnings on stderr. It
// runs until the daemon stops (exit 0 after its stopping event) or the
// stream breaks (exit 3).
#include <algorithm>
#include <cstdio>
#include <optional>

#include "args.h"
#include "cli.h"
#include "pmemd/text.h"

namespace pmemctl {

using nlohmann::json;

namespace {

json SplitList(const std::string& text) {
  json out = json::array();
  for (size_t pos = 0; pos <= text.size();) {
    size_t comma = std::min(text.find(',', pos), text.size());
    if (comma > pos) out.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

std::string State(const json& e, const char* k) {
  const std::string s = e.value(k, std::string());
  return s.empty() ? "(none)" : s;
}

std::string HumanEvent(const json& e) {
  std::string line = e.value("time", std::string()) + " " + e.value("kind", std::string()) + " " +
                     e.value("object", std::string()) + ": " + State(e, "from") + " -> " + State(e, "to");
  if (e.contains("detail") && e["detail"].is_object() && e["detail"].value("source", "") == "external")
    line += " (external)";
  if (e.contains("request") && e["request"].is_object()) {
    const json& r = e["request"];
    line += " by " + r.value("method", std::string("?")) + " (uid " + std::to_string(r.value("uid", -1)) + " pid " +
            std::to_string(r.value("pid", -1)) + ")";
  }
  return line;
}

int Monitor(Invocation& inv) {
  const auto& p = inv.opts;
  if (!p.positional.empty()) return UsageError("monitor", "unexpected argument '" + p.positional[0] + "'");
  json params = json::object();
  if (p.Has("kind")) params["kinds"] = SplitList(p.Get("kind"));
  if (p.Has("object")) params["objects"] = SplitList(p.Get("object"));
  if (p.Has("since")) {
    const std::optional<uint64_t> since = pmemd::ParseDecimal(p.Get("since"));
    if (!since) return UsageError("monitor", "--since: '" + p.Get("since") + "' is not an event sequence number");
    params["since"] = *since;
  }
  pmemd::Client* client = inv.client();
  if (client == nullptr) return -1;
  auto subscribed = client->Subscribe(params);
  if (!subscribed.ok()) {
    inv.error = client->last_error().is_object() ? client->last_error() : ErrorObject(subscribed.status());
    inv.failure = subscribed.status().code() == pmemd::Code::kUnavailable ? kExitUnreachable : kExitFailed;
    return -1;
  }
  bool stopping = false;
  for (;;) {
    auto next = client->NextNotification(-1);
    if (!next.ok()) {
      if (stopping) return kExitOk;  // the daemon said it stops, then closed
      std::fprintf(stderr, "pmemctl monitor: %s\n", next.status().message().c_str());
      return kExitUnreachable;
    }
    if (!*next) continue;
    const json& note = **next;
    const std::string method = note.value("method", std::string());
    const json params_of = note.contains("params") ? note["params"] : json::object();
    if (method == "event") {
      if (params_of.value("kind", "") == "daemon" && params_of.value("to", "") == "stopping") stopping = true;
      std::printf("%s\n", (inv.global.json ? pmemd::DumpJson(params_of) : HumanEvent(params_of)).c_str());
    } else if (inv.global.json) {
      std::printf("%s\n", pmemd::DumpJson(params_of).c_str());
    } else {
      std::fprintf(stderr, "pmemctl monitor: %s: %s\n", method.c_str(), pmemd::DumpJson(params_of).c_str());
    }
    std::fflush(stdout);
  }
}

}  // namespace

std::vector<Command> MonitorCommands() {
  using pmemd::ArgKind;
  return {
      {"monitor", "Print the daemon's events as they happen (JSON lines with --json)", {},
       {{'k', "kind", "kind", ArgKind::kText,
         "only these kinds, comma-separated: daemon, namespace, dax_device, memory_block, pool, pool_block, lease"},
        {'o', "object", "object", ArgKind::kText, "only these objects, comma-separated (namespace0.0, pool:p0, ...)"},
        {0, "since", "since", ArgKind::kNumber,
         "first replay the events after this sequence number that the daemon still holds"}},
       Monitor,
       "Subscribes to the daemon's event stream and prints every state change: namespaces, dax devices, "
       "memory blocks, pools, pool blocks and leases, with the request that caused each. Events lost "
       "because the daemon no longer held them (--since) or because the monitor did not keep up are "
       "reported as missed or dropped. Runs until the daemon stops (exit 0) or the stream breaks (exit 3)."},
  };
}

}  // namespace pmemctl
