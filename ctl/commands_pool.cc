// Pool, block and lease verbs: create-pool, attach-pool, detach-pool,
// list-pools, online-blocks, offline-blocks, create-lease, delete-lease,
// get-lease, list-leases. JSON is the daemon's answer as is; the tables are
// a view of it.
#include "args.h"
#include "cli.h"
#include "render.h"

namespace pmemctl {

using nlohmann::json;

namespace {

std::string Str(const json& j, const char* k) { return Field(j, k).is_null() ? "" : Field(j, k).get<std::string>(); }
uint64_t Num(const json& j, const char* k) { return Field(j, k).is_null() ? 0 : Field(j, k).get<uint64_t>(); }

std::string RenderPools(const json& r) {
  std::vector<std::vector<std::string>> rows;
  std::string blocks;
  for (const auto& p : Field(r, "pools")) {
    if (Str(p, "state") != "attached") {
      rows.push_back({Str(p, "name"), Str(p, "state"), p.contains("device") ? Str(p, "device") : Str(p, "path"), "", "",
                      "", "", "", "", ""});
      blocks += Str(p, "name") + ": " + Str(p, "error") + "\n";
      continue;
    }
    const json& c = Field(p, "capacity");
    rows.push_back({Str(p, "name"), "attached", p.contains("device") ? Str(p, "device") : Str(p, "path"),
                    HumanSize(Num(c, "total_size")),
                    std::to_string(Num(p, "blocks_online")) + "/" + std::to_string(Num(p, "blocks_total")),
                    HumanSize(Num(p, "block_size")), std::to_string(Num(p, "leases")),
                    HumanSize(Num(c, "available_size")), HumanSize(Num(c, "max_available_extent")),
                    Str(p, "memmap") + " " + HumanSize(Num(p, "memmap_size"))});
    if (p.contains("blocks")) {
      std::vector<std::vector<std::string>> b;
      for (const auto& x : Field(p, "blocks"))
        b.push_back({std::to_string(Num(x, "index")), std::to_string(Num(x, "offset")), Str(x, "state"),
                     std::to_string(Num(x, "leased_pages")), std::to_string(Num(x, "poisoned_pages"))});
      blocks += "\n" + Str(p, "name") + " blocks:\n" + Table({"BLOCK", "OFFSET", "STATE", "LEASED PAGES", "BAD PAGES"}, b);
    }
  }
  return Table({"POOL", "STATE", "ON", "SIZE", "ONLINE", "BLOCK", "LEASES", "AVAILABLE", "MAX EXTENT", "MEMMAP"}, rows) +
         blocks;
}

std::string RenderLeases(const json& r) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : Field(r, "leases"))
    rows.push_back({Str(l, "pool"), Str(l, "name"), HumanSize(Num(l, "size")), HumanSize(Num(l, "align")),
                    Str(l, "path"), std::to_string(Num(l, "offset")), Str(l, "owner")});
  return Table({"POOL", "LEASE", "SIZE", "ALIGN", "PATH", "OFFSET", "OWNER"}, rows);
}

std::string RenderLease(const json& l) {
  return "lease " + Str(l, "name") + " in pool " + Str(l, "pool") + ": map " + std::to_string(Num(l, "size")) +
         " bytes of " + Str(l, "path") + " at offset " + std::to_string(Num(l, "offset")) + " (" +
         HumanSize(Num(l, "size")) + ", align " + HumanSize(Num(l, "align")) + ")\n";
}

std::string RenderBlockOp(const json& j) {
  std::vector<std::vector<std::string>> rows;
  size_t changed = 0;
  for (const auto& b : Field(j, "blocks")) {
    rows.push_back({std::to_string(Num(b, "index")), Str(b, "from"), Str(b, "to")});
    changed += Field(b, "from") != Field(b, "to");
  }
  return "pool " + Str(j, "pool") + ": " + std::to_string(changed) + " of " + std::to_string(rows.size()) +
         " blocks changed\n" + Table({"BLOCK", "FROM", "TO"}, rows);
}

// --device D, --path P, or one positional that is a path (starts with '/')
// or a device name.
int Target(const std::string& verb, ParsedArgs& p, size_t positional_at, json* params) {
  if (p.values.count("device")) (*params)["device"] = p.values["device"];
  if (p.values.count("path")) (*params)["path"] = p.values["path"];
  if (p.positional.size() > positional_at) {
    const std::string& t = p.positional[positional_at];
    (*params)[t.starts_with("/") ? "path" : "device"] = t;
  }
  if (params->contains("device") == params->contains("path"))
    return UsageError(verb, "name the pool's place: --device DAX (e.g. dax0.0) or --path FILE");
  return kExitOk;
}

