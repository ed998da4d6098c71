// list, version, list-methods.
#include "cli.h"
#include "render.h"

namespace pmemctl {

using nlohmann::json;

namespace {

int List(Invocation& inv) {
  json params = json::object();
  for (size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& a = inv.args[i];
    if (a == "--buses" || a == "-B") params["buses"] = true;
    else if (a == "--dimms" || a == "-D") params["dimms"] = true;
    else if (a == "--regions" || a == "-R") params["regions"] = true;
    else if (a == "--namespaces" || a == "-N") params["namespaces"] = true;
    else if (a == "--devices" || a == "-X") params["devices"] = true;
    else if (a == "--memory-blocks" || a == "-M") params["memory_blocks"] = true;
    else if (a == "--region" || a == "-r") {
      if (i + 1 >= inv.args.size()) return UsageError("list", "--region needs a region name, e.g. --region region0");
      params["region"] = inv.args[++i];
    } else if (a.starts_with("--region=")) {
      params["region"] = a.substr(9);
    } else {
      return UsageError("list", "unknown option '" + a + "'");
    }
  }
  auto r = inv.call("list", params);
  if (!r.ok()) return -1;
  Print(inv, *r, RenderList);
  return kExitOk;
}

int Version(Invocation& inv) {
  if (!inv.args.empty()) return UsageError("version", "takes no arguments");
  auto r = inv.call("version", json::object());
  if (!r.ok()) return -1;
  Print(inv, *r, RenderVersion);
  return kExitOk;
}

int ListMethods(Invocation& inv) {
  if (!inv.args.empty()) return UsageError("list-methods", "takes no arguments");
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

}  // namespace

std::vector<Command> ListCommands() {
  return {
      {"list",
       "[--buses] [--dimms] [--regions] [--namespaces] [--devices] [--memory-blocks] [--region R]",
       "List pmem objects (default: regions, namespaces, devices, memory blocks)", List},
      {"version", "", "Show the daemon's version, API version and platform", Version},
      {"list-methods", "", "List the daemon's JSON-RPC methods", ListMethods},
  };
}

}  // namespace pmemctl
