// The layout document: reading it (every problem gathered), writing it, and
// the block sets of online_blocks.
#include <algorithm>
#include <set>

#include "layout/problems.h"
#include "pmemd/json_reader.h"
#include "pmemd/json_schema.h"
#include "pmemd/layout.h"
#include "pmemd/size.h"
#include "pmemd/text.h"

namespace pmemd {

using nlohmann::json;

namespace {

// A size key: an unsigned integer, or a string ParseSize reads ("1G").
bool ReadSize(JsonReader& r, const std::string& key, std::optional<uint64_t>* out, Problems* problems) {
  json v;
  if (!r.Optional(key, &v)) return false;
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    *out = v.get<uint64_t>();
  } else if (v.is_string()) {
    Result<uint64_t> n = ParseSize(v.get<std::string>());
    if (!n.ok()) {
      problems->Add(Status::InvalidArgument(r.what() + "." + key + ": " + n.status().message()));
      return false;
    }
    *out = *n;
  } else {
    problems->Add(Status::InvalidArgument(r.what() + "." + key + ": expected a size (bytes, or a string such as "
                                          "\"1G\"), got " + JsonTypeName(v)));
    return false;
  }
  return true;
}

// The objects of array `key` of the document, each read by `read`.
template <typename T, typename Read>
void ReadArray(const json& doc, const std::string& what, const std::string& key, std::vector<T>* out,
               Problems* problems, Read read) {
  if (!doc.is_object() || !doc.contains(key)) return;
  const json& arr = doc[key];
  if (!arr.is_array()) {
    problems->Add(Status::InvalidArgument(what + "." + key + ": expected an array of objects, got " +
                                          JsonTypeName(arr)));
    return;
  }
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string at = what + "." + key + "[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) {
      problems->Add(Status::InvalidArgument(at + ": expected an object, got " + JsonTypeName(arr[i])));
      continue;
    }
    JsonReader r(arr[i], at);
    T item;
    read(r, arr[i], &item);
    // Kept although it has a problem, so that what refers to it is not
    // named as a problem too.
    problems->Add(r.Finish());
    out->push_back(std::move(item));
  }
}

// 1..63 bytes: the rule of namespace, pool and lease names alike is their
// operations'; here only that a name is there.
void RequireName(const std::string& what, const std::string& name, Problems* problems) {
  if (name.empty()) problems->Add(Status::InvalidArgument(what + ": the name must not be empty"));
}

template <typename T, typename Key>
void CheckUnique(const std::vector<T>& items, const std::string& what, Key key, Problems* problems) {
  std::map<std::string, int> seen;
  for (const T& item : items)
    if (++seen[key(item)] == 2)
      problems->Add(Status::InvalidArgument(what + " " + Quote(key(item)) +
                                            " appears more than once; each name may appear once"));
}

}  // namespace

