#include "pmemd/owner.h"

#include <algorithm>

#include "platform/namespace_rules.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/log.h"

namespace pmemd {

using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto log = GetLogger("owner");
  return log;
}

json SpecToJson(const NamespaceSpec& s) {
  json j = {{"region", s.region}, {"mode", s.mode}, {"name", s.name}, {"uuid", s.uuid}};
  if (s.size) j["size"] = *s.size;
  if (s.align) j["align"] = *s.align;
  if (s.map) j["map"] = *s.map;
  if (s.sector_size) j["sector_size"] = *s.sector_size;
  return j;
}

Status SpecFromJson(const json& j, NamespaceSpec* s) {
  JsonReader r(j, "spec");
  r.Optional("region", &s->region);
  r.Optional("mode", &s->mode);
  r.Optional("name", &s->name);
  r.Optional("uuid", &s->uuid);
  uint64_t u = 0;
  if (r.Optional("size", &u)) s->size = u;
  if (r.Optional("align", &u)) s->align = u;
  std::string map;
  if (r.Optional("map", &map)) s->map = map;
  uint32_t ss = 0;
  if (r.Optional("sector_size", &ss)) s->sector_size = ss;
  return r.Finish();
}

std::string NormalizeRegion(const std::string& r) {
  if (!r.empty() && r.find_first_not_of("0123456789") == std::string::npos) return "region" + r;
  return r;
}

const Namespace* FindByUuid(const Inventory& inv, const std::string& uuid) {
  // The label's own uuid: on real pmem `uuid` is the claiming pfn/dax/btt's.
  for (const auto& n : inv.namespaces)
    if (n.raw_uuid.value_or(n.uuid.value_or("")) == uuid) return &n;
  return nullptr;
}

const Namespace* FindByDev(const Inventory& inv, const std::string& dev) {
  for (const auto& n : inv.namespaces)
    if (n.dev == dev) return &n;
  return nullptr;
}

}  // namespace

PlatformOwner::PlatformOwner(std::unique_ptr<Platform> platform, std::string journal_path, EventBus* events)
    : platform_(std::move(platform)), journal_path_(std::move(journal_path)), events_(events) {}

PlatformOwner::~PlatformOwner() = default;

Result<std::unique_ptr<PlatformOwner>> PlatformOwner::Open(std::unique_ptr<Platform> platform,
                                                           std::string journal_path, EventBus* events) {
  std::unique_ptr<PlatformOwner> o(new PlatformOwner(std::move(platform), std::move(journal_path), events));
  Result<std::string> text = ReadFile(o->journal_path_);
  if (!text.ok() && text.status().code() != Code::kNotFound) return text.status();
  if (text.ok()) {
    Result<json> doc = ParseJson(*text);
    if (!doc.ok() || !doc->is_object() || !(*doc)["intents"].is_array())
      return Status::Corruption("intent journal " + o->journal_path_ +
                                " is unreadable; compare the platform with `ndctl list` by hand, then remove it");
    for (const auto& e : (*doc)["intents"]) {
      Intent in;
      JsonReader r(e, "intent");
      r.Required("id", &in.id);
      r.Required("op", &in.op);
      r.Required("region", &in.region);
      r.Required("args", &in.args);
      if (Status s = r.Finish(); !s.ok())
        return Status::Corruption("intent journal " + o->journal_path_ + ": " + s.message());
      o->next_intent_ = std::max(o->next_intent_, in.id + 1);
      o->intents_[in.id] = std::move(in);
    }
  }
  PMEMD_RETURN_IF_ERROR(o->Reconcile());
  return o;
}

Status PlatformOwner::SaveJournal() {
  json arr = json::array();
  for (const auto& [id, in] : intents_)
    arr.push_back({{"id", in.id}, {"op", in.op}, {"region", in.region}, {"args", in.args}});
  return WriteFileAtomic(journal_path_, json{{"version", 1}, {"intents", std::move(arr)}}.dump() + "\n", 0600);
}

