// Pool, block and lease verbs: create-pool, attach-pool, detach-pool,
// list-pools, online-blocks, offline-blocks, create-lease, delete-lease,
// get-lease, list-leases. JSON is the daemon's answer as is; the tables are
// a view of it.
#include <optional>

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
int Target(const std::string& verb, const pmemd::ParsedOptions& p, size_t positional_at, json* params) {
  if (p.Has("device")) (*params)["device"] = p.Get("device");
  if (p.Has("path")) (*params)["path"] = p.Get("path");
  if (p.positional.size() > positional_at) {
    const std::string& t = p.positional[positional_at];
    (*params)[t.starts_with("/") ? "path" : "device"] = t;
  }
  if (params->contains("device") == params->contains("path"))
    return UsageError(verb, "name the pool's place: --device DAX (e.g. dax0.0) or --path FILE");
  return kExitOk;
}

// The named options that are sizes (K/M/G/T) into params.
int Sizes(const std::string& verb, const pmemd::ParsedOptions& p, std::initializer_list<const char*> keys, json* params) {
  for (const char* k : keys) {
    if (!p.Has(k)) continue;
    auto n = ParseSize(p.Get(k));
    if (!n.ok()) return UsageError(verb, std::string("--") + k + ": " + n.status().message());
    (*params)[k] = *n;
  }
  return kExitOk;
}

int CreatePool(Invocation& inv) {
  const auto& p = inv.opts;
  if (p.positional.empty() || p.positional.size() > 2)
    return UsageError("create-pool", "name the pool, e.g. create-pool p0 --device dax0.0");
  json params = {{"name", p.positional[0]}};
  if (int rc = Target("create-pool", p, 1, &params)) return rc;
  if (int rc = Sizes("create-pool", p, {"size", "block_size", "max_leases"}, &params)) return rc;
  if (p.Has("memmap")) params["memmap"] = p.Get("memmap");
  if (p.switches.count("force")) params["force"] = true;
  for (const char* k : {"owner_uid", "owner_gid"}) {
    if (!p.Has(k)) continue;
    const std::optional<uint64_t> id = pmemd::ParseDecimal(p.Get(k), 0xffffffffu);
    if (!id)
      return UsageError("create-pool", std::string("--") + (k[6] == 'u' ? "owner-uid" : "owner-gid") + ": '" +
                                           p.Get(k) + "' is not a numeric id; give a uid or gid number (id -u USER)");
    params[k] = *id;
  }
  inv.progress_label = "create-pool " + p.positional[0];
  auto r = inv.call("create-pool", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return RenderPools({{"pools", json::array({j})}}); });
  return kExitOk;
}

int AttachPool(Invocation& inv) {
  const auto& p = inv.opts;
  if (p.positional.size() > 1) return UsageError("attach-pool", "name one place: --device DAX or --path FILE");
  json params = json::object();
  if (int rc = Target("attach-pool", p, 0, &params)) return rc;
  inv.progress_label = "attach-pool " + params.value("path", params.value("device", std::string()));
  auto r = inv.call("attach-pool", params);
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return RenderPools({{"pools", json::array({j})}}); });
  return kExitOk;
}

int DetachPool(Invocation& inv) {
  const auto& p = inv.opts;
  if (p.positional.size() != 1) return UsageError("detach-pool", "name one pool");
  auto r = inv.call("detach-pool", {{"pool", p.positional[0]}});
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) { return "detached " + Str(j, "detached") + "\n"; });
  return kExitOk;
}

int CheckPool(Invocation& inv) {
  const auto& p = inv.opts;
  if (p.positional.size() != 1) return UsageError("check-pool", "name one pool");
  auto r = inv.call("check-pool", {{"pool", p.positional[0]}});
  if (!r.ok()) return -1;
  Print(inv, *r, [](const json& j) {
    return Str(j, "pool") + ": " + std::to_string(Num(j, "pages")) + " descriptors (memmap " + Str(j, "memmap") +
           ") equal a rebuild from the tables\n";
  });
  return kExitOk;
}

int ListPools(Invocation& inv) {
  const auto& p = inv.opts;
  if (p.positional.size() > 1) return UsageError("list-pools", "name at most one pool");
  json params = json::object();
  if (!p.positional.empty()) params["pool"] = p.positional[0];
  if (p.switches.count("blocks")) params["blocks"] = true;
  auto r = inv.call("list-pools", params);
  if (!r.ok()) return -1;
  Print(inv, *r, RenderPools);
  return kExitOk;
}

std::function<int(Invocation&)> BlockVerb(std::string verb) {
  return [verb](Invocation& inv) {
    const auto& p = inv.opts;
    if (p.positional.empty() || p.positional.size() > 2)
      return UsageError(verb, "name a pool and optionally blocks, e.g. " + verb + " p0 0-15");
    json params = {{"pool", p.positional[0]}};
    if (p.positional.size() == 2) params["blocks"] = p.positional[1];
    inv.progress_label = verb + " " + p.positional[0];
    auto r = inv.call(verb, params);
    if (!r.ok()) return -1;
    Print(inv, *r, RenderBlockOp);
    return static_cast<int>(kExitOk);
  };
}

