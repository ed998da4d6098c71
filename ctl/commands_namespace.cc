// Namespace and memory verbs, named as ndctl and daxctl name them.
#include <algorithm>

#include "args.h"
#include "cli.h"
#include "render.h"

namespace pmemctl {

using nlohmann::json;

namespace {

using pmemd::ArgKind;
using pmemd::OptionSpec;

// The namespace layout options create-namespace and reconfigure-namespace
// share, as ndctl spells them.
std::vector<OptionSpec> LayoutOptions(bool region_required) {
  return {
      {'r', "region", "region", ArgKind::kRegion, "the region to create it in (region0 or 0)", "R", {},
       region_required},
      {'m', "mode", "mode", ArgKind::kText, "fsdax (default), devdax, sector or raw", "MODE",
       {"fsdax", "devdax", "sector", "raw"}},
      {'s', "size", "size", ArgKind::kSize, "usable size (K/M/G/T suffixes); default: the largest free extent"},
      {'a', "align", "align", ArgKind::kSize, "alignment of a devdax or fsdax namespace: 4K, 2M or 1G"},
      {'M', "map", "map", ArgKind::kText, "where fsdax/devdax page metadata lives: dev (default) or mem", "dev|mem",
       {"dev", "mem"}},
      {'n', "name", "name", ArgKind::kText, "the namespace's name (its label's name)", "NAME"},
      {'u', "uuid", "uuid", ArgKind::kText, "the namespace's uuid (default: a new one)", "UUID"},
      {'l', "sector-size", "sector_size", ArgKind::kSize, "the sector size of a sector namespace: 512 or 4096",
       "BYTES"},
  };
}

OptionSpec DryRun() { return {0, "dry-run", "dry_run", ArgKind::kNone, "print the exact plan and change nothing"}; }
OptionSpec Force(const char* what) { return {'f', "force", "force", ArgKind::kNone, what}; }

// Turns parsed layout options into params; sizes accept K/M/G/T.
int LayoutParams(const std::string& verb, const pmemd::ParsedOptions& p, json* params) {
  for (const auto& [k, values] : p.values) {
    const std::string v = values.back();
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
  const auto& p = inv.opts;
  if (!p.positional.empty()) return UsageError("create-namespace", "unexpected argument '" + p.positional[0] + "'");
  if (!p.Has("region")) return UsageError("create-namespace", "--region R is required");
  json params = json::object();
  if (int rc = LayoutParams("create-namespace", p, &params)) return rc;
  if (p.switches.count("dry_run")) params["dry_run"] = true;
  auto r = inv.call("create-namespace", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return j.contains("plan") ? RenderPlan(j) : RenderNamespace(j); });
  return kExitOk;
}

int ReconfigureNamespace(Invocation& inv) {
  const auto& p = inv.opts;
  if (p.positional.size() != 1) return UsageError("reconfigure-namespace", "name one namespace, e.g. namespace0.0");
  if (!p.Has("mode")) return UsageError("reconfigure-namespace", "--mode is required");
  json params = {{"namespace", p.positional[0]}};
  if (int rc = LayoutParams("reconfigure-namespace", p, &params)) return rc;
  if (p.switches.count("dry_run")) params["dry_run"] = true;
  if (p.switches.count("force")) params["force"] = true;
  auto r = inv.call("reconfigure-namespace", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return j.contains("plan") ? RenderPlan(j) : RenderNamespace(j); });
  return kExitOk;
}

// destroy-namespace, enable-namespace, disable-namespace: several
// namespaces, or `all` (of --region R), one call each, as ndctl does: a
// failure does not stop the others, each is reported, and the last line
// counts what was done ("destroyed 2 namespaces").
std::function<int(Invocation&)> NamespaceTargets(std::string verb, std::string done) {
  return [verb, done](Invocation& inv) {
    const auto& p = inv.opts;
    if (p.positional.empty())
      return UsageError(verb, "name one or more namespaces, e.g. namespace0.0, or all");
    std::vector<std::string> targets;
    bool all = false;
    for (const auto& t : p.positional) {
      if (t == "all") all = true;
      else targets.push_back(t);
    }
    std::string region = p.Get("region");
    if (!region.empty() && !region.starts_with("region")) region = "region" + region;
    if (all) {
      json params = {{"namespaces", true}};
      if (!region.empty()) params["region"] = region;
      auto l = inv.call("list", params);
      if (!l.ok()) return -1;
      for (const auto& n : Field(*l, "namespaces")) {
        const json& dev = Field(n, "dev");
        // A region's seed namespace (size 0) is not a namespace to act on.
        if (!dev.is_string() || (Field(n, "size").is_number() && Field(n, "size") == 0))
          continue;
        if (std::find(targets.begin(), targets.end(), dev.get<std::string>()) == targets.end())
          targets.push_back(dev.get<std::string>());
      }
    }
    // One target named (not `all`): the daemon's answer as it is, and its
    // error reported by the caller, as for every other command.
    const bool single = !all && targets.size() == 1;
    json results = json::array();
    size_t ok = 0;
    int rc = kExitOk;
    for (const auto& t : targets) {
      json params = {{"namespace", t}};
      if (p.switches.count("force")) params["force"] = true;
      auto r = inv.call(verb, params);
      if (single) {
        if (!r.ok()) return -1;
        Print(inv, *r, [](const json& j) {
          if (!j.is_object() || j.empty()) return j.dump() + "\n";
          return j.begin().key() + " " + j.begin().value().get<std::string>() + "\n";
        });
      } else if (r.ok()) {
        ++ok;
        results.push_back({{"namespace", t}, {"result", *r}});
        if (!inv.global.json) std::printf("%s %s\n", done.c_str(), t.c_str());
      } else {
        results.push_back({{"namespace", t}, {"error", inv.error}});
        std::fprintf(stderr, "pmemctl %s: %s: %s\n", verb.c_str(), t.c_str(),
                     inv.error.value("message", std::string("failed")).c_str());
        rc = std::max(rc, inv.failure);
      }
    }
    if (single) ok = 1;
    if (!single && inv.global.json) {
      json out = {{done, ok}, {"failed", targets.size() - ok}, {"results", results}};
      Print(inv, out, [](const json&) { return std::string(); });
    }
    std::fprintf(stderr, "%s %zu namespace%s\n", done.c_str(), ok, ok == 1 ? "" : "s");
    return rc;
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
  const auto& p = inv.opts;
  if (p.positional.size() != 1) return UsageError("reconfigure-device", "name one dax device, e.g. dax0.0");
  if (!p.Has("mode")) return UsageError("reconfigure-device", "--mode system-ram|devdax is required");
  json params = {{"device", p.positional[0]}, {"mode", p.Get("mode")},
                 {"online", !p.switches.count("no_online")}, {"movable", !p.switches.count("no_movable")}};
  inv.progress_label = "reconfigure-device " + p.positional[0];
  auto r = inv.call("reconfigure-device", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& d) { return RenderList({{"devices", json::array({d})}}); });
  return kExitOk;
}

std::function<int(Invocation&)> MemoryVerb(std::string verb) {
  return [verb](Invocation& inv) {
    const auto& p = inv.opts;
    if (p.positional.size() != 1) return UsageError(verb, "name one dax device, e.g. dax0.0");
    json params = {{"device", p.positional[0]}};
    if (verb == "online-memory") params["movable"] = !p.switches.count("no_movable");
    inv.progress_label = verb + " " + p.positional[0];
    auto r = inv.call(verb, params);
    if (!r.ok()) return -1;
    Print(inv, *r, RenderBlocks);
    return static_cast<int>(kExitOk);
  };
}

// "88", "-5.5", "88.125": degrees Celsius to millidegrees, as the API takes them.
std::optional<int64_t> ParseCelsius(std::string_view s) {
  const bool negative = s.starts_with('-');
  if (negative) s.remove_prefix(1);
  const size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot), frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  if (dot != std::string_view::npos && (frac.empty() || frac.size() > 3)) return std::nullopt;
  auto w = pmemd::ParseDecimal(whole, 1'000'000);
  std::string f(frac);
  f.resize(3, '0');
  auto m = pmemd::ParseDecimal(f, 999);
  if (!w || !m) return std::nullopt;
  const int64_t mc = static_cast<int64_t>(*w * 1000 + *m);
  return negative ? -mc : mc;
}

