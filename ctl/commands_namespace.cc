// Namespace and memory verbs, named as ndctl and daxctl name them.
#include "args.h"
#include "cli.h"
#include "render.h"

namespace pmemctl {

using nlohmann::json;

namespace {

const std::map<std::string, std::string> kLayoutFlags = {
    {"-m", "mode"},  {"--mode", "mode"},   {"-s", "size"}, {"--size", "size"},
    {"-a", "align"}, {"--align", "align"}, {"-M", "map"},  {"--map", "map"},
    {"-n", "name"},  {"--name", "name"},   {"-u", "uuid"}, {"--uuid", "uuid"},
    {"-l", "sector_size"}, {"--sector-size", "sector_size"}, {"-r", "region"}, {"--region", "region"}};

// Turns parsed layout flags into params; sizes accept K/M/G/T.
int LayoutParams(const std::string& verb, const ParsedArgs& p, json* params) {
  for (const auto& [k, v] : p.values) {
    if (k == "size" || k == "align") {
      auto n = ParseSize(v);
      if (!n.ok()) return UsageError(verb, "--" + k + ": " + n.status().message());
      (*params)[k] = *n;
    } else if (k == "sector_size") {
      auto n = ParseSize(v);
      if (!n.ok() || *n > UINT32_MAX) return UsageError(verb, "--sector-size takes 512 or 4096");
      (*params)[k] = *n;
    } else {
      (*params)[k] = v;
    }
  }
  return kExitOk;
}

std::string RenderPlan(const json& j) {
  const json& p = Field(j, "plan");
  std::string s = "dry run: nothing was changed. The plan:\n";
  std::vector<std::vector<std::string>> rows = {
      {"namespace", p.value("dev", "")},
      {"region", p.value("region", "")},
      {"mode", p.value("mode", "") + (p.contains("map") ? " (map=" + p["map"].get<std::string>() + ")" : "")},
      {"usable size", HumanSize(p.value("size", 0ull)) + " (" + std::to_string(p.value("size", 0ull)) + ")"},
      {"taken from region", HumanSize(p.value("raw_size", 0ull)) + " (" + std::to_string(p.value("raw_size", 0ull)) + ")"},
      {"metadata", HumanSize(p.value("metadata_size", 0ull))},
      {"extent offset", std::to_string(p.value("offset", 0ull))},
  };
  if (p.contains("align")) rows.push_back({"align", HumanSize(p["align"].get<uint64_t>())});
  return s + Table({"", ""}, rows).substr(1);
}

std::string RenderNamespace(const json& n) {
  json list = {{"namespaces", json::array({n})}};
  return RenderList(list);
}

int CreateNamespace(Invocation& inv) {
  auto p = ParseArgs(inv.args, kLayoutFlags, {{"--dry-run", "dry_run"}});
  if (!p.ok()) return UsageError("create-namespace", p.status().message());
  if (!p->positional.empty()) return UsageError("create-namespace", "unexpected argument '" + p->positional[0] + "'");
  if (!p->values.count("region")) return UsageError("create-namespace", "--region R is required");
  json params = json::object();
  if (int rc = LayoutParams("create-namespace", *p, &params)) return rc;
  if (p->switches.count("dry_run")) params["dry_run"] = true;
  auto r = inv.call("create-namespace", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return j.contains("plan") ? RenderPlan(j) : RenderNamespace(j); });
  return kExitOk;
}

int ReconfigureNamespace(Invocation& inv) {
  auto p = ParseArgs(inv.args, kLayoutFlags, {{"--dry-run", "dry_run"}, {"-f", "force"}, {"--force", "force"}});
  if (!p.ok()) return UsageError("reconfigure-namespace", p.status().message());
  if (p->positional.size() != 1) return UsageError("reconfigure-namespace", "name one namespace, e.g. namespace0.0");
  if (!p->values.count("mode")) return UsageError("reconfigure-namespace", "--mode is required");
  json params = {{"namespace", p->positional[0]}};
  if (int rc = LayoutParams("reconfigure-namespace", *p, &params)) return rc;
  if (p->switches.count("dry_run")) params["dry_run"] = true;
  if (p->switches.count("force")) params["force"] = true;
  auto r = inv.call("reconfigure-namespace", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return j.contains("plan") ? RenderPlan(j) : RenderNamespace(j); });
  return kExitOk;
}

// destroy-namespace, enable-namespace, disable-namespace: one namespace.
std::function<int(Invocation&)> OneNamespace(std::string verb, bool takes_force) {
  return [verb, takes_force](Invocation& inv) {
    std::map<std::string, std::string> sw;
    if (takes_force) sw = {{"-f", "force"}, {"--force", "force"}};
    auto p = ParseArgs(inv.args, {}, sw);
    if (!p.ok()) return UsageError(verb, p.status().message());
    if (p->positional.size() != 1) return UsageError(verb, "name one namespace, e.g. namespace0.0");
    json params = {{"namespace", p->positional[0]}};
    if (p->switches.count("force")) params["force"] = true;
    auto r = inv.call(verb, params);
    if (!r.ok()) return -1;
    Print(inv, *r, [verb](const json& j) {
      if (!j.is_object() || j.empty()) return j.dump() + "\n";
      return j.begin().key() + " " + j.begin().value().get<std::string>() + "\n";
    });
    return static_cast<int>(kExitOk);
  };
}

