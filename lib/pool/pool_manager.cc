#include "pmemd/pool_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "pmemd/events.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/log.h"
#include "pmemd/owner.h"
#include "pmemd/retry.h"
#include "pmemd/text.h"

namespace pmemd {

using nlohmann::json;

struct PoolManager::Resolved {
  PoolTarget target;
  PoolBacking backing;
  UniqueFd file;         // path pools: the file as opened and checked
  bool created = false;  // path pools: this call created the file
};

namespace {

std::string Describe(const PoolTarget& t) { return t.device.empty() ? t.path : t.device; }

json TargetJson(const std::string& name, const PoolTarget& t) {
  json j = {{"name", name}};
  if (!t.device.empty()) j["device"] = t.device;
  if (!t.path.empty()) j["path"] = t.path;
  if (t.open_as) {
    j["uid"] = t.open_as->uid;
    j["gid"] = t.open_as->gid;
  }
  return j;
}

Status CheckPoolPath(const std::string& path) {
  if (path.find('\0') != std::string::npos)
    return Status::InvalidArgument("path " + Quote(path) + " holds a NUL byte; give a plain absolute file path");
  if (path.empty() || path[0] != '/')
    return Status::InvalidArgument("path " + Quote(path) + " is not absolute; give the full path of the pool file");
  if (path.back() == '/')
    return Status::InvalidArgument("path " + Quote(path) + " names a directory; give the path of the pool file");
  if (path.size() >= PATH_MAX) return Status::InvalidArgument("path is longer than " + std::to_string(PATH_MAX) + " bytes");
  return Status::Ok();
}

Result<UniqueFd> OpenFile(const std::optional<Credentials>& as, const std::string& path, int flags) {
  if (as) return OpenAs(*as, path, flags, 0600);
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::FromErrno(errno, "open " + path);
  return fd;
}

// Opens a pool file the one way pmemd opens them (pool_manager.h): the last
// component is never followed, only regular files are accepted, a missing
// file is created exclusively when `may_create`.
Result<UniqueFd> OpenPoolFile(const PoolTarget& t, bool may_create, bool* created) {
  *created = false;
  // O_NONBLOCK: a FIFO planted at the path must not hang the daemon.
  const int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK;
  auto fd = OpenFile(t.open_as, t.path, flags);
  if (!fd.ok() && fd.status().sys_errno() == ENOENT && may_create) {
    fd = OpenFile(t.open_as, t.path, flags | O_CREAT | O_EXCL);
    *created = fd.ok();
  }
  if (!fd.ok()) {
    const int err = fd.status().sys_errno();
    const std::string who = t.open_as ? " by uid " + std::to_string(t.open_as->uid) : std::string();
    if (err == ELOOP)
      return Status::InvalidArgument(t.path + " is a symbolic link; pmemd does not follow links to pool files: "
                                     "give the path of the file itself");
    if (err == EACCES || err == EPERM)
      return Status(Code::kPermissionDenied,
                    t.path + " cannot be " + (may_create ? "created or opened" : "opened") + " for writing" + who +
                        " (" + std::strerror(err) + "); pmemd opens pool files with the caller's rights: use a "
                        "directory and file you may write",
                    err);
    return fd.status();
  }
  struct stat st{};
  if (::fstat(fd->get(), &st) != 0) return Status::FromErrno(errno, "stat " + t.path);
  if (!S_ISREG(st.st_mode))
    return Status::InvalidArgument(t.path + " is not a regular file; pools live in regular files or on dax devices "
                                   "(name those with device)");
  return fd;
}

}  // namespace

PoolManager::PoolManager(PlatformOwner* owner, std::string state_dir, EventBus* events, PoolOptions defaults,
                         uint64_t memmap_budget)
    : owner_(owner),
      state_dir_(std::move(state_dir)),
      events_(events),
      defaults_(std::move(defaults)),
      memmap_budget_(memmap_budget) {
  defaults_.events = events_;
}

PoolManager::~PoolManager() {
  WriterLock lock(map_mu_);
  pools_.clear();
}

Result<std::unique_ptr<PoolManager>> PoolManager::Open(PlatformOwner* owner, std::string state_dir, EventBus* events,
                                                       PoolOptions defaults, uint64_t memmap_budget) {
  std::unique_ptr<PoolManager> m(
      new PoolManager(owner, std::move(state_dir), events, std::move(defaults), memmap_budget));
  auto log = GetLogger("pool");
  const std::string path = m->state_dir_ + "/pools.json";
  if (::access(path.c_str(), F_OK) != 0) return m;
  PMEMD_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto doc = ParseJson(text);
  if (!doc.ok() || !doc->is_object() || !(*doc)["pools"].is_array())
    return Status::Corruption(path + " is not a pool record ({\"pools\": [...]}); fix or remove it");
  MutexLock admin(m->admin_mu_);
  for (const auto& e : (*doc)["pools"]) {
    JsonReader r(e, "pools.json entry");
    std::string name;
    PoolTarget t;
    r.Required("name", &name);
    r.Optional("device", &t.device);
    r.Optional("path", &t.path);
    uint32_t uid = 0, gid = 0;
    if (r.Optional("uid", &uid) & r.Optional("gid", &gid)) t.open_as = Credentials{uid, gid};
    if (Status s = r.Finish(); !s.ok()) return Status::Corruption(path + ": " + s.message());
    Status s;
    auto resolved = m->Resolve(t, false);
    if (!resolved.ok()) {
      s = resolved.status();
    } else {
      // A mem pool that no longer fits the budget (it was lowered, or the
      // machine has less RAM) stays unattached: its array is never
      // allocated. A header that does not read is AttachResolved's to explain.
      if (auto info = Pool::ReadInfo(resolved->backing); info.ok() && info->memmap == PoolMemmap::kMem)
        s = m->CheckMemmapBudget(name, info->pool_size, /*attaching=*/true);
      if (s.ok()) {
        auto pool = m->AttachResolved(*resolved);
        if (pool.ok() && (*pool)->name() != name)
          s = Status::FailedPrecondition(Describe(t) + " now holds pool " + Quote((*pool)->name()) + ", not " +
                                         Quote(name));
        else if (pool.ok())
          m->Publish(*pool, t);
        else
          s = pool.status();
      }
    }
    if (!s.ok()) {
      log->error("pool {} on {} did not come back: {}; it stays recorded (detach-pool {} forgets it)", name,
                 Describe(t), s.message(), name);
      WriterLock lock(m->map_mu_);
      m->unavailable_[name] = {name, t, s};
    }
  }
  return m;
}

Result<PoolManager::Resolved> PoolManager::Resolve(const PoolTarget& t, bool may_create) const {
  Resolved r;
  r.target = t;
  if (t.device.empty() == t.path.empty())
    return Status::InvalidArgument("name exactly one of device (a dax device, e.g. dax0.0) and path (a file)");
  if (!t.device.empty()) {
    if (owner_ == nullptr) return Status::Unsupported("no platform to resolve device " + t.device);
    PMEMD_ASSIGN_OR_RETURN(DaxBacking d, owner_->platform()->GetDaxBacking(t.device));
    r.backing = {d.path, d.offset, d.size, t.device, ""};
    // The namespace behind the device: the in-use check knows it by both names.
    if (auto inv = owner_->List(); inv.ok())
      for (const auto& n : inv->namespaces)
        if (n.chardev && *n.chardev == t.device) r.backing.namespace_ = n.dev;
    return r;
  }
  PMEMD_RETURN_IF_ERROR(CheckPoolPath(t.path));
  PMEMD_ASSIGN_OR_RETURN(r.file, OpenPoolFile(t, may_create, &r.created));
  struct stat st{};
  if (::fstat(r.file.get(), &st) != 0) return Status::FromErrno(errno, "stat " + t.path);
  r.backing = {t.path, 0, static_cast<uint64_t>(st.st_size), "", ""};
  r.backing.file_dev = st.st_dev;
  r.backing.file_ino = st.st_ino;
  r.backing.opened_fd = r.file.get();  // lives as long as r
  return r;
}

Result<std::shared_ptr<Pool>> PoolManager::AttachResolved(const Resolved& r, const ProgressFn& progress) const {
  PoolOptions o = defaults_;
  if (!r.target.device.empty() && owner_ != nullptr) {
    // Bad pages from the platform: namespace-relative 512-byte sectors,
    // counted from the namespace's start, which lies (raw_size - size)
    // before the device's first byte.
    PlatformOwner* owner = owner_;
    std::string dev = r.target.device;
    o.badblocks = [owner, dev]() -> Result<std::vector<std::pair<uint64_t, uint64_t>>> {
      PMEMD_ASSIGN_OR_RETURN(Inventory inv, owner->List());
      std::vector<std::pair<uint64_t, uint64_t>> v;
      for (const auto& n : inv.namespaces) {
        if (!n.chardev || *n.chardev != dev) continue;
        const uint64_t skip = n.raw_size - n.size;
        for (const auto& b : n.badblocks) {
          uint64_t s = b.offset * 512, e = (b.offset + b.length) * 512;
          if (e <= skip) continue;
          s = std::max(s, skip);
          v.push_back({s - skip, e - s});
        }
      }
      return v;
    };
  }
  PMEMD_ASSIGN_OR_RETURN(std::unique_ptr<Pool> pool, Pool::Attach(r.backing, o, progress));
  std::shared_ptr<Pool> shared(std::move(pool));
  ReaderLock lock(map_mu_);
  if (auto it = targets_.find(shared->name()); it != targets_.end())
    return Status::AlreadyExists("a pool named " + Quote(shared->name()) + " is already attached (on " +
                                 Describe(it->second) + "); detach it first");
  return shared;
}

Status PoolManager::CheckMemmapBudget(const std::string& name, uint64_t pool_size, bool attaching) const {
  const uint64_t need = PoolMemmapBytes(pool_size);
  const uint64_t used = memmap_budget_used();
  const uint64_t left = memmap_budget_ > used ? memmap_budget_ - used : 0;
  if (need <= left) return Status::Ok();
  return Status::NoSpace(
      "pool " + Quote(name) + " keeps its metadata array in DRAM (memmap mem): it needs " + std::to_string(need) +
      " bytes (64 per 4 KiB page of its " + std::to_string(pool_size) + " bytes), but only " + std::to_string(left) +
      " of the memmap_budget of " + std::to_string(memmap_budget_) + " bytes are left (" + std::to_string(used) +
      " taken by attached mem pools); " +
      (attaching ? "a pool created with --memmap dev keeps its array on its own media and costs none of it; "
                   "detach a mem pool or raise memmap_budget to attach this one"
                 : "create it with --memmap dev to keep the array on the pool's own media, which costs none of "
                   "it, or detach a mem pool, or raise memmap_budget"));
}

uint64_t PoolManager::memmap_budget_used() const {
  ReaderLock lock(map_mu_);
  uint64_t used = 0;
  for (const auto& [n, bytes] : memmap_charged_) used += bytes;
  return used;
}

void PoolManager::Publish(std::shared_ptr<Pool> pool, const PoolTarget& target) {
  const PoolStatus st = pool->Describe();
  WriterLock lock(map_mu_);
  const std::string name = pool->name();
  if (st.memmap == PoolMemmap::kMem) memmap_charged_[name] = PoolMemmapBytes(st.size);
  pools_[name] = std::move(pool);
  targets_[name] = target;
  unavailable_.erase(name);
}

std::string PoolManager::AttachedOn(const PoolBacking& b) const {
  ReaderLock lock(map_mu_);
  for (const auto& [n, p] : pools_) {
    const PoolBacking& a = p->backing();
    if (!b.device.empty() ? a.device == b.device
                          : a.file_ino != 0 && a.file_dev == b.file_dev && a.file_ino == b.file_ino)
      return n;
  }
  return "";
}

Status PoolManager::Save(const std::optional<std::pair<std::string, PoolTarget>>& add, const std::string& drop) {
  std::map<std::string, PoolTarget> all;
  {
    ReaderLock lock(map_mu_);
    for (const auto& [n, t] : targets_) all[n] = t;
    for (const auto& [n, u] : unavailable_) all[n] = u.target;
  }
  if (add) all[add->first] = add->second;
  all.erase(drop);
  json pools = json::array();
  for (const auto& [n, t] : all) pools.push_back(TargetJson(n, t));
  PMEMD_RETURN_IF_ERROR(MakeDirs(state_dir_, 0700));
  return WriteFileAtomic(state_dir_ + "/pools.json", json{{"version", 1}, {"pools", pools}}.dump(2) + "\n", 0600)
      .Annotate("record the pools in " + state_dir_ + "/pools.json");
}

namespace {

// Removes a file create-pool made, unless the name now holds another file.
void RemoveCreated(const PoolBacking& b) {
  struct stat st{};
  if (::lstat(b.path.c_str(), &st) == 0 && st.st_dev == b.file_dev && st.st_ino == b.file_ino)
    ::unlink(b.path.c_str());
}

// A create of a pool that exists under that name is a retry when it asks for
// the same target and geometry (pmemd/retry.h).
RetryMatch CompareCreate(const PoolStatus& s, const CreatePoolSpec& spec, const std::string& target_now,
                         const std::string& target_asked) {
  RetryMatch m;
  m.Compare("target", target_asked, target_now);
  m.Compare("block_size", spec.block_size, s.block_size);
  m.Compare("max_leases", spec.max_leases, s.max_leases);
  m.Compare("memmap", std::string(PoolMemmapName(spec.memmap)), std::string(PoolMemmapName(s.memmap)));
  if (spec.size != 0) m.Compare("size", spec.size, s.size);
  m.Compare("owner_uid", spec.owner_uid, s.owner_uid);
  m.Compare("owner_gid", spec.owner_gid, s.owner_gid);
  return m;
}

}  // namespace

Result<PoolStatus> PoolManager::CreatePool(const CreatePoolSpec& spec, const ProgressFn& progress) {
  // Everything the request says is checked before anything is opened.
  PoolFormatOptions fo;
  fo.name = spec.name;
  fo.block_size = spec.block_size;
  fo.max_leases = spec.max_leases;
  fo.memmap = spec.memmap;
  fo.force = spec.force;
  fo.owner_uid = spec.owner_uid;
  fo.owner_gid = spec.owner_gid;
  const bool on_file = !spec.target.path.empty();
  if (on_file) {
    PMEMD_RETURN_IF_ERROR(CheckPoolPath(spec.target.path));
    if (spec.size % kPoolPageSize)
      return Status::InvalidArgument("size " + std::to_string(spec.size) + " is not a multiple of 4096");
    if (spec.size > static_cast<uint64_t>(std::numeric_limits<off_t>::max()))
      return Status::InvalidArgument("size " + std::to_string(spec.size) + " is larger than a file can be");
    if (spec.size) PMEMD_RETURN_IF_ERROR(Pool::CheckFormat(spec.size, fo, spec.target.path));
  } else if (spec.size) {
    return Status::InvalidArgument("size applies to path pools only; a pool on " + spec.target.device +
                                   " takes the whole device");
  }
  if (Status s = Pool::CheckFormat(std::numeric_limits<uint64_t>::max() / 2, fo, Describe(spec.target)); !s.ok())
    return s;

  MutexLock admin(admin_mu_);
  std::shared_ptr<Pool> same_name;
  {
    ReaderLock lock(map_mu_);
    if (auto it = pools_.find(spec.name); it != pools_.end()) same_name = it->second;
  }
  // The DRAM budget before any file is created: a new file's size is known
  // now; a device's or an existing file's once resolved (below).
  if (!same_name && spec.memmap == PoolMemmap::kMem && on_file && spec.size)
    PMEMD_RETURN_IF_ERROR(CheckMemmapBudget(spec.name, spec.size, false));
  auto resolved = Resolve(spec.target, /*may_create=*/on_file && !same_name && spec.size);
  if (!resolved.ok() && on_file && spec.size == 0 && resolved.status().sys_errno() == ENOENT)
    return Status::InvalidArgument(spec.target.path + " does not exist; give size to create the pool file");
  PMEMD_ASSIGN_OR_RETURN(Resolved r, std::move(resolved));
  // From here on, a file this call created is removed again on any failure.
  struct Undo {
    const Resolved& r;
    bool armed;
    ~Undo() {
      if (armed && r.created) RemoveCreated(r.backing);
    }
  } undo{r, true};

  const std::string attached = AttachedOn(r.backing);
  if (same_name) {
    PoolStatus s = same_name->Describe();
    std::string on;
    {
      ReaderLock lock(map_mu_);
      on = Describe(targets_.at(spec.name));
    }
    RetryMatch m = CompareCreate(s, spec, on, attached == spec.name ? on : Describe(spec.target));
    if (m.matches()) return s;  // a retry of a create that succeeded
    return m.Conflict("pool " + Quote(spec.name), "choose another name, or detach-pool " + spec.name + " first");
  }
  if (!attached.empty())
    return Status(Code::kBusy, Describe(spec.target) + " holds attached pool " + Quote(attached) + "; detach-pool " +
                                   attached + " first",
                  EBUSY);
  if (on_file) {
    if (!r.created) {
      // An existing file: only a pmemd pool may be reused or overwritten.
      auto info = Pool::ReadInfo(r.backing);
      if (!info.ok())
        return Status::FailedPrecondition(
            spec.target.path + " exists and is not a pmemd pool (" + info.status().message() +
            "); pmemd never overwrites a file it did not make: remove it yourself or choose a new path");
      if (info->name == spec.name && !spec.force) {
        // A create that formatted the file but did not get to record it
        // (killed in between): attach it, as a retry would have found it.
        if (info->memmap == PoolMemmap::kMem)
          PMEMD_RETURN_IF_ERROR(CheckMemmapBudget(spec.name, info->pool_size, true));
        PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> pool, AttachResolved(r, progress));
        PoolStatus ps = pool->Describe();
        const std::string here = Describe(spec.target);
        if (RetryMatch m = CompareCreate(ps, spec, here, here); !m.matches())
          return m.Conflict("pool " + Quote(info->name) + " on " + spec.target.path,
                            "attach-pool it, or pass force to overwrite it");
        PMEMD_RETURN_IF_ERROR(Save(std::make_pair(spec.name, spec.target)));
        Publish(pool, spec.target);
        return ps;
      }
      if (!spec.force)
        return Status::AlreadyExists(spec.target.path + " already holds pool " + Quote(info->name) +
                                     "; attach-pool it, or pass force to overwrite it");
    }
    if (spec.size == 0 && r.backing.size == 0)
      return Status::InvalidArgument("size is required to create the pool file " + spec.target.path);
    if (spec.size && spec.size != r.backing.size) {
      if (::ftruncate(r.file.get(), static_cast<off_t>(spec.size)) != 0)
        return Status::FromErrno(errno, "size " + spec.target.path + " to " + std::to_string(spec.size));
      r.backing.size = spec.size;
    }
  }
  if (spec.memmap == PoolMemmap::kMem) PMEMD_RETURN_IF_ERROR(CheckMemmapBudget(spec.name, r.backing.size, false));
  PMEMD_RETURN_IF_ERROR(Pool::Format(r.backing, fo, defaults_.hooks));
  PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> pool, AttachResolved(r, progress));
  // Recorded before it is published: a pool is attached only if it will
  // come back after a restart.
  if (Status s = Save(std::make_pair(spec.name, spec.target)); !s.ok())
    return s.Annotate("create pool " + spec.name + (r.created ? " (the new file was removed)" : ""));
  undo.armed = false;
  Publish(pool, spec.target);
  if (events_) events_->Publish({.kind = "pool", .object = "pool:" + spec.name, .from = "", .to = "created"});
  return pool->Describe();
}

