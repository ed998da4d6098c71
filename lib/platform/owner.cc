#include "pmemd/owner.h"

#include <algorithm>
#include <set>

#include "platform/namespace_plan.h"
#include "platform/namespace_rules.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/log.h"
#include "pmemd/platform_json.h"
#include "pmemd/uuid.h"

namespace pmemd {

using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto log = GetLogger("owner");
  return log;
}

// A region's lock for one operation, or nothing when the calling thread
// holds every region already (PlatformOwner::RegionsHold).
class RegionGuard {
 public:
  explicit RegionGuard(Mutex* mu) NO_THREAD_SAFETY_ANALYSIS : mu_(mu) {
    if (mu_) mu_->Lock();
  }
  ~RegionGuard() NO_THREAD_SAFETY_ANALYSIS {
    if (mu_) mu_->Unlock();
  }
  RegionGuard(const RegionGuard&) = delete;
  RegionGuard& operator=(const RegionGuard&) = delete;

 private:
  Mutex* mu_;
};

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
  ReadNamespaceSpec(r, s);
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
      MutexLock lock(o->journal_mu_);  // not shared yet; the analysis wants it all the same
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
  MutexLock lock(journal_mu_);
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
  MutexLock lock(journal_mu_);
  intents_.erase(id);
  // If this write fails the intent stays on disk and is reconciled, harmlessly,
  // at the next start: every reconciliation is idempotent.
  if (Status s = SaveJournal(); !s.ok()) Log()->warn("clear intent {}: {}", id, s.message());
}