Result<uint64_t> PlatformOwner::Begin(const std::string& op, const std::string& region, json args) {
  std::lock_guard lock(journal_mu_);
  uint64_t id = next_intent_++;
  intents_[id] = {id, op, region, std::move(args)};
  Status s = SaveJournal();
  if (!s.ok()) {
    intents_.erase(id);
    return s.Annotate("record intent to " + op);
  }
  return id;
}

void PlatformOwner::End(uint64_t id) {
  std::lock_guard lock(journal_mu_);
  intents_.erase(id);
  // If this write fails the intent stays on disk and is reconciled, harmlessly,
  // at the next start: every reconciliation is idempotent.
  if (Status s = SaveJournal(); !s.ok()) Log()->warn("clear intent {}: {}", id, s.message());
}

Status PlatformOwner::Reconcile() {
  std::vector<Intent> pending;
  {
    std::lock_guard lock(journal_mu_);
    for (const auto& [id, in] : intents_) pending.push_back(in);
  }
  for (const Intent& in : pending) {
    std::string action;
    Status s = ReconcileOne(in, &action);
    if (!s.ok())
      return s.Annotate("reconcile interrupted " + in.op + " " + in.args.dump() +
                        " from the intent journal " + journal_path_);
    Log()->info("reconciled interrupted {}: {}", in.op, action);
    reconciled_.push_back(in.op + ": " + action);
    End(in.id);
  }
  return Status::Ok();
}

Status PlatformOwner::ReconcileOne(const Intent& in, std::string* action) {
  PMEMD_ASSIGN_OR_RETURN(Inventory inv, platform_->List());
  const json& a = in.args;
  if (in.op == "create-namespace") {
    std::string uuid = a.value("uuid", "");
    const Namespace* n = FindByUuid(inv, uuid);
    if (!n) return *action = "it had not started (no namespace with uuid " + uuid + ")", Status::Ok();
    if (n->enabled && n->mode == a.value("mode", "")) {
      *action = "it had completed: kept " + n->dev;
      return Status::Ok();
    }
    PMEMD_RETURN_IF_ERROR(platform_->DestroyNamespace(n->dev, true));
    *action = "removed the half-created " + n->dev + " (uuid " + uuid + ")";
    return Status::Ok();
  }
  if (in.op == "destroy-namespace") {
    const Namespace* n = FindByUuid(inv, a.value("uuid", ""));
    if (!n) return *action = "it had completed", Status::Ok();
    PMEMD_RETURN_IF_ERROR(platform_->DestroyNamespace(n->dev, true));
    *action = "finished destroying " + n->dev;
    return Status::Ok();
  }
  if (in.op == "enable-namespace" || in.op == "disable-namespace") {
    std::string dev = a.value("dev", "");
    if (!FindByDev(inv, dev)) return *action = dev + " no longer exists", Status::Ok();
    PMEMD_RETURN_IF_ERROR(in.op == "enable-namespace" ? platform_->EnableNamespace(dev)
                                                      : platform_->DisableNamespace(dev));
    *action = "finished: " + dev + (in.op == "enable-namespace" ? " enabled" : " disabled");
    return Status::Ok();
  }
  if (in.op == "reconfigure-namespace") {
    std::string dev = a.value("dev", "");
    NamespaceSpec spec;
    PMEMD_RETURN_IF_ERROR(SpecFromJson(a.value("spec", json::object()), &spec));
    const Namespace* n = FindByDev(inv, dev);
    if (!n) return *action = dev + " no longer exists", Status::Ok();
    if (n->enabled && n->raw_uuid.value_or(n->uuid.value_or("")) == spec.uuid && n->mode == spec.mode)
      return *action = "it had completed: " + dev + " is " + spec.mode, Status::Ok();
    // The old contents were given up when the user confirmed: finish.
    PMEMD_RETURN_IF_ERROR(platform_->ReconfigureNamespace(dev, spec).status());
    *action = "finished reconfiguring " + dev + " to " + spec.mode;
    return Status::Ok();
  }
  if (in.op == "reconfigure-device") {
    std::string chardev = a.value("chardev", "");
    PMEMD_RETURN_IF_ERROR(platform_->ReconfigureDevice(chardev, a.value("mode", ""), a.value("online", true),
                                                       a.value("movable", true))
                              .status());
    *action = "finished: " + chardev + " is " + a.value("mode", "");
    return Status::Ok();
  }
  if (in.op == "online-memory") {
    std::string chardev = a.value("chardev", "");
    PMEMD_RETURN_IF_ERROR(platform_->OnlineMemory(chardev, a.value("movable", true)).status());
    *action = "finished onlining " + chardev;
    return Status::Ok();
  }
  if (in.op == "offline-memory") {
    // All or nothing, and nothing was acknowledged: back to all online.
    std::string chardev = a.value("chardev", "");
    PMEMD_RETURN_IF_ERROR(platform_->OnlineMemory(chardev, a.value("movable", true)).status());
    *action = "undone: " + chardev + "'s memory is online again";
    return Status::Ok();
  }
  return Status::Corruption("unknown operation '" + in.op + "' in the intent journal");
}