Result<PoolStatus> PoolManager::AttachPool(const PoolTarget& target, const ProgressFn& progress) {
  MutexLock admin(admin_mu_);
  PMEMD_ASSIGN_OR_RETURN(Resolved r, Resolve(target, false));
  PMEMD_ASSIGN_OR_RETURN(Pool::HeaderInfo info, Pool::ReadInfo(r.backing));
  const std::string& name = info.name;
  {
    ReaderLock lock(map_mu_);
    if (auto it = pools_.find(name); it != pools_.end()) {
      const PoolBacking& a = it->second->backing();
      const bool same = !target.device.empty() ? a.device == target.device
                                               : a.file_dev == r.backing.file_dev && a.file_ino == r.backing.file_ino;
      if (same) return it->second->Describe();  // already attached
      return Status::AlreadyExists("a pool named " + Quote(name) + " is already attached (on " +
                                   Describe(targets_.at(name)) + "); detach it first");
    }
  }
  // Before mapping it: a mem pool's array is allocated by the attach.
  if (info.memmap == PoolMemmap::kMem) PMEMD_RETURN_IF_ERROR(CheckMemmapBudget(name, info.pool_size, true));
  PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> pool, AttachResolved(r, progress));
  PMEMD_RETURN_IF_ERROR(Save(std::make_pair(name, target)).Annotate("attach pool " + name));
  Publish(pool, target);
  return pool->Describe();
}