std::string RenderBlocks(const json& j) {
  std::vector<std::vector<std::string>> rows;
  size_t changed = 0;
  for (const auto& b : Field(j, "blocks")) {
    rows.push_back({"memory" + std::to_string(Field(b, "id").get<uint64_t>()), Field(b, "from"), Field(b, "to")});
    changed += Field(b, "from") != Field(b, "to");
  }
  return j.value("device", "") + ": " + std::to_string(changed) + " of " + std::to_string(rows.size()) +
         " memory blocks changed\n" + Table({"BLOCK", "FROM", "TO"}, rows);
}

int ReconfigureDevice(Invocation& inv) {
  auto p = ParseArgs(inv.args, {{"-m", "mode"}, {"--mode", "mode"}},
                     {{"--no-online", "no_online"}, {"-N", "no_online"}, {"--no-movable", "no_movable"}});
  if (!p.ok()) return UsageError("reconfigure-device", p.status().message());
  if (p->positional.size() != 1) return UsageError("reconfigure-device", "name one dax device, e.g. dax0.0");
  if (!p->values.count("mode")) return UsageError("reconfigure-device", "--mode system-ram|devdax is required");
  json params = {{"device", p->positional[0]}, {"mode", p->values["mode"]},
                 {"online", !p->switches.count("no_online")}, {"movable", !p->switches.count("no_movable")}};
  auto r = inv.call("reconfigure-device", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& d) { return RenderList({{"devices", json::array({d})}}); });
  return kExitOk;
}

std::function<int(Invocation&)> MemoryVerb(std::string verb) {
  return [verb](Invocation& inv) {
    std::map<std::string, std::string> sw;
    if (verb == "online-memory") sw = {{"--no-movable", "no_movable"}};
    auto p = ParseArgs(inv.args, {}, sw);
    if (!p.ok()) return UsageError(verb, p.status().message());
    if (p->positional.size() != 1) return UsageError(verb, "name one dax device, e.g. dax0.0");
    json params = {{"device", p->positional[0]}};
    if (verb == "online-memory") params["movable"] = !p->switches.count("no_movable");
    auto r = inv.call(verb, params);
    if (!r.ok()) return -1;
    Print(inv, *r, RenderBlocks);
    return static_cast<int>(kExitOk);
  };
}

int InjectError(Invocation& inv) {
  auto p = ParseArgs(inv.args,
                     {{"--memory-block", "memory_block"}, {"--busy-attempts", "busy_attempts"},
                      {"--region", "region"}, {"--offset", "offset"}, {"--length", "length"}},
                     {{"--clear", "clear"}, {"--stuck", "stuck"}});
  if (!p.ok()) return UsageError("inject-error", p.status().message());
  json params = json::object();
  for (const auto& [k, v] : p->values) {
    if (k == "region") {
      params[k] = v;
      continue;
    }
    auto n = ParseSize(v);
    if (!n.ok()) return UsageError("inject-error", "--" + k + ": " + n.status().message());
    params[k] = *n;
  }
  if (p->switches.count("clear")) params["clear"] = true;
  if (p->switches.count("stuck")) params["stuck"] = true;
  auto r = inv.call("inject-error", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return j.dump() + "\n"; });
  return kExitOk;
}

}  // namespace

std::vector<Command> NamespaceCommands() {
  return {
      {"create-namespace",
       "--region R [--mode fsdax|devdax|sector|raw] [--size S] [--align A] [--map dev|mem] [--name N] "
       "[--uuid U] [--sector-size B] [--dry-run]",
       "Create a namespace; --dry-run prints the exact plan", CreateNamespace},
      {"destroy-namespace", "NAMESPACE [--force]", "Destroy a namespace (--force: also if enabled)",
       OneNamespace("destroy-namespace", true)},
      {"enable-namespace", "NAMESPACE", "Enable a namespace", OneNamespace("enable-namespace", false)},
      {"disable-namespace", "NAMESPACE", "Disable a namespace", OneNamespace("disable-namespace", false)},
      {"reconfigure-namespace", "NAMESPACE --mode M [--map] [--align] [--sector-size] [--force] [--dry-run]",
       "Change a namespace's mode in place (destroys data: --force)", ReconfigureNamespace},
      {"reconfigure-device", "DAX --mode system-ram|devdax [--no-online] [--no-movable]",
       "Move a dax device into system RAM (kmem) or back", ReconfigureDevice},
      {"online-memory", "DAX [--no-movable]", "Online every memory block of a system-ram device",
       MemoryVerb("online-memory")},
      {"offline-memory", "DAX", "Offline every memory block (all or nothing)", MemoryVerb("offline-memory")},
      {"inject-error",
       "--memory-block N [--busy-attempts K | --stuck] | --region R --offset O --length L [--clear]",
       "Emulated platform: inject a busy or stuck memory block, or bad media", InjectError},
  };
}

}  // namespace pmemctl
