// list, version, list-methods, metrics.
#include "cli.h"
#include "render.h"

namespace pmemctl {

using nlohmann::json;

namespace {

int List(Invocation& inv) {
  if (!inv.opts.positional.empty()) return UsageError("list", "unexpected argument '" + inv.opts.positional[0] + "'");
  json params = json::object();
  for (const char* k : {"buses", "dimms", "regions", "namespaces", "devices", "memory_blocks", "health"})
    if (inv.opts.switches.count(k)) params[k] = true;
  if (inv.opts.Has("region")) params["region"] = inv.opts.Get("region");
  auto r = inv.call("list", params);
  if (!r.ok()) return -1;
  Print(inv, *r, RenderList);
  return kExitOk;
}

int Version(Invocation& inv) {
  if (!inv.opts.positional.empty()) return UsageError("version", "takes no arguments");
  auto r = inv.call("version", json::object());
  if (!r.ok()) return -1;
  Print(inv, *r, RenderVersion);
  return kExitOk;
}

int ListMethods(Invocation& inv) {
  if (!inv.opts.positional.empty()) return UsageError("list-methods", "takes no arguments");
  auto r = inv.call("list-methods", json::object());
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : Field(j, "methods"))
      rows.push_back({Field(m, "name"), Field(m, "access"), Field(m, "summary")});
    return Table({"METHOD", "ACCESS", "SUMMARY"}, rows);
  });
  return kExitOk;
}

// The Prometheus text as it is (a scrape without an HTTP listener); --json
// gives the method's object.
int Metrics(Invocation& inv) {
  if (!inv.opts.positional.empty()) return UsageError("metrics", "takes no arguments");
  auto r = inv.call("metrics", json::object());
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return Field(j, "text").get<std::string>(); });
  return kExitOk;
}

}  // namespace

std::vector<Command> ListCommands() {
  using pmemd::ArgKind;
  return {
      {"list", "List pmem objects (default: regions, namespaces, devices, memory blocks)", {},
       {{'B', "buses", "buses", ArgKind::kNone, "list the nvdimm buses"},
        {'D', "dimms", "dimms", ArgKind::kNone, "list the DIMMs (nmems)"},
        {'R', "regions", "regions", ArgKind::kNone, "list the regions"},
        {'N', "namespaces", "namespaces", ArgKind::kNone, "list the namespaces"},
        {'X', "devices", "devices", ArgKind::kNone, "list the dax devices"},
        {'M', "memory-blocks", "memory_blocks", ArgKind::kNone, "list the memory blocks of system-ram dax devices"},
        {'H', "health", "health", ArgKind::kNone, "the DIMMs with their whole SMART health (implies -D)"},
        {'r', "region", "region", ArgKind::kRegion, "only this region's objects (region0 or 0)"}},
       List,
       "Lists the objects pmemd manages, as ndctl list and daxctl list do. With no selection it lists "
       "regions, namespaces, dax devices and memory blocks; with one or more of -B, -D, -R, -N, -X, -M "
       "only those kinds. -H (--health) shows each DIMM's SMART health, as ndctl list -DH: state, "
       "temperatures and their alarm thresholds, spares, life used, shutdown state and count."},
      {"version", "Show the daemon's version, API version and platform", {}, {}, Version},
      {"list-methods", "List the daemon's JSON-RPC methods", {}, {}, ListMethods},
      {"metrics", "Print the daemon's Prometheus metrics (text format 0.0.4)", {}, {}, Metrics,
       "Prints what GET /metrics of the daemon's metrics_listen serves, without an HTTP listener: "
       "region, namespace, memory block, pool, lease and DIMM health gauges, request counters and "
       "latencies (docs/api.md, metrics). With --json, the method's object: content_type and text."},
  };
}

}  // namespace pmemctl