Status PlatformOwner::Reconcile() {
  std::vector<Intent> pending;
  {
    MutexLock lock(journal_mu_);
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

// ---- The operations ---------------------------------------------------------
//
// One row per journaled operation: its name in the journal, and what the
// next start does with an intent the operation left (it was cut short): find
// it done, finish it or undo it, returning what it did for the log. Run()
// below brackets every operation the same way; Reconcile() dispatches the
// journal through this table.

namespace {

using Reconciler = Result<std::string> (*)(Platform& p, const Inventory& inv, const json& args);

struct Operation {
  const char* name;
  Reconciler reconcile;
  // A failed call is cleaned up at once, as a restart would (a create that
  // failed half way leaves nothing behind).
  bool clean_up_on_failure = false;
};

Result<std::string> ReconcileCreate(Platform& p, const Inventory& inv, const json& a) {
  const std::string uuid = a.value("uuid", "");
  const Namespace* n = FindByUuid(inv, uuid);
  if (!n) return "it had not started (no namespace with uuid " + uuid + ")";
  if (n->enabled && n->mode == a.value("mode", "")) return "it had completed: kept " + n->dev;
  PMEMD_RETURN_IF_ERROR(p.DestroyNamespace(n->dev, true));
  return "removed the half-created " + n->dev + " (uuid " + uuid + ")";
}

Result<std::string> ReconcileDestroy(Platform& p, const Inventory& inv, const json& a) {
  const Namespace* n = FindByUuid(inv, a.value("uuid", ""));
  if (!n) return std::string("it had completed");
  PMEMD_RETURN_IF_ERROR(p.DestroyNamespace(n->dev, true));
  return "finished destroying " + n->dev;
}

Result<std::string> ReconcileEnable(Platform& p, const Inventory& inv, const json& a) {
  const std::string dev = a.value("dev", "");
  if (!FindByDev(inv, dev)) return dev + " no longer exists";
  PMEMD_RETURN_IF_ERROR(p.EnableNamespace(dev));
  return "finished: " + dev + " enabled";
}

Result<std::string> ReconcileDisable(Platform& p, const Inventory& inv, const json& a) {
  const std::string dev = a.value("dev", "");
  if (!FindByDev(inv, dev)) return dev + " no longer exists";
  PMEMD_RETURN_IF_ERROR(p.DisableNamespace(dev));
  return "finished: " + dev + " disabled";
}

Result<std::string> ReconcileReconfigure(Platform& p, const Inventory& inv, const json& a) {
  const std::string dev = a.value("dev", "");
  NamespaceSpec spec;
  PMEMD_RETURN_IF_ERROR(SpecFromJson(a.value("spec", json::object()), &spec));
  const Namespace* n = FindByDev(inv, dev);
  if (!n) return dev + " no longer exists";
  if (n->enabled && n->raw_uuid.value_or(n->uuid.value_or("")) == spec.uuid && n->mode == spec.mode)
    return "it had completed: " + dev + " is " + spec.mode;
  // The old contents were given up when the user confirmed: finish.
  PMEMD_RETURN_IF_ERROR(p.ReconfigureNamespace(dev, spec).status());
  return "finished reconfiguring " + dev + " to " + spec.mode;
}

Result<std::string> ReconcileDevice(Platform& p, const Inventory&, const json& a) {
  const std::string chardev = a.value("chardev", "");
  PMEMD_RETURN_IF_ERROR(
      p.ReconfigureDevice(chardev, a.value("mode", ""), a.value("online", true), a.value("movable", true), {})
          .status());
  return "finished: " + chardev + " is " + a.value("mode", "");
}

Result<std::string> ReconcileOnline(Platform& p, const Inventory&, const json& a) {
  const std::string chardev = a.value("chardev", "");
  PMEMD_RETURN_IF_ERROR(p.OnlineMemory(chardev, a.value("movable", true), {}).status());
  return "finished onlining " + chardev;
}

Result<std::string> ReconcileOffline(Platform& p, const Inventory&, const json& a) {
  // All or nothing, and nothing was acknowledged: back to all online.
  const std::string chardev = a.value("chardev", "");
  PMEMD_RETURN_IF_ERROR(p.OnlineMemory(chardev, a.value("movable", true), {}).status());
  return "undone: " + chardev + "'s memory is online again";
}

constexpr Operation kOperations[] = {
    {"create-namespace", ReconcileCreate, /*clean_up_on_failure=*/true},
    {"destroy-namespace", ReconcileDestroy},
    {"enable-namespace", ReconcileEnable},
    {"disable-namespace", ReconcileDisable},
    {"reconfigure-namespace", ReconcileReconfigure},
    {"reconfigure-device", ReconcileDevice},
    {"online-memory", ReconcileOnline},
    {"offline-memory", ReconcileOffline},
};

const Operation* FindOperation(std::string_view name) {
  for (const Operation& op : kOperations)
    if (name == op.name) return &op;
  return nullptr;
}

}  // namespace

Status PlatformOwner::ReconcileOne(const Intent& in, std::string* action) {
  const Operation* op = FindOperation(in.op);
  if (op == nullptr) return Status::Corruption("unknown operation '" + in.op + "' in the intent journal");
  PMEMD_ASSIGN_OR_RETURN(Inventory inv, platform_->List());
  PMEMD_ASSIGN_OR_RETURN(*action, op->reconcile(*platform_, inv, in.args));
  return Status::Ok();
}

template <typename T>
Result<T> PlatformOwner::Run(const char* op, const std::string& region, const Prepare& prepare,
                             const std::function<Result<T>()>& body) {
  const Operation* row = FindOperation(op);
  RegionGuard lock(holder_.load() == std::this_thread::get_id() ? nullptr : &RegionLock(region));
  PMEMD_ASSIGN_OR_RETURN(json args, prepare());
  if (args.is_null()) return body();  // nothing a restart could find again: no intent
  PMEMD_ASSIGN_OR_RETURN(uint64_t id, Begin(op, region, std::move(args)));
  Result<T> r = body();
  if (!r.ok() && row != nullptr && row->clean_up_on_failure) {
    // Leave nothing half made: the same clean-up a restart would do.
    Intent in;
    {
      MutexLock jl(journal_mu_);
      in = intents_[id];
    }
    std::string action;
    if (Status c = ReconcileOne(in, &action); !c.ok()) {
      Log()->error("{} failed ({}) and clean-up failed too ({}); it will be retried at start-up", op,
                   r.status().message(), c.message());
      return r;  // the intent stays for the next start
    }
    Log()->info("{} failed: {}; clean-up: {}", op, r.status().message(), action);
  }
  End(id);
  return r;
}

PlatformOwner::RegionsHold::RegionsHold(PlatformOwner* owner, std::vector<Mutex*> locks)
    : owner_(owner), locks_(std::move(locks)) {}

// The region locks are taken and let go in different functions (the hold's
// life), which the analysis cannot follow: hold_mu_ and the region locks are
// checked by the tests instead (owner_test.cc, layout_apply_test.cc).
PlatformOwner::RegionsHold::~RegionsHold() NO_THREAD_SAFETY_ANALYSIS {
  owner_->holder_.store(std::thread::id());
  for (auto it = locks_.rbegin(); it != locks_.rend(); ++it) (*it)->Unlock();
  owner_->hold_mu_.Unlock();
}

Result<std::unique_ptr<PlatformOwner::RegionsHold>> PlatformOwner::HoldAllRegions() NO_THREAD_SAFETY_ANALYSIS {
  PMEMD_ASSIGN_OR_RETURN(Inventory inv, platform_->List());
  std::set<std::string> names;  // in name order: every holder locks in the same order
  for (const auto& r : inv.regions) names.insert(r.dev);
  hold_mu_.Lock();
  std::vector<Mutex*> locks;
  for (const auto& n : names) {
    Mutex* m = &RegionLock(n);
    m->Lock();
    locks.push_back(m);
  }
  holder_.store(std::this_thread::get_id());
  return std::unique_ptr<RegionsHold>(new RegionsHold(this, std::move(locks)));
}

Mutex& PlatformOwner::RegionLock(const std::string& region) {
  MutexLock lock(locks_mu_);
  auto& m = region_locks_[region];
  if (!m) m = std::make_unique<Mutex>();
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
  MutexLock lock(check_mu_);
  in_use_ = std::move(check);
}

Status PlatformOwner::CheckInUse(const std::string& dev) {
  MutexLock lock(check_mu_);
  return in_use_ ? in_use_(dev) : Status::Ok();
}

Result<NamespacePlan> PlatformOwner::PlanCreateNamespace(const NamespaceSpec& spec) {
  return platform_->PlanCreateNamespace(spec);
}

Result<std::optional<Namespace>> PlatformOwner::FindCreateRetry(const NamespaceSpec& spec) {
  if (spec.name.empty()) return std::optional<Namespace>();
  PMEMD_ASSIGN_OR_RETURN(Inventory inv, platform_->List());
  return nsplan::FindCreateRetry(inv, spec);
}

Result<Namespace> PlatformOwner::CreateNamespace(NamespaceSpec spec, bool* created) {
  spec.region = NormalizeRegion(spec.region);
  std::optional<Namespace> existing;
  Result<Namespace> r = Run<Namespace>(
      "create-namespace", spec.region,
      [&]() -> Result<json> {
        // Under the region lock, so that two identical requests make one
        // namespace (the second finds the first's).
        PMEMD_ASSIGN_OR_RETURN(existing, FindCreateRetry(spec));
        if (existing) return json();  // a retry: nothing to do, no intent
        // The uuid is chosen here so that the journal can find the namespace again.
        if (spec.uuid.empty()) spec.uuid = NewUuid();
        PMEMD_RETURN_IF_ERROR(platform_->PlanCreateNamespace(spec).status());
        return json{{"uuid", spec.uuid}, {"mode", spec.mode}, {"spec", SpecToJson(spec)}};
      },
      [&]() -> Result<Namespace> {
        if (existing) return *existing;
        return platform_->CreateNamespace(spec);
      });
  if (created) *created = r.ok() && !existing;
  return r;
}

Status PlatformOwner::DestroyNamespace(const std::string& dev, bool force) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(dev));
  return Run<bool>(
      "destroy-namespace", region,
      [&]() -> Result<json> {
        PMEMD_RETURN_IF_ERROR(CheckInUse(dev));
        PMEMD_ASSIGN_OR_RETURN(Inventory inv, platform_->List());
        const Namespace* n = FindByDev(inv, dev);
        if (n && n->chardev) PMEMD_RETURN_IF_ERROR(CheckInUse(*n->chardev));
        const std::string uuid = n ? n->raw_uuid.value_or(n->uuid.value_or("")) : "";
        // Unknown or label-less: nothing a restart could find again.
        if (uuid.empty()) return json(nullptr);
        return json{{"dev", dev}, {"uuid", uuid}};
      },
      [&]() -> Result<bool> {
        PMEMD_RETURN_IF_ERROR(platform_->DestroyNamespace(dev, force));
        return true;
      })
      .status();
}