Status PoolManager::DetachPool(const std::string& name) {
  MutexLock admin(admin_mu_);
  {
    ReaderLock lock(map_mu_);
    if (!pools_.count(name) && !unavailable_.count(name)) {
      std::string known;
      for (const auto& [n, p] : pools_) known += (known.empty() ? "" : ", ") + n;
      return Status::NotFound("pool " + Quote(name) + " is not attached" +
                              (known.empty() ? std::string("; no pool is") : "; attached: " + known));
    }
  }
  // The record first: if it cannot be written, the pool stays attached (and
  // would come back after a restart anyway).
  PMEMD_RETURN_IF_ERROR(Save(std::nullopt, name).Annotate("detach pool " + name + " (it stays attached)"));
  std::shared_ptr<Pool> pool;
  {
    WriterLock lock(map_mu_);
    unavailable_.erase(name);
    if (auto it = pools_.find(name); it != pools_.end()) {
      pool = std::move(it->second);
      pools_.erase(it);
      targets_.erase(name);
      memmap_charged_.erase(name);
    }
  }
  pool.reset();  // detaches now, or when the last request using it finishes
  return Status::Ok();
}

Result<std::shared_ptr<Pool>> PoolManager::Find(const std::string& name) const {
  ReaderLock lock(map_mu_);
  auto it = pools_.find(name);
  if (it != pools_.end()) return it->second;
  if (auto u = unavailable_.find(name); u != unavailable_.end())
    return Status::FailedPrecondition("pool '" + name + "' could not be attached at start-up: " +
                                      u->second.error.message() + "; fix that and restart pmemd, or detach-pool " + name);
  std::string known;
  for (const auto& [n, p] : pools_) known += (known.empty() ? "" : ", ") + n;
  return Status::NotFound("pool '" + name + "' does not exist" +
                          (known.empty() ? std::string("; no pool is attached") : "; attached pools: " + known));
}