int CreatePool(Invocation& inv) {
  auto p = ParseArgs(inv.args,
                     {{"-d", "device"}, {"--device", "device"}, {"-p", "path"}, {"--path", "path"}, {"-s", "size"},
                      {"--size", "size"}, {"-b", "block_size"}, {"--block-size", "block_size"},
                      {"--max-leases", "max_leases"}, {"-M", "memmap"}, {"--memmap", "memmap"}},
                     {{"-f", "force"}, {"--force", "force"}});
  if (!p.ok()) return UsageError("create-pool", p.status().message());
  if (p->positional.size() != 1) return UsageError("create-pool", "name the pool, e.g. create-pool p0 --device dax0.0");
  json params = {{"name", p->positional[0]}};
  if (int rc = Target("create-pool", *p, 1, &params)) return rc;
  for (const char* k : {"size", "block_size", "max_leases"}) {
    if (!p->values.count(k)) continue;
    auto n = ParseSize(p->values[k]);
    if (!n.ok()) return UsageError("create-pool", std::string("--") + k + ": " + n.status().message());
    params[k] = *n;
  }
  if (p->values.count("memmap")) params["memmap"] = p->values["memmap"];
  if (p->switches.count("force")) params["force"] = true;
  auto r = inv.call("create-pool", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return RenderPools({{"pools", json::array({j})}}); });
  return kExitOk;
}

int AttachPool(Invocation& inv) {
  auto p = ParseArgs(inv.args, {{"-d", "device"}, {"--device", "device"}, {"-p", "path"}, {"--path", "path"}}, {});
  if (!p.ok()) return UsageError("attach-pool", p.status().message());
  json params = json::object();
  if (int rc = Target("attach-pool", *p, 0, &params)) return rc;
  auto r = inv.call("attach-pool", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return RenderPools({{"pools", json::array({j})}}); });
  return kExitOk;
}

int DetachPool(Invocation& inv) {
  auto p = ParseArgs(inv.args, {}, {});
  if (!p.ok()) return UsageError("detach-pool", p.status().message());
  if (p->positional.size() != 1) return UsageError("detach-pool", "name one pool");
  auto r = inv.call("detach-pool", {{"pool", p->positional[0]}});
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return "detached " + Str(j, "detached") + "\n"; });
  return kExitOk;
}

int CheckPool(Invocation& inv) {
  auto p = ParseArgs(inv.args, {}, {});
  if (!p.ok()) return UsageError("check-pool", p.status().message());
  if (p->positional.size() != 1) return UsageError("check-pool", "name one pool");
  auto r = inv.call("check-pool", {{"pool", p->positional[0]}});
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) {
    return Str(j, "pool") + ": " + std::to_string(Num(j, "pages")) + " descriptors (memmap " + Str(j, "memmap") +
           ") equal a rebuild from the tables\n";
  });
  return kExitOk;
}

int ListPools(Invocation& inv) {
  auto p = ParseArgs(inv.args, {}, {{"-B", "blocks"}, {"--blocks", "blocks"}});
  if (!p.ok()) return UsageError("list-pools", p.status().message());
  if (p->positional.size() > 1) return UsageError("list-pools", "name at most one pool");
  json params = json::object();
  if (!p->positional.empty()) params["pool"] = p->positional[0];
  if (p->switches.count("blocks")) params["blocks"] = true;
  auto r = inv.call("list-pools", params);
  if (!r.ok()) return -1;
  Print(inv, *r, RenderPools);
  return kExitOk;
}

std::function<int(Invocation&)> BlockVerb(std::string verb) {
  return [verb](Invocation& inv) {
    auto p = ParseArgs(inv.args, {}, {});
    if (!p.ok()) return UsageError(verb, p.status().message());
    if (p->positional.empty() || p->positional.size() > 2)
      return UsageError(verb, "name a pool and optionally blocks, e.g. " + verb + " p0 0-15");
    json params = {{"pool", p->positional[0]}};
    if (p->positional.size() == 2) params["blocks"] = p->positional[1];
    auto r = inv.call(verb, params);
    if (!r.ok()) return -1;
    Print(inv, *r, RenderBlockOp);
    return static_cast<int>(kExitOk);
  };
}

