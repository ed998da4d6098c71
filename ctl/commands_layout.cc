// Layout verbs: apply (a layout file, the plan printed as a diff) and
// export-layout (the host as a layout). docs/layouts.md has the document.
#include "cli.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/text.h"
#include "render.h"

namespace pmemctl {

using nlohmann::json;

namespace {

// "+" for what comes, "-" for what goes, "~" for what changes in place.
const char* Sign(const std::string& op) {
  if (op.starts_with("create-") || op.starts_with("online-")) return "+";
  if (op.starts_with("destroy-") || op.starts_with("delete-") || op.starts_with("detach-") ||
      op.starts_with("offline-"))
    return "-";
  return "~";
}

// The plan as a diff, one line per step:
//   + create namespace ns-a (in the layout, not on the host: fsdax 1.00 GiB in region0)
//   - destroy namespace namespace0.3 (not in the layout (prune); destroys data)
std::string RenderPlan(const json& r) {
  std::string out;
  const json& steps = Field(r, "steps");
  for (const auto& s : steps) {
    const std::string op = Field(s, "op").is_string() ? Field(s, "op").get<std::string>() : "";
    const std::string verb = op.substr(0, op.find('-'));
    out += std::string(Sign(op)) + " " + verb + " " + Field(s, "object").get<std::string>() + " (" +
           Field(s, "reason").get<std::string>() + (Field(s, "destroys_data") == true ? "; destroys data" : "") +
           ")\n";
  }
  const size_t n = steps.is_array() ? steps.size() : 0;
  if (n == 0) return "nothing to do: the host matches the layout\n";
  if (Field(r, "dry_run") == true) return out + "dry run: nothing was changed (" + std::to_string(n) + " steps)\n";
  return out + "applied: " + std::to_string(n) + " steps\n";
}

int Apply(Invocation& inv) {
  const auto& p = inv.opts;
  if (!p.positional.empty()) return UsageError("apply", "unexpected argument '" + p.positional[0] + "'; use -f FILE");
  if (!p.Has("file")) return UsageError("apply", "-f FILE is required (a layout document, docs/layouts.md)");
  pmemd::Result<std::string> text = pmemd::ReadFile(p.Get("file"));
  if (!text.ok()) return UsageError("apply", text.status().message());
  pmemd::Result<json> doc = pmemd::ParseJson(*text);
  if (!doc.ok()) return UsageError("apply", p.Get("file") + ": " + doc.status().message());
  json params = {{"layout", *doc}};
  for (const char* k : {"dry_run", "prune", "force"})
    if (p.switches.count(k)) params[k] = true;
  auto r = inv.call("apply", params);
  if (!r.ok()) return -1;
  Print(inv, *r, RenderPlan);
  return kExitOk;
}

int ExportLayout(Invocation& inv) {
  if (!inv.opts.positional.empty()) return UsageError("export-layout", "takes no arguments");
  auto r = inv.call("export-layout", json::object());
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return pmemd::DumpJson(j, 2) + "\n"; });
  return kExitOk;
}

}  // namespace

std::vector<Command> LayoutCommands() {
  using pmemd::ArgKind;
  return {
      {"apply", "Bring the host to a layout file; --dry-run prints the plan as a diff", {},
       {{'f', "file", "file", ArgKind::kPath, "the layout document (JSON, docs/layouts.md)", "FILE", {}, true},
        {0, "dry-run", "dry_run", ArgKind::kNone, "print the plan and change nothing"},
        {0, "prune", "prune", ArgKind::kNone, "also destroy what the layout leaves out"},
        {0, "force", "force", ArgKind::kNone, "allow steps that destroy data"}},
       Apply,
       "Sends the layout in FILE to the daemon, which plans the operations that take the host from what it has "
       "to the layout (namespaces, system-ram devices, pools, online blocks, leases) and runs them, each through "
       "the same operation as its own command. The plan prints as a diff: + what is made, - what goes, ~ what "
       "changes, each with its reason and whether it destroys data. Nothing changes when any step is refused "
       "(every problem is named); a step that fails stops the apply, the steps before it stay done. Objects the "
       "layout leaves out stay unless --prune (or the layout's \"prune\": true); steps that destroy data need "
       "--force. Applying the same layout again does nothing."},
      {"export-layout", "Print the host's namespaces, pools and leases as a layout (JSON)", {}, {}, ExportLayout,
       "Prints what the host has as a layout document: named namespaces, their system-ram devices, attached "
       "pools with their online blocks, and leases. Applying it changes nothing; namespaces without a name are "
       "left out (a layout knows namespaces by name)."},
  };
}

}  // namespace pmemctl