Result<Layout> ParseLayout(const json& doc, const std::string& what) {
  Problems problems;
  Layout l;
  if (!doc.is_object())
    return Status::InvalidArgument(what + ": expected a layout object, got " + JsonTypeName(doc));
  {
    JsonReader top(doc, what);
    uint64_t version = kLayoutVersion;
    if (top.Optional("version", &version) && version != kLayoutVersion)
      problems.Add(Status::InvalidArgument(what + ".version: " + std::to_string(version) +
                                           " is not a layout version this pmemd reads; use " +
                                           std::to_string(kLayoutVersion)));
    top.Optional("prune", &l.prune);
    for (const char* k : {"namespaces", "system_ram", "pools", "leases"}) top.Allow(k);
    if (Status s = top.Finish(); !s.ok()) problems.Add(s);
  }

  ReadArray(doc, what, "namespaces", &l.namespaces, &problems,
            [&](JsonReader& r, const json&, LayoutNamespace* n) {
              r.Required("name", &n->name);
              r.Required("region", &n->region);
              r.Optional("mode", &n->mode);
              ReadSize(r, "size", &n->size, &problems);
              ReadSize(r, "align", &n->align, &problems);
              std::string map;
              if (r.Optional("map", &map)) n->map = map;
              std::optional<uint64_t> sector;
              if (ReadSize(r, "sector_size", &sector, &problems)) n->sector_size = static_cast<uint32_t>(*sector);
              if (n->mode != "fsdax" && n->mode != "devdax" && n->mode != "sector" && n->mode != "raw")
                problems.Add(Status::InvalidArgument(r.what() + ".mode: " + Quote(n->mode) +
                                                     " is not a mode; use fsdax, devdax, sector or raw"));
              if (!n->region.starts_with("region"))
                problems.Add(Status::InvalidArgument(r.what() + ".region: " + Quote(n->region) +
                                                     " is not a region name; use one as list shows it (region0)"));
            });
  ReadArray(doc, what, "system_ram", &l.system_ram, &problems, [](JsonReader& r, const json&, LayoutSystemRam* s) {
    r.Required("namespace", &s->ns);
    r.Optional("online", &s->online);
    r.Optional("movable", &s->movable);
  });
  ReadArray(doc, what, "pools", &l.pools, &problems, [&](JsonReader& r, const json&, LayoutPool* p) {
    r.Required("name", &p->name);
    r.Optional("namespace", &p->ns);
    r.Optional("device", &p->device);
    r.Optional("path", &p->path);
    ReadSize(r, "size", &p->size, &problems);
    ReadSize(r, "block_size", &p->block_size, &problems);
    uint64_t n = 0;
    if (r.Optional("max_leases", &n)) p->max_leases = n;
    std::string memmap;
    if (r.Optional("memmap", &memmap)) {
      Result<PoolMemmap> m = ParsePoolMemmap(memmap);
      if (m.ok())
        p->memmap = *m;
      else
        problems.Add(m.status().Annotate(r.what() + ".memmap"));
    }
    uint32_t id = 0;
    if (r.Optional("owner_uid", &id)) p->owner_uid = id;
    if (r.Optional("owner_gid", &id)) p->owner_gid = id;
    std::string blocks;
    if (r.Optional("online_blocks", &blocks)) {
      p->online_blocks = blocks;
      if (Status s = ParseBlockSet(blocks, 0).status(); !s.ok()) problems.Add(s.Annotate(r.what() + ".online_blocks"));
    }
    const int targets = !p->ns.empty() + !p->device.empty() + !p->path.empty();
    if (r.status().ok() && targets != 1)
      problems.Add(Status::InvalidArgument(r.what() + ": name exactly one of namespace (a devdax namespace of the "
                                           "layout), device (dax0.0) and path (an absolute file path)"));
    if (!p->path.empty() && !p->path.starts_with("/"))
      problems.Add(Status::InvalidArgument(r.what() + ".path: " + Quote(p->path) + " is not an absolute path"));
    if (p->size && p->path.empty())
      problems.Add(Status::InvalidArgument(r.what() + ".size: size applies to path pools only; a pool on a "
                                           "device takes the whole device"));
    if (!p->size && !p->path.empty())
      problems.Add(Status::InvalidArgument(r.what() + ": a path pool needs size (the file's size)"));
  });
  ReadArray(doc, what, "leases", &l.leases, &problems, [&](JsonReader& r, const json& o, LayoutLease* e) {
    r.Required("pool", &e->pool);
    r.Required("name", &e->name);
    std::optional<uint64_t> size;
    if (ReadSize(r, "size", &size, &problems)) e->size = *size;
    else if (r.status().ok() && !o.contains("size"))
      problems.Add(Status::InvalidArgument(r.what() + ": missing required key 'size'"));
    ReadSize(r, "align", &e->align, &problems);
    std::string owner;
    if (r.Optional("owner", &owner)) e->owner = owner;
    json labels;
    if (r.Optional("labels", &labels)) {
      std::map<std::string, std::string> m;
      if (!labels.is_object()) {
        problems.Add(Status::InvalidArgument(r.what() + ".labels: expected an object of strings, got " +
                                             JsonTypeName(labels)));
      } else {
        for (const auto& [k, v] : labels.items()) {
          if (v.is_string())
            m[k] = v.get<std::string>();
          else
            problems.Add(Status::InvalidArgument(r.what() + ".labels." + k + ": expected a string, got " +
                                                 JsonTypeName(v)));
        }
      }
      e->labels = std::move(m);
    }
    const uint64_t align = e->align.value_or(2ull << 20);
    if (std::find(std::begin(kLeaseAlignments), std::end(kLeaseAlignments), align) == std::end(kLeaseAlignments))
      problems.Add(Status::InvalidArgument(r.what() + ".align: " + std::to_string(align) +
                                           " is not a lease alignment; use 4096, 2097152 (2M) or 1073741824 (1G)"));
    else if (e->size == 0 || e->size % align != 0)
      problems.Add(Status::InvalidArgument(r.what() + ".size: " + std::to_string(e->size) +
                                           " is not a non-zero multiple of its alignment " + std::to_string(align) +
                                           "; use " + std::to_string(AlignUp(std::max<uint64_t>(e->size, 1), align))));
  });

  // Names, and what refers to what.
  for (const auto& n : l.namespaces) RequireName(what + ".namespaces: namespace", n.name, &problems);
  for (const auto& p : l.pools) RequireName(what + ".pools: pool", p.name, &problems);
  for (const auto& e : l.leases) RequireName(what + ".leases: lease", e.name, &problems);
  CheckUnique(l.namespaces, what + ".namespaces: namespace", [](const LayoutNamespace& n) { return n.name; },
              &problems);
  CheckUnique(l.system_ram, what + ".system_ram: namespace", [](const LayoutSystemRam& s) { return s.ns; },
              &problems);
  CheckUnique(l.pools, what + ".pools: pool", [](const LayoutPool& p) { return p.name; }, &problems);
  CheckUnique(l.leases, what + ".leases: lease", [](const LayoutLease& e) { return e.pool + "/" + e.name; },
              &problems);
  auto devdax = [&](const std::string& name) -> const LayoutNamespace* {
    for (const auto& n : l.namespaces)
      if (n.name == name) return &n;
    return nullptr;
  };
  for (const auto& s : l.system_ram) {
    const LayoutNamespace* n = devdax(s.ns);
    if (n == nullptr)
      problems.Add(Status::InvalidArgument(what + ".system_ram: namespace " + Quote(s.ns) +
                                           " is not in the layout's namespaces; add it there (mode devdax)"));
    else if (n->mode != "devdax")
      problems.Add(Status::InvalidArgument(what + ".system_ram: namespace " + Quote(s.ns) + " is " + n->mode +
                                           "; only a devdax namespace's device can be system-ram"));
  }
  std::set<std::string> pool_names;
  for (const auto& p : l.pools) {
    pool_names.insert(p.name);
    if (p.ns.empty()) continue;
    const LayoutNamespace* n = devdax(p.ns);
    if (n == nullptr)
      problems.Add(Status::InvalidArgument(what + ".pools: pool " + Quote(p.name) + " is on namespace " +
                                           Quote(p.ns) + ", which is not in the layout's namespaces"));
    else if (n->mode != "devdax")
      problems.Add(Status::InvalidArgument(what + ".pools: pool " + Quote(p.name) + " is on namespace " +
                                           Quote(p.ns) + ", which is " + n->mode +
                                           "; a pool lives on a devdax namespace's device (or on a file)"));
    for (const auto& s : l.system_ram)
      if (s.ns == p.ns)
        problems.Add(Status::InvalidArgument(what + ".pools: pool " + Quote(p.name) + " is on namespace " +
                                             Quote(p.ns) + ", which system_ram makes system RAM; choose one"));
  }
  for (const auto& e : l.leases)
    if (!pool_names.count(e.pool))
      problems.Add(Status::InvalidArgument(what + ".leases: lease " + Quote(e.pool + "/" + e.name) +
                                           " is in pool " + Quote(e.pool) + ", which is not in the layout's pools"));

  PMEMD_RETURN_IF_ERROR(problems.Fail("the layout is not valid"));
  return l;
}

