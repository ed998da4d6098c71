// Pool, block and lease methods: thin readers of params over PoolManager
// and Pool. Names are kebab-case verbs like the rest of the API
// (create-pool, create-lease, online-blocks, ...).
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "pmemd/api.h"
#include "pmemd/json_reader.h"
#include "pmemd/json_schema.h"
#include "pmemd/log.h"
#include "pmemd/log_limiter.h"
#include "pmemd/pool_manager.h"

namespace pmemd {

using nlohmann::json;

namespace {

const Param kPoolParam = Param::String("pool", "The pool's name").Required();
const Param kLeaseNameParam = Param::String("name", "The lease's name, unique in its pool").Required();

// {"pool": ..., "name": ...} of delete-lease and get-lease: a pool that may
// hand out leases (PoolManager::FindUsable) and the lease's name.
struct LeaseRef {
  std::shared_ptr<Pool> pool;
  std::string lease;
};
Result<LeaseRef> ReadLeaseRef(JsonReader& r, const PoolManager& pools) {
  std::string name;
  LeaseRef ref;
  r.Required("pool", &name);
  r.Required("name", &ref.lease);
  PMEMD_RETURN_IF_ERROR(r.Finish());
  PMEMD_ASSIGN_OR_RETURN(ref.pool, pools.FindUsable(name));
  return ref;
}

json CapacityJson(const PoolCapacity& c) {
  json aligns = json::array();
  for (const auto& a : c.alignments)
    aligns.push_back({{"align", a.align}, {"available_size", a.available_size},
                      {"max_available_extent", a.max_available_extent}});
  return {{"total_size", c.total_size},         {"online_size", c.online_size},
          {"leased_size", c.leased_size},       {"poisoned_size", c.poisoned_size},
          {"available_size", c.available_size}, {"max_available_extent", c.max_available_extent},
          {"alignments", std::move(aligns)}};
}

// A pool whose media failed (a bus error) is "failed"; one whose file is
// gone (PoolManager::CheckBacking) is "degraded"; the reason is in "error".
json PoolJson(const PoolStatus& s, const Status& backing = Status::Ok()) {
  const char* state = !s.failure.empty() ? "failed" : backing.ok() ? "attached" : "degraded";
  json j = {{"name", s.name}, {"uuid", s.uuid}, {"state", state}};
  if (!s.failure.empty())
    j["error"] = s.failure;
  else if (!backing.ok())
    j["error"] = backing.message();
  if (!s.backing.device.empty()) j["device"] = s.backing.device;
  if (!s.backing.namespace_.empty()) j["namespace"] = s.backing.namespace_;
  j["path"] = s.backing.path;
  j["offset"] = s.backing.offset;
  j["size"] = s.size;
  j["data_offset"] = s.data_offset;
  j["block_size"] = s.block_size;
  j["blocks_total"] = s.blocks_total;
  j["blocks_online"] = s.blocks_online;
  j["leases"] = s.leases;
  j["max_leases"] = s.max_leases;
  j["badblock_count"] = s.badblock_count;
  j["format_version"] = s.format_version;
  if (s.owner_uid) j["owner_uid"] = *s.owner_uid;
  if (s.owner_gid) j["owner_gid"] = *s.owner_gid;
  j["granularity"] = s.granularity;
  j["init_strategy"] = s.init_strategy;
  j["memmap"] = PoolMemmapName(s.memmap);
  if (s.memmap == PoolMemmap::kDev) j["memmap_offset"] = s.memmap_offset;
  j["memmap_size"] = s.memmap_size;
  j["memmap_init"] = s.memmap_init;
  j["pages"] = s.pages;
  j["attach_ns"] = s.attach_ns;
  j["log_used"] = s.log_used;
  j["log_size"] = s.log_size;
  j["seq"] = s.seq;
  j["capacity"] = CapacityJson(s.capacity);
  if (!s.blocks.empty()) {
    json blocks = json::array();
    for (const auto& b : s.blocks)
      blocks.push_back({{"index", b.index}, {"offset", b.offset}, {"state", BlockStateName(b.state)},
                        {"leased_pages", b.leased_pages}, {"poisoned_pages", b.poisoned_pages}});
    j["blocks"] = std::move(blocks);
  }
  return j;
}

json PoolSchema() {
  using namespace schema;
  json align = Object({{"align", Unsigned()}, {"available_size", Unsigned()}, {"max_available_extent", Unsigned()}});
  json capacity = Object({{"total_size", Unsigned()}, {"online_size", Unsigned()}, {"leased_size", Unsigned()},
                          {"poisoned_size", Unsigned()}, {"available_size", Unsigned()},
                          {"max_available_extent", Unsigned()}, {"alignments", ArrayOf(align)}});
  json block = Object({{"index", Unsigned()}, {"offset", Unsigned()}, {"state", String()},
                       {"leased_pages", Unsigned()}, {"poisoned_pages", Unsigned()}});
  return Object({{"name", String()}, {"uuid", String()}, {"state", Enum({"attached", "degraded", "failed"})},
                 {"path", String()}, {"offset", Unsigned()}, {"size", Unsigned()}, {"data_offset", Unsigned()},
                 {"block_size", Unsigned()}, {"blocks_total", Unsigned()}, {"blocks_online", Unsigned()},
                 {"leases", Unsigned()}, {"max_leases", Unsigned()}, {"badblock_count", Unsigned()},
                 {"format_version", Unsigned()}, {"granularity", String()}, {"init_strategy", String()},
                 {"memmap", Enum({"dev", "mem"})}, {"memmap_size", Unsigned()}, {"memmap_init", String()},
                 {"pages", Unsigned()}, {"attach_ns", Unsigned()}, {"log_used", Unsigned()}, {"log_size", Unsigned()},
                 {"seq", Unsigned()}, {"capacity", capacity}},
                {{"error", String()}, {"device", String()}, {"namespace", String()}, {"owner_uid", Unsigned()},
                 {"owner_gid", Unsigned()}, {"memmap_offset", Unsigned()}, {"blocks", ArrayOf(block)}});
}

json UnavailableJson(const UnavailablePool& u) {
  json j = {{"name", u.name}, {"state", "unavailable"}};
  if (!u.target.device.empty()) j["device"] = u.target.device;
  if (!u.target.path.empty()) j["path"] = u.target.path;
  j["error"] = u.error.message();
  return j;
}

json LeaseJson(const Pool& pool, const Lease& l) {
  const PoolBacking& b = pool.backing();
  json j = {{"name", l.name}, {"pool", pool.name()}, {"id", l.id}, {"size", l.size}, {"align", l.align},
            {"pool_offset", l.offset},
            // What a client maps: `size` bytes of `path` from `offset`.
            {"path", b.path}, {"offset", b.offset + l.offset}};
  if (!b.device.empty()) j["device"] = b.device;
  if (!l.owner.empty()) j["owner"] = l.owner;
  json labels = json::object();
  for (const auto& [k, v] : l.labels) labels[k] = v;
  j["labels"] = std::move(labels);
  j["created_ns"] = l.created_ns;
  return j;
}

json LeaseSchema() {
  using namespace schema;
  return Object({{"name", String()}, {"pool", String()}, {"id", Unsigned()}, {"size", Unsigned()},
                 {"align", Unsigned()}, {"pool_offset", Unsigned()}, {"path", String()}, {"offset", Unsigned()},
                 {"labels", Object({})}, {"created_ns", Unsigned()}},
                {{"device", String()}, {"owner", String()}, {"error", String()}});
}

// The kernel passes at most 253 descriptors per message (SCM_MAX_FD).
constexpr size_t kMaxFdsPerAnswer = 64;

// open-lease: admins, the pool's owner uid, members of its owner gid.
Status CheckMayOpen(const Pool& pool, const CallContext& ctx) {
  const Pool::Owner owner = pool.owner();
  if (ctx.policy && ctx.policy->IsAdmin(ctx.peer)) return Status::Ok();
  if (ctx.peer.known && owner.uid && ctx.peer.uid == *owner.uid) return Status::Ok();
  if (owner.gid && AccessPolicy::InGroup(ctx.peer, *owner.gid)) return Status::Ok();
  static LogLimiter refusals(std::chrono::seconds(10));
  if (auto suppressed = refusals.Admit(ctx.peer.uid))
    GetLogger("api")->warn("refused open-lease of pool {} to uid {} pid {}{}", pool.name(), ctx.peer.uid,
                           ctx.peer.pid, SuppressedNote(*suppressed, refusals.interval()));
  std::string owners;
  if (owner.uid) owners = "uid " + std::to_string(*owner.uid);
  if (owner.gid) owners += (owners.empty() ? "" : " and ") + std::string("members of gid ") + std::to_string(*owner.gid);
  return Status::PermissionDenied(
      "uid " + std::to_string(ctx.peer.uid) + " may not open leases of pool " + pool.name() + ": only admins" +
      (owners.empty() ? "" : " and " + owners) +
      " may (a descriptor reaches the whole pool); an admin sets the owner with create-pool owner_uid/owner_gid");
}

// "all", "7", "0-15" -> [first, first+count); a missing range is all blocks.
Status ParseBlockRange(const std::string& text, uint64_t total, uint64_t* first, uint64_t* count) {
  if (text.empty() || text == "all") {
    *first = 0;
    *count = total;
    return Status::Ok();
  }
  auto num = [](std::string_view s, uint64_t* out) {
    if (s.empty() || s.size() > 18) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
  };
  uint64_t a = 0, b = 0;
  auto dash = text.find('-');
  bool ok = dash == std::string::npos ? num(text, &a) && ((b = a), true)
                                      : num(std::string_view(text).substr(0, dash), &a) &&
                                            num(std::string_view(text).substr(dash + 1), &b);
  if (!ok || b < a)
    return Status::InvalidArgument("blocks '" + text + "' is not a block range; use N, N-M (e.g. 0-15) or all");
  *first = a;
  *count = b - a + 1;
  return Status::Ok();
}

json BlockOpSchema() {
  using namespace schema;
  return Object({{"pool", String()},
                 {"blocks", ArrayOf(Object({{"index", Unsigned()}, {"from", String()}, {"to", String()}},
                                           {{"rolled_back", Boolean()}, {"error", String()}, {"holders", Any()}}))},
                 {"rolled_back", Boolean()}});
}

// A failed range operation was rolled back: the error names the block, why,
// and what was put back; a success lists every block.
Result<json> BlockOpResult(const std::string& op, const Pool& pool, Result<PoolBlockOpResult> r) {
  if (!r.ok()) return r.status();
  json blocks = json::array();
  std::string put_back;
  for (const auto& b : r->blocks) {
    json j = {{"index", b.index}, {"from", BlockStateName(b.from)}, {"to", BlockStateName(b.to)}};
    if (b.rolled_back) {
      j["rolled_back"] = true;
      put_back += (put_back.empty() ? "" : ", ") + std::to_string(b.index);
    }
    if (!b.status.ok()) j["error"] = b.status.message();
    if (!b.holders.empty()) j["holders"] = b.holders;
    blocks.push_back(std::move(j));
  }
  if (!r->status.ok()) {
    std::string msg = op + " on pool " + pool.name() + " failed: " + r->status.message() + "; " +
                      (put_back.empty() ? "no other block had changed" : "blocks " + put_back + " were put back") +
                      "; nothing changed";
    return Status(r->status.code(), msg, r->status.sys_errno());
  }
  return json{{"pool", pool.name()}, {"blocks", std::move(blocks)}, {"rolled_back", false}};
}

// A file pool asked for by anyone but root (or pmemd's own user) is opened
// with the caller's rights (pool_manager.h), so pmemd never writes where the
// caller could not. Errors are r's, at r.Finish().
const Params kTargetParams = {
    Param::String("device", "A dax device in devdax mode (dax0.0); exactly one of device and path"),
    Param::String("path", "An absolute file path; exactly one of device and path")};
void ReadTarget(JsonReader& r, const CallContext& ctx, PoolTarget* t) {
  r.Optional("device", &t->device);
  r.Optional("path", &t->path);
  if (!t->path.empty() && ctx.peer.uid != 0 && ctx.peer.uid != ::geteuid())
    t->open_as = Credentials{ctx.peer.uid, ctx.peer.gid};
}

// Defaults are CreatePoolSpec's own.
Params CreatePoolParams() {
  const CreatePoolSpec d;
  Params p = {Param::String("name", "1 to 63 of A-Z a-z 0-9 . _ -").Required()};
  p.insert(p.end(), kTargetParams.begin(), kTargetParams.end());
  for (Param x : {Param::Unsigned("size", "path only: bytes of a new file (with force, the new size of a pool file)"),
                  Param::Unsigned("block_size", "A power of two of at least 2 MiB").Default(d.block_size),
                  Param::Unsigned("max_leases", "Lease table slots").Default(d.max_leases),
                  Param::String("memmap", "Where the metadata array lives: dev (on the pool's media) or mem (DRAM)")
                      .OneOf({"dev", "mem"})
                      .Default(std::string(PoolMemmapName(d.memmap))),
                  Param::Boolean("force", "Overwrite a pool found there, and every lease in it").Default(false),
                  Param::Unsigned32("owner_uid", "This uid may open the pool's leases (open-lease)"),
                  Param::Unsigned32("owner_gid", "Members of this group may open the pool's leases (open-lease)")})
    p.push_back(std::move(x));
  return p;
}

}  // namespace

Status RegisterPoolMethods(Registry* reg, PoolManager* pools) {
  using namespace schema;
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "create-pool",
       .summary = "Format a dax device or a file as a pool and attach it (same name and target again: returns it)",
       .access = Access::kMutate,
       .params = CreatePoolParams(),
       .result = PoolSchema(),
       .handler = [pools](JsonReader& r, const CallContext& ctx) -> Result<json> {
         CreatePoolSpec spec;
         r.Required("name", &spec.name);
         ReadTarget(r, ctx, &spec.target);
         r.Optional("size", &spec.size);
         r.Optional("block_size", &spec.block_size);
         r.Optional("max_leases", &spec.max_leases);
         std::string memmap;
         r.Optional("memmap", &memmap);
         r.Optional("force", &spec.force);
         uint32_t owner_uid = 0, owner_gid = 0;
         if (r.Optional("owner_uid", &owner_uid)) spec.owner_uid = owner_uid;
         if (r.Optional("owner_gid", &owner_gid)) spec.owner_gid = owner_gid;
         PMEMD_RETURN_IF_ERROR(r.Finish());
         PMEMD_ASSIGN_OR_RETURN(spec.memmap, ParsePoolMemmap(memmap));
         PMEMD_ASSIGN_OR_RETURN(PoolStatus s, pools->CreatePool(spec, ctx.progress));
         return PoolJson(s);
       },
       .reports_progress = true}));
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "attach-pool",
       .summary = "Attach an existing pool (replays its log); it comes back by itself after a restart",
       .access = Access::kMutate,
       .params = kTargetParams,
       .result = PoolSchema(),
       .handler = [pools](JsonReader& r, const CallContext& ctx) -> Result<json> {
         PoolTarget t;
         ReadTarget(r, ctx, &t);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         PMEMD_ASSIGN_OR_RETURN(PoolStatus s, pools->AttachPool(t, ctx.progress));
         return PoolJson(s);
       },
       .reports_progress = true}));
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "detach-pool",
       .summary = "Detach a pool (its leases stay on the media) and stop re-attaching it at start-up",
       .access = Access::kMutate,
       .params = {kPoolParam},
       .result = Object({{"detached", String()}}),
       .handler = [pools](JsonReader& r, const CallContext&) -> Result<json> {
         std::string name;
         r.Required("pool", &name);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         PMEMD_RETURN_IF_ERROR(pools->DetachPool(name));
         return json{{"detached", name}};
       }}));
  json unavailable = Object({{"name", String()}, {"state", Enum({"unavailable"})}, {"error", String()}},
                            {{"device", String()}, {"path", String()}});
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "list-pools",
       .summary = "Pools with geometry, capacity per alignment and (blocks: true) every block's state",
       .access = Access::kRead,
       .params = {Param::String("pool", "Only this pool; default: every pool"),
                  Param::Boolean("blocks", "Include every block's state").Default(false)},
       .result = Object({{"pools", ArrayOf(AnyOf({PoolSchema(), unavailable}))}}),
       .handler = [pools](JsonReader& r, const CallContext&) -> Result<json> {
         std::string name;
         bool blocks = false;
         r.Optional("pool", &name);
         r.Optional("blocks", &blocks);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         json list = json::array();
         if (!name.empty()) {
           PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> p, pools->Find(name));
           list.push_back(PoolJson(p->Describe(blocks), pools->CheckBacking(*p)));
           return json{{"pools", std::move(list)}};
         }
         std::map<std::string, json> all;
         for (const auto& p : pools->Pools()) all[p->name()] = PoolJson(p->Describe(blocks), pools->CheckBacking(*p));
         for (const auto& u : pools->Unavailable()) all[u.name] = UnavailableJson(u);
         for (auto& [n, j] : all) list.push_back(std::move(j));
         return json{{"pools", std::move(list)}};
       }}));
  // Admin only although it changes nothing: it reads every descriptor
  // (a 256 GiB pool has 4 GiB of them), which no unprivileged caller may
  // make the daemon do at will.
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "check-pool",
       .summary = "Compare a pool's metadata array, descriptor by descriptor, with a rebuild from its tables",
       .access = Access::kMutate,
       .params = {kPoolParam},
       .result = Object({{"pool", String()}, {"memmap", Enum({"dev", "mem"})}, {"pages", Unsigned()},
                         {"verified", Boolean()}}),
       .handler = [pools](JsonReader& r, const CallContext&) -> Result<json> {
         std::string name;
         r.Required("pool", &name);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> p, pools->Find(name));
         PMEMD_RETURN_IF_ERROR(p->VerifyMemmap());
         const PoolStatus s = p->Describe();
         return json{{"pool", name}, {"memmap", PoolMemmapName(s.memmap)}, {"pages", s.pages}, {"verified", true}};
       }}));
  for (bool online : {true, false}) {
    std::string verb = online ? "online-blocks" : "offline-blocks";
    PMEMD_RETURN_IF_ERROR(reg->Add(
        {.name = verb,
         .summary =
             online ? "Online a range of a pool's memory blocks (all or nothing); bad pages stay poisoned"
                    : "Offline a range of a pool's memory blocks; a block holding leases is busy and the range rolls back",
         .access = Access::kMutate,
         .params = {kPoolParam, Param::String("blocks", "N, N-M (e.g. 0-15) or all").Default("all")},
         .result = BlockOpSchema(),
         .handler = [pools, online, verb](JsonReader& r, const CallContext& ctx) -> Result<json> {
           std::string name, range;
           r.Required("pool", &name);
           r.Optional("blocks", &range);
           PMEMD_RETURN_IF_ERROR(r.Finish());
           PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> p, pools->FindUsable(name));
           uint64_t first = 0, count = 0;
           PMEMD_RETURN_IF_ERROR(ParseBlockRange(range, p->Describe().blocks_total, &first, &count));
           return BlockOpResult(verb, *p,
                                online ? p->OnlineBlocks(first, count, ctx.progress)
                                       : p->OfflineBlocks(first, count, ctx.progress));
         },
         .reports_progress = true}));
  }
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "create-lease",
       .summary = "Lease an extent of a pool's online pages (same name and parameters again: returns it)",
       .access = Access::kMutate,
       .params = {kPoolParam, kLeaseNameParam,
                  Param::Unsigned("size", "Bytes: a non-zero multiple of align").Required(),
                  Param::Unsigned("align", "4096, 2097152 or 1073741824").Default(LeaseSpec{}.align),
                  Param::String("owner", "A tag, at most 63 bytes"),
                  Param::StringMap("labels", "An object of strings, at most 320 bytes as JSON")},
       .result = LeaseSchema(),
       .handler = [pools](JsonReader& r, const CallContext&) -> Result<json> {
         std::string name;
         LeaseSpec spec;
         r.Required("pool", &name);
         r.Required("name", &spec.name);
         r.Required("size", &spec.size);
         r.Optional("align", &spec.align);
         r.Optional("owner", &spec.owner);
         r.Optional("labels", &spec.labels);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> p, pools->FindUsable(name));
         PMEMD_ASSIGN_OR_RETURN(Lease l, p->CreateLease(spec));
         return LeaseJson(*p, l);
       }}));
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "delete-lease",
       .summary = "Delete a lease; its pages go back to the pool",
       .access = Access::kMutate,
       .params = {kPoolParam, kLeaseNameParam},
       .result = Object({{"deleted", String()}, {"pool", String()}}),
       .handler = [pools](JsonReader& r, const CallContext&) -> Result<json> {
         PMEMD_ASSIGN_OR_RETURN(LeaseRef ref, ReadLeaseRef(r, *pools));
         PMEMD_RETURN_IF_ERROR(ref.pool->DeleteLease(ref.lease));
         return json{{"deleted", ref.lease}, {"pool", ref.pool->name()}};
       }}));
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "get-lease",
       .summary = "One lease: the path, offset and size a client maps",
       .access = Access::kRead,
       .params = {kPoolParam, kLeaseNameParam},
       .result = LeaseSchema(),
       .handler = [pools](JsonReader& r, const CallContext&) -> Result<json> {
         PMEMD_ASSIGN_OR_RETURN(LeaseRef ref, ReadLeaseRef(r, *pools));
         PMEMD_ASSIGN_OR_RETURN(Lease l, ref.pool->GetLease(ref.lease));
         return LeaseJson(*ref.pool, l);
       }}));
  // A read: any client that may connect asks, and the pool's owner decides
  // (the refusal is logged, rate-limited per uid).
  json opened = LeaseSchema();  // and the index of its descriptor
  opened["properties"]["fd"] = Unsigned();
  opened["required"].push_back("fd");
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "open-lease",
       .summary = "A lease and a read-write descriptor of its pool's backing (SCM_RIGHTS), for the pool's owner or an admin",
       .access = Access::kRead,
       .params = {kPoolParam, kLeaseNameParam},
       .result = opened,
       .handler = [pools](JsonReader& r, const CallContext& ctx) -> Result<json> {
         std::string name, lease;
         r.Required("pool", &name);
         r.Required("name", &lease);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         if (ctx.fds == nullptr)
           return Status::FailedPrecondition(
               "open-lease passes a file descriptor, which only pmemd's Unix socket can carry; call it there");
         if (ctx.fds->size() >= kMaxFdsPerAnswer)
           return Status::ResourceExhausted("at most " + std::to_string(kMaxFdsPerAnswer) +
                                            " open-lease calls fit in one batch (one descriptor each)");
         PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> p, pools->FindUsable(name));
         PMEMD_RETURN_IF_ERROR(CheckMayOpen(*p, ctx));
         UniqueFd fd;
         PMEMD_ASSIGN_OR_RETURN(Lease l, p->OpenLease(lease, &fd));
         json j = LeaseJson(*p, l);
         j["fd"] = ctx.fds->size();  // its index among the descriptors passed with the answer
         ctx.fds->push_back(std::move(fd));
         return j;
       }}));
  return reg->Add(
      {.name = "list-leases",
       .summary = "Leases of one pool or of every pool, optionally only one owner's",
       .access = Access::kRead,
       .params = {Param::String("pool", "Only this pool's leases; default: every pool's"),
                  Param::String("owner", "Only the leases with this owner tag")},
       .result = Object({{"leases", ArrayOf(LeaseSchema())}}),
       .handler = [pools](JsonReader& r, const CallContext&) -> Result<json> {
         std::string name, owner;
         r.Optional("pool", &name);
         r.Optional("owner", &owner);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         std::vector<std::shared_ptr<Pool>> which;
         if (!name.empty()) {
           PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> p, pools->Find(name));
           which.push_back(p);
         } else {
           which = pools->Pools();
         }
         json list = json::array();
         for (const auto& p : which) {
           Status backing = pools->CheckBacking(*p);
           for (const auto& l : p->ListLeases()) {
             if (!owner.empty() && l.owner != owner) continue;
             list.push_back(LeaseJson(*p, l));
             if (!backing.ok()) list.back()["error"] = backing.message();
           }
         }
         return json{{"leases", std::move(list)}};
       }});
}

}  // namespace pmemd