int CreateLease(Invocation& inv) {
  // --label k=v may repeat: collected before the common parser sees them.
  json labels = json::object();
  std::vector<std::string> rest;
  for (size_t i = 0; i < inv.args.size(); ++i) {
    std::string a = inv.args[i], v;
    if (a == "--label" || a == "-l") {
      if (i + 1 >= inv.args.size()) return UsageError("create-lease", "--label needs KEY=VALUE");
      v = inv.args[++i];
    } else if (a.starts_with("--label=")) {
      v = a.substr(8);
    } else {
      rest.push_back(a);
      continue;
    }
    auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0) return UsageError("create-lease", "--label takes KEY=VALUE, not '" + v + "'");
    labels[v.substr(0, eq)] = v.substr(eq + 1);
  }
  auto p = ParseArgs(rest, {{"-s", "size"}, {"--size", "size"}, {"-a", "align"}, {"--align", "align"},
                            {"-o", "owner"}, {"--owner", "owner"}},
                     {});
  if (!p.ok()) return UsageError("create-lease", p.status().message());
  if (p->positional.size() != 2) return UsageError("create-lease", "name the pool and the lease, e.g. create-lease p0 vm1-mem --size 1G");
  if (!p->values.count("size")) return UsageError("create-lease", "--size is required");
  json params = {{"pool", p->positional[0]}, {"name", p->positional[1]}};
  for (const char* k : {"size", "align"}) {
    if (!p->values.count(k)) continue;
    auto n = ParseSize(p->values[k]);
    if (!n.ok()) return UsageError("create-lease", std::string("--") + k + ": " + n.status().message());
    params[k] = *n;
  }
  if (p->values.count("owner")) params["owner"] = p->values["owner"];
  if (!labels.empty()) params["labels"] = labels;
  auto r = inv.call("create-lease", params);
  if (!r.ok()) return -1;
  Print(inv, *r, RenderLease);
  return kExitOk;
}

std::function<int(Invocation&)> OneLease(std::string verb) {
  return [verb](Invocation& inv) {
    auto p = ParseArgs(inv.args, {}, {});
    if (!p.ok()) return UsageError(verb, p.status().message());
    if (p->positional.size() != 2) return UsageError(verb, "name the pool and the lease, e.g. " + verb + " p0 vm1-mem");
    auto r = inv.call(verb, {{"pool", p->positional[0]}, {"name", p->positional[1]}});
    if (!r.ok()) return -1;
    Print(inv, *r, [verb](const json& j) {
      return verb == "get-lease" ? RenderLease(j) : "deleted lease " + Str(j, "deleted") + "\n";
    });
    return static_cast<int>(kExitOk);
  };
}

int ListLeases(Invocation& inv) {
  auto p = ParseArgs(inv.args, {{"-o", "owner"}, {"--owner", "owner"}}, {});
  if (!p.ok()) return UsageError("list-leases", p.status().message());
  if (p->positional.size() > 1) return UsageError("list-leases", "name at most one pool");
  json params = json::object();
  if (!p->positional.empty()) params["pool"] = p->positional[0];
  if (p->values.count("owner")) params["owner"] = p->values["owner"];
  auto r = inv.call("list-leases", params);
  if (!r.ok()) return -1;
  Print(inv, *r, RenderLeases);
  return kExitOk;
}

}  // namespace

std::vector<Command> PoolCommands() {
  return {
      {"create-pool", "NAME (--device DAX | --path FILE --size S) [--block-size B] [--max-leases N] [--memmap dev|mem] [--force]",
       "Format a dax device or a file as a pool and attach it", CreatePool},
      {"attach-pool", "--device DAX | --path FILE", "Attach an existing pool (it comes back after restarts)",
       AttachPool},
      {"detach-pool", "POOL", "Detach a pool (leases stay on the media)", DetachPool},
      {"list-pools", "[POOL] [--blocks]", "Pools, capacity per alignment, and block states", ListPools},
      {"check-pool", "POOL", "Compare the pool's metadata array with a rebuild from its tables", CheckPool},
      {"online-blocks", "POOL [N|N-M|all]", "Online a pool's memory blocks (all or nothing)",
       BlockVerb("online-blocks")},
      {"offline-blocks", "POOL [N|N-M|all]", "Offline a pool's memory blocks (busy if leased; rolls back)",
       BlockVerb("offline-blocks")},
      {"create-lease", "POOL NAME --size S [--align 4K|2M|1G] [--owner O] [--label K=V]...",
       "Lease an extent of a pool; prints the path and offset to map", CreateLease},
      {"delete-lease", "POOL NAME", "Delete a lease", OneLease("delete-lease")},
      {"get-lease", "POOL NAME", "Show one lease", OneLease("get-lease")},
      {"list-leases", "[POOL] [--owner O]", "Leases of one pool or all", ListLeases},
  };
}

}  // namespace pmemctl