json LayoutToJson(const Layout& l) {
  json doc = {{"version", kLayoutVersion}};
  if (l.prune) doc["prune"] = true;
  json namespaces = json::array();
  for (const auto& n : l.namespaces) {
    json j = {{"name", n.name}, {"region", n.region}, {"mode", n.mode}};
    if (n.size) j["size"] = *n.size;
    if (n.align) j["align"] = *n.align;
    if (n.map) j["map"] = *n.map;
    if (n.sector_size) j["sector_size"] = *n.sector_size;
    namespaces.push_back(std::move(j));
  }
  json system_ram = json::array();
  for (const auto& s : l.system_ram)
    system_ram.push_back({{"namespace", s.ns}, {"online", s.online}, {"movable", s.movable}});
  json pools = json::array();
  for (const auto& p : l.pools) {
    json j = {{"name", p.name}};
    if (!p.ns.empty()) j["namespace"] = p.ns;
    if (!p.device.empty()) j["device"] = p.device;
    if (!p.path.empty()) j["path"] = p.path;
    if (p.size) j["size"] = *p.size;
    if (p.block_size) j["block_size"] = *p.block_size;
    if (p.max_leases) j["max_leases"] = *p.max_leases;
    if (p.memmap) j["memmap"] = PoolMemmapName(*p.memmap);
    if (p.owner_uid) j["owner_uid"] = *p.owner_uid;
    if (p.owner_gid) j["owner_gid"] = *p.owner_gid;
    if (p.online_blocks) j["online_blocks"] = *p.online_blocks;
    pools.push_back(std::move(j));
  }
  json leases = json::array();
  for (const auto& e : l.leases) {
    json j = {{"pool", e.pool}, {"name", e.name}, {"size", e.size}};
    if (e.align) j["align"] = *e.align;
    if (e.owner) j["owner"] = *e.owner;
    if (e.labels) j["labels"] = *e.labels;
    leases.push_back(std::move(j));
  }
  doc["namespaces"] = std::move(namespaces);
  doc["system_ram"] = std::move(system_ram);
  doc["pools"] = std::move(pools);
  doc["leases"] = std::move(leases);
  return doc;
}