Status PoolManager::CheckBacking(const Pool& pool) const {
  const PoolBacking& b = pool.backing();
  if (b.file_ino == 0) return Status::Ok();
  struct stat st{};
  std::string what;
  if (::lstat(b.path.c_str(), &st) != 0)
    what = std::string("was removed (") + std::strerror(errno) + ")";
  else if (st.st_dev != b.file_dev || st.st_ino != b.file_ino)
    what = "now names another file";
  if (what.empty()) return Status::Ok();
  std::string msg = "pool " + Quote(pool.name()) + ": " + b.path + " " + what +
                    " since the pool was attached; its data is still mapped, but clients cannot map its leases "
                    "through that path: detach-pool " + pool.name() + " and restore the file";
  {
    MutexLock lock(warned_mu_);
    std::string& last = warned_[pool.name()];
    if (last != what) GetLogger("pool")->warn("{}", msg);
    last = what;
  }
  return Status::FailedPrecondition(msg);
}

Result<std::shared_ptr<Pool>> PoolManager::FindUsable(const std::string& name) const {
  PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> p, Find(name));
  PMEMD_RETURN_IF_ERROR(CheckBacking(*p));
  return p;
}

std::vector<std::shared_ptr<Pool>> PoolManager::Pools() const {
  ReaderLock lock(map_mu_);
  std::vector<std::shared_ptr<Pool>> v;
  for (const auto& [n, p] : pools_) v.push_back(p);
  return v;
}

std::vector<UnavailablePool> PoolManager::Unavailable() const {
  ReaderLock lock(map_mu_);
  std::vector<UnavailablePool> v;
  for (const auto& [n, u] : unavailable_) v.push_back(u);
  return v;
}

Status PoolManager::InUse(const std::string& dev) const {
  ReaderLock lock(map_mu_);
  for (const auto& [n, p] : pools_) {
    const PoolBacking& b = p->backing();
    if (!dev.empty() && (b.device == dev || b.namespace_ == dev))
      return Status(Code::kBusy, dev + " holds attached pool '" + n + "'; detach-pool " + n + " first", EBUSY);
  }
  return Status::Ok();
}

}  // namespace pmemd