std::mutex& PlatformOwner::RegionLock(const std::string& region) {
  std::lock_guard lock(locks_mu_);
  auto& m = region_locks_[region];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Result<std::string> PlatformOwner::RegionOf(const std::string& dev) {
  PMEMD_ASSIGN_OR_RETURN(Inventory inv, platform_->List());
  for (const auto& n : inv.namespaces)
    if (n.dev == dev || (n.chardev && *n.chardev == dev)) return n.region;
  for (const auto& d : inv.dax_devices)
    if (d.chardev == dev) return d.region;
  return std::string();  // unknown: the platform names the error
}

void PlatformOwner::SetInUseCheck(InUseCheck check) {
  std::lock_guard lock(check_mu_);
  in_use_ = std::move(check);
}

Status PlatformOwner::CheckInUse(const std::string& dev) {
  std::lock_guard lock(check_mu_);
  return in_use_ ? in_use_(dev) : Status::Ok();
}

Result<NamespacePlan> PlatformOwner::PlanCreateNamespace(const NamespaceSpec& spec) {
  return platform_->PlanCreateNamespace(spec);
}

Result<Namespace> PlatformOwner::CreateNamespace(NamespaceSpec spec) {
  spec.region = NormalizeRegion(spec.region);
  // The uuid is chosen here so that the journal can find the namespace again.
  if (spec.uuid.empty()) spec.uuid = NewUuid();
  std::lock_guard lock(RegionLock(spec.region));
  PMEMD_RETURN_IF_ERROR(platform_->PlanCreateNamespace(spec).status());
  PMEMD_ASSIGN_OR_RETURN(uint64_t id, Begin("create-namespace", spec.region,
                                            {{"uuid", spec.uuid}, {"mode", spec.mode}, {"spec", SpecToJson(spec)}}));
  Result<Namespace> r = platform_->CreateNamespace(spec);
  if (!r.ok()) {
    // Leave nothing half made: the same clean-up a restart would do.
    std::string action;
    Intent in;
    {
      std::lock_guard jl(journal_mu_);
      in = intents_[id];
    }
    Status c = ReconcileOne(in, &action);
    if (!c.ok()) {
      Log()->error("create-namespace failed ({}) and clean-up failed too ({}); it will be retried at start-up",
                   r.status().message(), c.message());
      return r.status();
    }
    Log()->info("create-namespace failed: {}; clean-up: {}", r.status().message(), action);
  }
  End(id);
  return r;
}

Status PlatformOwner::DestroyNamespace(const std::string& dev, bool force) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(dev));
  std::lock_guard lock(RegionLock(region));
  PMEMD_RETURN_IF_ERROR(CheckInUse(dev));
  PMEMD_ASSIGN_OR_RETURN(Inventory inv, platform_->List());
  const Namespace* n = FindByDev(inv, dev);
  if (n && n->chardev) PMEMD_RETURN_IF_ERROR(CheckInUse(*n->chardev));
  std::string uuid = n ? n->raw_uuid.value_or(n->uuid.value_or("")) : "";
  if (uuid.empty()) return platform_->DestroyNamespace(dev, force);  // unknown or label-less: no journal needed
  PMEMD_ASSIGN_OR_RETURN(uint64_t id, Begin("destroy-namespace", region, {{"dev", dev}, {"uuid", uuid}}));
  Status s = platform_->DestroyNamespace(dev, force);
  End(id);
  return s;
}