int InjectError(Invocation& inv) {
  const auto& p = inv.opts;
  if (!p.positional.empty()) return UsageError("inject-error", "unexpected argument '" + p.positional[0] + "'");
  json params = json::object();
  for (const auto& [k, values] : p.values) {
    if (k == "region" || k == "dimm" || k == "health_state" || k == "shutdown_state") {
      params[k] = values.back();
      continue;
    }
    if (k.find("temperature") != std::string::npos) {
      auto mc = ParseCelsius(values.back());
      if (!mc) return UsageError("inject-error", "--" + k + ": '" + values.back() + "' is not degrees Celsius (88, -5.5)");
      params[k + "_millicelsius"] = *mc;
      continue;
    }
    auto n = ParseSize(values.back());
    if (!n.ok()) return UsageError("inject-error", "--" + k + ": " + n.status().message());
    params[k] = *n;
  }
  if (p.switches.count("clear")) params["clear"] = true;
  if (p.switches.count("stuck")) params["stuck"] = true;
  auto r = inv.call("inject-error", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return j.dump() + "\n"; });
  return kExitOk;
}

}  // namespace

std::vector<Command> NamespaceCommands() {
  const pmemd::PositionalSpec namespaces = {"NAMESPACE", ArgKind::kNamespace,
                                            "namespaces to act on (namespace0.0), or all", false, true};
  const pmemd::PositionalSpec one_namespace = {"NAMESPACE", ArgKind::kNamespace, "the namespace (namespace0.0)"};
  const pmemd::PositionalSpec dax = {"DAX", ArgKind::kDaxDevice, "the dax device (dax0.0)"};
  const OptionSpec region_filter = {'r', "region", "region", ArgKind::kRegion,
                                    "with all: only this region's namespaces", "R"};
  std::vector<OptionSpec> reconfigure = LayoutOptions(false);
  reconfigure.erase(reconfigure.begin());  // the namespace names its region
  reconfigure.push_back(Force("reconfigure although the namespace is enabled (destroys its data)"));
  reconfigure.push_back(DryRun());
  std::vector<OptionSpec> create = LayoutOptions(true);
  create.push_back(DryRun());
  return {
      {"create-namespace", "Create a namespace; --dry-run prints the exact plan", {}, create, CreateNamespace,
       "Creates a namespace in a region, as ndctl create-namespace does. --dry-run prints the exact plan "
       "(device name, extent, usable and raw size, metadata) and changes nothing."},
      {"destroy-namespace", "Destroy namespaces (--force: also if enabled)", {namespaces},
       {Force("destroy also an enabled namespace"), region_filter}, NamespaceTargets("destroy-namespace", "destroyed"),
       "Destroys each namespace named, or all of them (of --region R), one at a time: a failure is reported "
       "and the others go on. The last line, on stderr, counts them (destroyed N namespaces); the exit code is "
       "1 when any failed. With one namespace named, --json prints the daemon's answer; with several or all, "
       "{\"destroyed\": N, \"failed\": M, \"results\": [{\"namespace\", \"result\" or \"error\"}]}."},
      {"enable-namespace", "Enable namespaces", {namespaces}, {region_filter},
       NamespaceTargets("enable-namespace", "enabled"),
       "Enables each namespace named, or all of them (of --region R), as destroy-namespace goes through its "
       "targets: each reported, the count last (enabled N namespaces), exit code 1 when any failed."},
      {"disable-namespace", "Disable namespaces", {namespaces}, {region_filter},
       NamespaceTargets("disable-namespace", "disabled"),
       "Disables each namespace named, or all of them (of --region R), as destroy-namespace goes through its "
       "targets: each reported, the count last (disabled N namespaces), exit code 1 when any failed."},
      {"reconfigure-namespace", "Change a namespace's mode in place (destroys data: --force)", {one_namespace},
       reconfigure, ReconfigureNamespace},
      {"reconfigure-device", "Move a dax device into system RAM (kmem) or back", {dax},
       {{'m', "mode", "mode", ArgKind::kText, "system-ram (kmem) or devdax", "MODE", {"system-ram", "devdax"}, true},
        {'N', "no-online", "no_online", ArgKind::kNone, "system-ram: leave the memory blocks offline"},
        {0, "no-movable", "no_movable", ArgKind::kNone, "system-ram: online into ZONE_NORMAL, not ZONE_MOVABLE"}},
       ReconfigureDevice},
      {"online-memory", "Online every memory block of a system-ram device", {dax},
       {{0, "no-movable", "no_movable", ArgKind::kNone, "online into ZONE_NORMAL, not ZONE_MOVABLE"}},
       MemoryVerb("online-memory")},
      {"offline-memory", "Offline every memory block (all or nothing)", {dax}, {}, MemoryVerb("offline-memory")},
      {"inject-error", "Emulated platform: inject a busy or stuck memory block, bad media, or DIMM health", {},
       {{0, "memory-block", "memory_block", ArgKind::kNumber, "the memory block to make busy or stuck"},
        {0, "busy-attempts", "busy_attempts", ArgKind::kNumber, "the block refuses this many offline attempts", "K"},
        {0, "stuck", "stuck", ArgKind::kNone, "the block never goes offline"},
        {0, "region", "region", ArgKind::kRegion, "bad media: the region", "R"},
        {0, "offset", "offset", ArgKind::kSize, "bad media: the offset in the region"},
        {0, "length", "length", ArgKind::kSize, "bad media: the length"},
        {0, "dimm", "dimm", ArgKind::kText, "DIMM health: the DIMM (nmem0)", "NMEM"},
        {0, "health-state", "health_state", ArgKind::kText, "DIMM health: its state", "STATE",
         {"ok", "non-critical", "critical", "fatal"}},
        {0, "temperature", "temperature", ArgKind::kText, "DIMM health: media temperature, degrees Celsius", "C"},
        {0, "controller-temperature", "controller_temperature", ArgKind::kText,
         "DIMM health: controller temperature, degrees Celsius", "C"},
        {0, "temperature-threshold", "temperature_threshold", ArgKind::kText,
         "DIMM health: media temperature alarm threshold, degrees Celsius", "C"},
        {0, "controller-temperature-threshold", "controller_temperature_threshold", ArgKind::kText,
         "DIMM health: controller temperature alarm threshold, degrees Celsius", "C"},
        {0, "spares", "spares_percentage", ArgKind::kNumber, "DIMM health: spare capacity left, percent", "PCT"},
        {0, "spares-threshold", "spares_threshold", ArgKind::kNumber, "DIMM health: spares alarm threshold, percent",
         "PCT"},
        {0, "life-used", "life_used_percentage", ArgKind::kNumber, "DIMM health: life used, percent", "PCT"},
        {0, "shutdown-state", "shutdown_state", ArgKind::kText, "DIMM health: the last shutdown", "STATE",
         {"clean", "dirty"}},
        {0, "shutdown-count", "shutdown_count", ArgKind::kNumber, "DIMM health: unsafe shutdowns counted"},
        {0, "clear", "clear", ArgKind::kNone, "clear the injected errors (a DIMM: back to its default health)"}},
       InjectError,
       "Emulated platform only: --memory-block N with --busy-attempts K or --stuck makes a memory block "
       "refuse to go offline; --region R --offset O --length L marks bad media; --dimm NMEM with health "
       "options sets what the DIMM's SMART reports (the alarms trip as the thresholds say; the health "
       "monitor is notified, as by the kernel); --clear undoes them."},
  };
}

}  // namespace pmemctl