Status PlatformOwner::EnableNamespace(const std::string& dev) {
  return SetEnabled(dev, true);
}

Status PlatformOwner::DisableNamespace(const std::string& dev) {
  return SetEnabled(dev, false);
}

Status PlatformOwner::SetEnabled(const std::string& dev, bool enable) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(dev));
  return Run<bool>(
             enable ? "enable-namespace" : "disable-namespace", region,
             [&]() -> Result<json> {
               if (!enable) PMEMD_RETURN_IF_ERROR(CheckInUse(dev));
               return json{{"dev", dev}};
             },
             [&]() -> Result<bool> {
               PMEMD_RETURN_IF_ERROR(enable ? platform_->EnableNamespace(dev) : platform_->DisableNamespace(dev));
               return true;
             })
      .status();
}

Result<NamespacePlan> PlatformOwner::PlanReconfigureNamespace(const std::string& dev, const NamespaceSpec& spec) {
  return platform_->PlanReconfigureNamespace(dev, spec);
}

Result<Namespace> PlatformOwner::ReconfigureNamespace(const std::string& dev, NamespaceSpec spec, bool force) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(dev));
  return Run<Namespace>(
      "reconfigure-namespace", region,
      [&]() -> Result<json> {
        PMEMD_RETURN_IF_ERROR(CheckInUse(dev));
        PMEMD_ASSIGN_OR_RETURN(NamespacePlan plan, platform_->PlanReconfigureNamespace(dev, spec));
        if (!force)
          return Status::FailedPrecondition("reconfiguring " + dev + " to " + plan.mode +
                                            " destroys the data on it; pass force (pmemctl: --force) to confirm");
        spec.uuid = plan.uuid;
        return json{{"dev", dev}, {"spec", SpecToJson(spec)}};
      },
      [&] { return platform_->ReconfigureNamespace(dev, spec); });
}