Status PlatformOwner::EnableNamespace(const std::string& dev) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(dev));
  std::lock_guard lock(RegionLock(region));
  PMEMD_ASSIGN_OR_RETURN(uint64_t id, Begin("enable-namespace", region, {{"dev", dev}}));
  Status s = platform_->EnableNamespace(dev);
  End(id);
  return s;
}

Status PlatformOwner::DisableNamespace(const std::string& dev) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(dev));
  std::lock_guard lock(RegionLock(region));
  PMEMD_RETURN_IF_ERROR(CheckInUse(dev));
  PMEMD_ASSIGN_OR_RETURN(uint64_t id, Begin("disable-namespace", region, {{"dev", dev}}));
  Status s = platform_->DisableNamespace(dev);
  End(id);
  return s;
}

Result<NamespacePlan> PlatformOwner::PlanReconfigureNamespace(const std::string& dev, const NamespaceSpec& spec) {
  return platform_->PlanReconfigureNamespace(dev, spec);
}

Result<Namespace> PlatformOwner::ReconfigureNamespace(const std::string& dev, NamespaceSpec spec, bool force) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(dev));
  std::lock_guard lock(RegionLock(region));
  PMEMD_RETURN_IF_ERROR(CheckInUse(dev));
  PMEMD_ASSIGN_OR_RETURN(NamespacePlan plan, platform_->PlanReconfigureNamespace(dev, spec));
  if (!force)
    return Status::FailedPrecondition("reconfiguring " + dev + " to " + plan.mode +
                                      " destroys the data on it; pass force (pmemctl: --force) to confirm");
  spec.uuid = plan.uuid;
  PMEMD_ASSIGN_OR_RETURN(uint64_t id,
                         Begin("reconfigure-namespace", region, {{"dev", dev}, {"spec", SpecToJson(spec)}}));
  Result<Namespace> r = platform_->ReconfigureNamespace(dev, spec);
  End(id);
  return r;
}

Result<DaxDevice> PlatformOwner::ReconfigureDevice(const std::string& chardev, const std::string& mode, bool online,
                                                   bool movable) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(chardev));
  std::lock_guard lock(RegionLock(region));
  PMEMD_RETURN_IF_ERROR(CheckInUse(chardev));
  PMEMD_ASSIGN_OR_RETURN(uint64_t id, Begin("reconfigure-device", region,
                                            {{"chardev", chardev}, {"mode", mode}, {"online", online},
                                             {"movable", movable}}));
  Result<DaxDevice> r = platform_->ReconfigureDevice(chardev, mode, online, movable);
  End(id);
  return r;
}

Result<MemoryOpResult> PlatformOwner::OnlineMemory(const std::string& chardev, bool movable) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(chardev));
  std::lock_guard lock(RegionLock(region));
  PMEMD_ASSIGN_OR_RETURN(uint64_t id,
                         Begin("online-memory", region, {{"chardev", chardev}, {"movable", movable}}));
  Result<MemoryOpResult> r = platform_->OnlineMemory(chardev, movable);
  End(id);
  return r;
}

Result<MemoryOpResult> PlatformOwner::OfflineMemory(const std::string& chardev) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(chardev));
  std::lock_guard lock(RegionLock(region));
  PMEMD_ASSIGN_OR_RETURN(Inventory inv, platform_->List());
  bool movable = true;
  for (const auto& d : inv.dax_devices)
    if (d.chardev == chardev && d.movable) movable = *d.movable;
  PMEMD_ASSIGN_OR_RETURN(uint64_t id,
                         Begin("offline-memory", region, {{"chardev", chardev}, {"movable", movable}}));
  Result<MemoryOpResult> r = platform_->OfflineMemory(chardev);
  End(id);
  return r;
}

}  // namespace pmemd
