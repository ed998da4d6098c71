#include "pmemd/pool_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "pmemd/events.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/log.h"
#include "pmemd/owner.h"

namespace pmemd {

using nlohmann::json;

struct PoolManager::Resolved {
  PoolTarget target;
  PoolBacking backing;
};

namespace {

std::string Describe(const PoolTarget& t) { return t.device.empty() ? t.path : t.device; }

json TargetJson(const std::string& name, const PoolTarget& t) {
  json j = {{"name", name}};
  if (!t.device.empty()) j["device"] = t.device;
  if (!t.path.empty()) j["path"] = t.path;
  return j;
}

}  // namespace

PoolManager::PoolManager(PlatformOwner* owner, std::string state_dir, EventBus* events, PoolOptions defaults)
    : owner_(owner), state_dir_(std::move(state_dir)), events_(events), defaults_(std::move(defaults)) {
  defaults_.events = events_;
}

PoolManager::~PoolManager() {
  std::unique_lock lock(map_mu_);
  pools_.clear();
}

Result<std::unique_ptr<PoolManager>> PoolManager::Open(PlatformOwner* owner, std::string state_dir, EventBus* events,
                                                       PoolOptions defaults) {
  std::unique_ptr<PoolManager> m(new PoolManager(owner, std::move(state_dir), events, std::move(defaults)));
  auto log = GetLogger("pool");
  const std::string path = m->state_dir_ + "/pools.json";
  if (::access(path.c_str(), F_OK) != 0) return m;
  PMEMD_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto doc = ParseJson(text);
  if (!doc.ok() || !doc->is_object() || !(*doc)["pools"].is_array())
    return Status::Corruption(path + " is not a pool record ({\"pools\": [...]}); fix or remove it");
  std::lock_guard admin(m->admin_mu_);
  for (const auto& e : (*doc)["pools"]) {
    JsonReader r(e, "pools.json entry");
    std::string name;
    PoolTarget t;
    r.Required("name", &name);
    r.Optional("device", &t.device);
    r.Optional("path", &t.path);
    if (Status s = r.Finish(); !s.ok()) return Status::Corruption(path + ": " + s.message());
    Status s;
    auto resolved = m->Resolve(t, true);
    if (resolved.ok()) {
      auto pool = m->AttachResolved(*resolved);
      if (pool.ok() && (*pool)->name() != name) {
        s = Status::FailedPrecondition(Describe(t) + " now holds pool '" + (*pool)->name() + "', not '" + name + "'");
        std::unique_lock lock(m->map_mu_);
        m->pools_.erase((*pool)->name());
        m->targets_.erase((*pool)->name());
      } else if (!pool.ok()) {
        s = pool.status();
      }
    } else {
      s = resolved.status();
    }
    if (!s.ok()) {
      log->error("pool {} on {} did not come back: {}; it stays recorded (detach-pool {} forgets it)", name,
                 Describe(t), s.message(), name);
      std::unique_lock lock(m->map_mu_);
      m->unavailable_[name] = {name, t, s};
    }
  }
  return m;
}

Result<PoolManager::Resolved> PoolManager::Resolve(const PoolTarget& t, bool must_exist) const {
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
  if (t.path.empty() || t.path[0] != '/')
    return Status::InvalidArgument("path '" + t.path + "' is not absolute; give the full path of the pool file");
  struct stat st{};
  if (::stat(t.path.c_str(), &st) != 0) {
    if (must_exist || errno != ENOENT) return Status::FromErrno(errno, "stat " + t.path);
    r.backing = {t.path, 0, 0, "", ""};
    return r;
  }
  if (!S_ISREG(st.st_mode))
    return Status::InvalidArgument(t.path + " is not a regular file; use device for dax devices");
  r.backing = {t.path, 0, static_cast<uint64_t>(st.st_size), "", ""};
  return r;
}

Result<std::shared_ptr<Pool>> PoolManager::AttachResolved(const Resolved& r) {
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
  PMEMD_ASSIGN_OR_RETURN(std::unique_ptr<Pool> pool, Pool::Attach(r.backing, o));
  std::shared_ptr<Pool> shared(std::move(pool));
  std::unique_lock lock(map_mu_);
  if (pools_.count(shared->name()))
    return Status::AlreadyExists("a pool named '" + shared->name() + "' is already attached (on " +
                                 Describe(targets_[shared->name()]) + "); detach it first");
  pools_[shared->name()] = shared;
  targets_[shared->name()] = r.target;
  unavailable_.erase(shared->name());
  return shared;
}

Status PoolManager::Save() {
  json pools = json::array();
  {
    std::shared_lock lock(map_mu_);
    std::map<std::string, PoolTarget> all;
    for (const auto& [n, t] : targets_) all[n] = t;
    for (const auto& [n, u] : unavailable_) all[n] = u.target;
    for (const auto& [n, t] : all) pools.push_back(TargetJson(n, t));
  }
  PMEMD_RETURN_IF_ERROR(MakeDirs(state_dir_, 0700));
  return WriteFileAtomic(state_dir_ + "/pools.json", json{{"version", 1}, {"pools", pools}}.dump(2) + "\n", 0600);
}

Result<PoolStatus> PoolManager::CreatePool(const CreatePoolSpec& spec) {
  std::lock_guard admin(admin_mu_);
  PMEMD_ASSIGN_OR_RETURN(Resolved r, Resolve(spec.target, false));
  {
    std::shared_lock lock(map_mu_);
    if (auto it = pools_.find(spec.name); it != pools_.end()) {
      const PoolTarget& t = targets_.at(spec.name);
      PoolStatus s = it->second->Describe();
      if (t.device == spec.target.device && t.path == spec.target.path && s.block_size == spec.block_size &&
          s.max_leases == spec.max_leases)
        return s;  // a retry of a create that succeeded
      return Status::AlreadyExists("pool '" + spec.name + "' already exists (on " + Describe(t) +
                                   "); choose another name or detach-pool it first");
    }
    for (const auto& [n, t] : targets_)
      if ((!spec.target.device.empty() && t.device == spec.target.device) ||
          (!spec.target.path.empty() && t.path == spec.target.path))
        return Status(Code::kBusy, Describe(spec.target) + " holds attached pool '" + n + "'; detach-pool " + n +
                                       " first", EBUSY);
  }
  if (!spec.target.path.empty()) {
    if (spec.size == 0 && r.backing.size == 0)
      return Status::InvalidArgument("size is required to create the pool file " + spec.target.path);
    if (spec.size % kPoolPageSize)
      return Status::InvalidArgument("size " + std::to_string(spec.size) + " is not a multiple of 4096");
    if (r.backing.size && !spec.force) {
      // Refuse before touching a file that holds a pool.
      auto existing = Pool::ReadName(r.backing);
      if (existing.ok())
        return Status::AlreadyExists(spec.target.path + " already holds pool '" + *existing +
                                     "'; attach-pool it, or pass force to overwrite it");
    }
    if (spec.size && spec.size != r.backing.size) {
      UniqueFd fd(::open(spec.target.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
      if (!fd.valid()) return Status::FromErrno(errno, "create " + spec.target.path);
      if (::ftruncate(fd.get(), static_cast<off_t>(spec.size)) != 0)
        return Status::FromErrno(errno, "size " + spec.target.path + " to " + std::to_string(spec.size));
      r.backing.size = spec.size;
    }
  } else if (spec.size && spec.size != r.backing.size) {
    return Status::InvalidArgument("size applies to path pools only; a pool on " + spec.target.device +
                                   " takes the whole device (" + std::to_string(r.backing.size) + " bytes)");
  }
  PoolFormatOptions fo;
  fo.name = spec.name;
  fo.block_size = spec.block_size;
  fo.max_leases = spec.max_leases;
  fo.force = spec.force;
  PMEMD_RETURN_IF_ERROR(Pool::Format(r.backing, fo, defaults_.hooks));
  if (events_) events_->Publish({.kind = "pool", .object = "pool:" + spec.name, .from = "", .to = "created"});
  PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> pool, AttachResolved(r));
  if (Status s = Save(); !s.ok()) {
    std::unique_lock lock(map_mu_);
    pools_.erase(spec.name);
    targets_.erase(spec.name);
    return s.Annotate("record pool " + spec.name + " in pools.json (the pool was formatted but is not attached)");
  }
  return pool->Describe();
}

Result<PoolStatus> PoolManager::AttachPool(const PoolTarget& target) {
  std::lock_guard admin(admin_mu_);
  PMEMD_ASSIGN_OR_RETURN(Resolved r, Resolve(target, true));
  PMEMD_ASSIGN_OR_RETURN(std::string name, Pool::ReadName(r.backing));
  {
    std::shared_lock lock(map_mu_);
    if (auto it = pools_.find(name); it != pools_.end()) {
      const PoolTarget& t = targets_.at(name);
      if (t.device == target.device && t.path == target.path) return it->second->Describe();  // already attached
      return Status::AlreadyExists("a pool named '" + name + "' is already attached (on " + Describe(t) +
                                   "); detach it first");
    }
  }
  PMEMD_ASSIGN_OR_RETURN(std::shared_ptr<Pool> pool, AttachResolved(r));
  if (Status s = Save(); !s.ok()) {
    std::unique_lock lock(map_mu_);
    pools_.erase(name);
    targets_.erase(name);
    return s.Annotate("record pool " + name + " in pools.json");
  }
  return pool->Describe();
}

Status PoolManager::DetachPool(const std::string& name) {
  std::lock_guard admin(admin_mu_);
  std::shared_ptr<Pool> pool;
  {
    std::unique_lock lock(map_mu_);
    auto it = pools_.find(name);
    if (it == pools_.end()) {
      if (unavailable_.erase(name)) {
        lock.unlock();
        return Save();
      }
      std::string known;
      for (const auto& [n, p] : pools_) known += (known.empty() ? "" : ", ") + n;
      return Status::NotFound("pool '" + name + "' is not attached" +
                              (known.empty() ? std::string("; no pool is") : "; attached: " + known));
    }
    pool = std::move(it->second);
    pools_.erase(it);
    targets_.erase(name);
  }
  Status s = Save();
  pool.reset();  // detaches now, or when the last request using it finishes
  return s;
}

Result<std::shared_ptr<Pool>> PoolManager::Find(const std::string& name) const {
  std::shared_lock lock(map_mu_);
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

std::vector<std::shared_ptr<Pool>> PoolManager::Pools() const {
  std::shared_lock lock(map_mu_);
  std::vector<std::shared_ptr<Pool>> v;
  for (const auto& [n, p] : pools_) v.push_back(p);
  return v;
}

std::vector<UnavailablePool> PoolManager::Unavailable() const {
  std::shared_lock lock(map_mu_);
  std::vector<UnavailablePool> v;
  for (const auto& [n, u] : unavailable_) v.push_back(u);
  return v;
}

Status PoolManager::InUse(const std::string& dev) const {
  std::shared_lock lock(map_mu_);
  for (const auto& [n, p] : pools_) {
    const PoolBacking& b = p->backing();
    if (!dev.empty() && (b.device == dev || b.namespace_ == dev))
      return Status(Code::kBusy, dev + " holds attached pool '" + n + "'; detach-pool " + n + " first", EBUSY);
  }
  return Status::Ok();
}

}  // namespace pmemd