Result<DaxDevice> PlatformOwner::ReconfigureDevice(const std::string& chardev, const std::string& mode, bool online,
                                                   bool movable, const ProgressFn& progress) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(chardev));
  return Run<DaxDevice>(
      "reconfigure-device", region,
      [&]() -> Result<json> {
        PMEMD_RETURN_IF_ERROR(CheckInUse(chardev));
        return json{{"chardev", chardev}, {"mode", mode}, {"online", online}, {"movable", movable}};
      },
      [&] { return platform_->ReconfigureDevice(chardev, mode, online, movable, progress); });
}

Result<MemoryOpResult> PlatformOwner::OnlineMemory(const std::string& chardev, bool movable,
                                                   const ProgressFn& progress) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(chardev));
  return Run<MemoryOpResult>(
      "online-memory", region, [&]() -> Result<json> { return json{{"chardev", chardev}, {"movable", movable}}; },
      [&] { return platform_->OnlineMemory(chardev, movable, progress); });
}

Result<MemoryOpResult> PlatformOwner::OfflineMemory(const std::string& chardev, const ProgressFn& progress) {
  PMEMD_ASSIGN_OR_RETURN(std::string region, RegionOf(chardev));
  return Run<MemoryOpResult>(
      "offline-memory", region,
      [&]() -> Result<json> {
        // The zone to online into again if the offline is cut short.
        PMEMD_ASSIGN_OR_RETURN(Inventory inv, platform_->List());
        bool movable = true;
        for (const auto& d : inv.dax_devices)
          if (d.chardev == chardev && d.movable) movable = *d.movable;
        return json{{"chardev", chardev}, {"movable", movable}};
      },
      [&] { return platform_->OfflineMemory(chardev, progress); });
}

}  // namespace pmemd