json LayoutSchema() {
  using namespace schema;
  json size = AnyOf({Unsigned(), String()});
  size["description"] = "bytes, or a string such as \"2G\" (K, M, G, T: powers of 1024)";
  json ns = Object({{"name", String()}, {"region", String()}},
                   {{"mode", Enum({"fsdax", "devdax", "sector", "raw"})}, {"size", size}, {"align", size},
                    {"map", Enum({"dev", "mem"})}, {"sector_size", size}});
  json ram = Object({{"namespace", String()}}, {{"online", Boolean()}, {"movable", Boolean()}});
  json pool = Object({{"name", String()}},
                     {{"namespace", String()}, {"device", String()}, {"path", String()}, {"size", size},
                      {"block_size", size}, {"max_leases", Unsigned()}, {"memmap", Enum({"dev", "mem"})},
                      {"owner_uid", Unsigned()}, {"owner_gid", Unsigned()}, {"online_blocks", String()}});
  json lease = Object({{"pool", String()}, {"name", String()}, {"size", size}},
                      {{"align", size}, {"owner", String()},
                       {"labels", {{"type", "object"}, {"additionalProperties", String()}}}});
  json doc = Object({}, {{"version", {{"const", kLayoutVersion}}}, {"prune", Boolean()},
                         {"namespaces", ArrayOf(ns)}, {"system_ram", ArrayOf(ram)}, {"pools", ArrayOf(pool)},
                         {"leases", ArrayOf(lease)}});
  doc["description"] =
      "A layout document (docs/layouts.md). This schema gives its keys and their types; ParseLayout also checks "
      "the rules across keys (one of a pool's namespace, device and path; names unique; references resolve).";
  return doc;
}

Result<std::vector<bool>> ParseBlockSet(const std::string& text, uint64_t total) {
  constexpr uint64_t kMaxBlocks = 1ull << 24;  // a 2 PiB pool of 128 MiB blocks
  const uint64_t size = total ? total : kMaxBlocks;
  std::vector<bool> set(total, false);
  if (text == "all") return std::vector<bool>(total, true);
  if (text == "none") return set;
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(Quote(text) + " is not a block set (" + why +
                                   "); use all, none, or blocks and ranges such as 0-3,7");
  };
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = text.find(',', at);
    std::string part = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    size_t dash = part.find('-');
    std::optional<uint64_t> a = ParseDecimal(part.substr(0, dash), size - 1);
    std::optional<uint64_t> b = dash == std::string::npos ? a : ParseDecimal(part.substr(dash + 1), size - 1);
    if (!a || !b || *b < *a)
      return bad(part.empty() ? "an empty part"
                              : Quote(part) + (total ? " is not N or N-M with N <= M < " + std::to_string(total)
                                                     : " is not N or N-M with N <= M"));
    if (total)
      for (uint64_t i = *a; i <= *b; ++i) set[i] = true;
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return set;
}

std::string BlockSetText(const std::vector<bool>& online) {
  const size_t n = online.size();
  const size_t count = static_cast<size_t>(std::count(online.begin(), online.end(), true));
  if (count == n && n > 0) return "all";
  if (count == 0) return "none";
  std::string out;
  for (size_t i = 0; i < n;) {
    if (!online[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j + 1 < n && online[j + 1]) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(i) + (j > i ? "-" + std::to_string(j) : "");
    i = j + 1;
  }
  return out;
}

}  // namespace pmemd