int CreateLease(Invocation& inv) {
  const auto& p = inv.opts;
  json labels = json::object();
  if (auto it = p.values.find("label"); it != p.values.end())
    for (const auto& v : it->second) {
      auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0)
        return UsageError("create-lease", "--label takes KEY=VALUE, not '" + v + "'");
      labels[v.substr(0, eq)] = v.substr(eq + 1);
    }
  if (p.positional.size() != 2)
    return UsageError("create-lease", "name the pool and the lease, e.g. create-lease p0 vm1-mem --size 1G");
  if (!p.Has("size")) return UsageError("create-lease", "--size is required");
  json params = {{"pool", p.positional[0]}, {"name", p.positional[1]}};
  if (int rc = Sizes("create-lease", p, {"size", "align"}, &params)) return rc;
  if (p.Has("owner")) params["owner"] = p.Get("owner");
  if (!labels.empty()) params["labels"] = labels;
  auto r = inv.call("create-lease", params);
  if (!r.ok()) return -1;
  Print(inv, *r, RenderLease);
  return kExitOk;
}

std::function<int(Invocation&)> OneLease(std::string verb) {
  return [verb](Invocation& inv) {
    const auto& p = inv.opts;
    if (p.positional.size() != 2) return UsageError(verb, "name the pool and the lease, e.g. " + verb + " p0 vm1-mem");
    auto r = inv.call(verb, {{"pool", p.positional[0]}, {"name", p.positional[1]}});
    if (!r.ok()) return -1;
    Print(inv, *r, [verb](const json& j) {
      return verb == "get-lease" ? RenderLease(j) : "deleted lease " + Str(j, "deleted") + "\n";
    });
    return static_cast<int>(kExitOk);
  };
}

int ListLeases(Invocation& inv) {
  const auto& p = inv.opts;
  if (p.positional.size() > 1) return UsageError("list-leases", "name at most one pool");
  json params = json::object();
  if (!p.positional.empty()) params["pool"] = p.positional[0];
  if (p.Has("owner")) params["owner"] = p.Get("owner");
  auto r = inv.call("list-leases", params);
  if (!r.ok()) return -1;
  Print(inv, *r, RenderLeases);
  return kExitOk;
}

}  // namespace

std::vector<Command> PoolCommands() {
  using pmemd::ArgKind;
  using pmemd::OptionSpec;
  const pmemd::PositionalSpec pool = {"POOL", ArgKind::kPool, "the pool's name"};
  const pmemd::PositionalSpec lease = {"LEASE", ArgKind::kLease, "the lease's name"};
  const OptionSpec device = {'d', "device", "device", ArgKind::kDaxDevice, "the pool is on this dax device (dax0.0)"};
  const OptionSpec path = {'p', "path", "path", ArgKind::kPath, "the pool is this file (an absolute path)", "FILE"};
  const pmemd::PositionalSpec blocks = {"BLOCKS", ArgKind::kText, "N, N-M or all (default: all)", true};
  return {
      {"create-pool", "Format a dax device or a file as a pool and attach it",
       {{"NAME", ArgKind::kText, "the new pool's name"},
        {"PLACE", ArgKind::kText, "instead of --device/--path: a dax device, or a path starting with /", true}},
       {device, path,
        {'s', "size", "size", ArgKind::kSize, "with --path: the file's size"},
        {'b', "block-size", "block_size", ArgKind::kSize, "the pool's memory block size (a power of two)"},
        {0, "max-leases", "max_leases", ArgKind::kNumber, "room for this many leases in the pool's tables"},
        {'M', "memmap", "memmap", ArgKind::kText, "where the per-page metadata array lives: dev (on the media) or mem",
         "dev|mem", {"dev", "mem"}},
        {'f', "force", "force", ArgKind::kNone, "format over an existing pool or data"},
        {0, "owner-uid", "owner_uid", ArgKind::kNumber, "besides admins, this uid may open the pool's leases (open-lease)"},
        {0, "owner-gid", "owner_gid", ArgKind::kNumber, "besides admins, members of this gid may open the pool's leases"}},
       CreatePool},
      {"attach-pool", "Attach an existing pool (it comes back after restarts)",
       {{"PLACE", ArgKind::kText, "instead of --device/--path: a dax device, or a path starting with /", true}},
       {device, path}, AttachPool},
      {"detach-pool", "Detach a pool (leases stay on the media)", {pool}, {}, DetachPool},
      {"list-pools", "Pools, capacity per alignment, and block states", {{"POOL", ArgKind::kPool, "only this pool", true}},
       {{'B', "blocks", "blocks", ArgKind::kNone, "show every block's state and leased and bad pages"}}, ListPools},
      {"check-pool", "Compare the pool's metadata array with a rebuild from its tables", {pool}, {}, CheckPool},
      {"online-blocks", "Online a pool's memory blocks (all or nothing)", {pool, blocks}, {}, BlockVerb("online-blocks")},
      {"offline-blocks", "Offline a pool's memory blocks (busy if leased; rolls back)", {pool, blocks}, {},
       BlockVerb("offline-blocks")},
      {"create-lease", "Lease an extent of a pool; prints the path and offset to map",
       {pool, {"NAME", ArgKind::kText, "the new lease's name"}},
       {{'s', "size", "size", ArgKind::kSize, "the lease's size", "", {}, true},
        {'a', "align", "align", ArgKind::kSize, "its alignment: 4K, 2M or 1G"},
        {'o', "owner", "owner", ArgKind::kText, "a free-form owner recorded with it", "OWNER"},
        {'l', "label", "label", ArgKind::kText, "a label KEY=VALUE; may be given several times", "KEY=VALUE"}},
       CreateLease},
      {"delete-lease", "Delete a lease", {pool, lease}, {}, OneLease("delete-lease")},
      {"get-lease", "Show one lease", {pool, lease}, {}, OneLease("get-lease")},
      {"list-leases", "Leases of one pool or all", {{"POOL", ArgKind::kPool, "only this pool's leases", true}},
       {{'o', "owner", "owner", ArgKind::kText, "only leases with this owner", "OWNER"}}, ListLeases},
  };
}

}  // namespace pmemctl
