// PlanLayout: the diff from a snapshot to a layout, as ordered steps, with
// every reason it cannot run gathered first (layout.h).
#include <algorithm>
#include <array>
#include <set>

#include "layout/problems.h"
#include "pmemd/layout.h"
#include "pmemd/size.h"
#include "pmemd/text.h"

namespace pmemd {

using nlohmann::json;

namespace {

// The order steps run in: what goes away first, innermost first, then what
// comes, outermost first.
enum Phase {
  kDeleteLeases,
  kDetachPools,
  kOfflineBlocks,
  kKmemDown,
  kDestroyNamespaces,
  kReconfigureNamespaces,
  kCreateNamespaces,
  kKmemUp,
  kOnlineMemory,
  kCreatePools,
  kOnlineBlocks,
  kCreateLeases,
  kPhases
};

// What the plan does with a namespace the host has.
enum class Fate { kKeep, kReplace, kReconfigure, kDestroy };

void Differ(std::string* out, const std::string& field, const std::string& layout, const std::string& has) {
  *out += (out->empty() ? "" : ", ") + field + ": layout " + layout + ", has " + has;
}
std::string Num(uint64_t v) { return std::to_string(v); }

class Planner {
 public:
  Planner(const Layout& l, const LayoutSnapshot& now, PlatformOwner& owner, const ApplyOptions& o)
      : l_(l), now_(now), owner_(owner), prune_(o.prune || l.prune), force_(o.force) {
    for (const auto& n : now.inventory.namespaces)
      if (n.name && !n.name->empty()) by_name_[*n.name].push_back(&n);
    for (const auto& d : now.inventory.dax_devices)
      if (!d.ns.empty()) dax_of_ns_[d.ns] = &d;
    for (const auto& p : now.pools) pools_[p.status.name] = &p;
    for (const auto& u : now.unavailable) unavailable_[u.name] = &u;
  }

  Result<LayoutPlan> Run() {
    PlanNamespaces();
    PlanSystemRam();
    PlanPools();
    PlanBlocksAndLeases();
    CheckBusyNamespaces();
    for (const auto& phase : phases_)
      for (const PlanStep& s : phase)
        if (s.destroys_data && !force_)
          problems_.Add(Status::FailedPrecondition(s.op + " " + s.object + " destroys data (" + s.reason +
                                                   "); pass force (pmemctl apply --force) to allow it"));
    PMEMD_RETURN_IF_ERROR(problems_.Fail("the layout cannot be applied"));
    LayoutPlan plan;
    for (auto& phase : phases_)
      for (auto& s : phase) plan.steps.push_back(std::move(s));
    return plan;
  }

 private:
  void Add(Phase phase, std::string op, std::string object, std::string reason, bool destroys, json params) {
    phases_[phase].push_back({std::move(op), std::move(object), std::move(reason), destroys, std::move(params)});
  }

  Fate FateOf(const std::string& dev) const {
    auto it = fate_.find(dev);
    return it == fate_.end() ? Fate::kKeep : it->second;
  }
  // The namespace of the host that layout namespace `name` is, when it stays.
  const Namespace* Kept(const std::string& name) const {
    auto it = existing_.find(name);
    return it != existing_.end() && FateOf(it->second->dev) == Fate::kKeep ? it->second : nullptr;
  }
  bool LabelLess(const std::string& region) const {
    for (const auto& r : now_.inventory.regions)
      if (r.dev == region) return !r.label_support;
    return false;
  }

  static NamespaceSpec SpecOf(const LayoutNamespace& n) {
    NamespaceSpec s;
    s.region = n.region;
    s.mode = n.mode;
    s.size = n.size;
    s.align = n.align;
    s.map = n.map;
    s.name = n.name;
    s.sector_size = n.sector_size;
    return s;
  }
  static json SpecParams(const LayoutNamespace& n) {
    json j = {{"mode", n.mode}, {"name", n.name}};
    if (n.size) j["size"] = *n.size;
    if (n.align) j["align"] = *n.align;
    if (n.map) j["map"] = *n.map;
    if (n.sector_size) j["sector_size"] = *n.sector_size;
    return j;
  }
  static std::string Describe(const LayoutNamespace& n) {
    return n.mode + (n.size ? " " + HumanSize(*n.size) : std::string(" (the largest free extent)")) + " in " +
           n.region;
  }

  // A system-ram device goes back to devdax before its namespace changes.
  void KmemDown(const Namespace& n, const std::string& why) {
    auto d = dax_of_ns_.find(n.dev);
    if (d == dax_of_ns_.end() || d->second->mode != "system-ram") return;
    const DaxDevice& dev = *d->second;
    if (dev.online_memblocks.value_or(0) > 0)
      Add(kKmemDown, "offline-memory", "memory of " + dev.chardev, why, false, {{"device", dev.chardev}});
    Add(kKmemDown, "reconfigure-device", "dax device " + dev.chardev, why + ": back to devdax", false,
        {{"device", dev.chardev}, {"mode", "devdax"}});
  }

  void PlanNamespaces() {
    std::vector<std::string> released;
    std::vector<const LayoutNamespace*> creates;
    std::set<std::string> wanted;
    for (const LayoutNamespace& ln : l_.namespaces) {
      wanted.insert(ln.name);
      const auto found = by_name_.find(ln.name);
      if (found == by_name_.end()) {
        creates.push_back(&ln);
        reasons_[ln.name] = "in the layout, not on the host: " + Describe(ln);
        continue;
      }
      if (found->second.size() > 1) {
        std::string devs;
        for (const Namespace* n : found->second) devs += (devs.empty() ? "" : ", ") + n->dev;
        problems_.Add(Status::FailedPrecondition(
            "the host has " + std::to_string(found->second.size()) + " namespaces named " + Quote(ln.name) + " (" +
            devs + "), so the layout cannot tell which it means; rename or destroy all but one"));
        continue;
      }
      const Namespace& n = *found->second.front();
      existing_[ln.name] = &n;
      std::string remake, reconfigure;
      if (ln.region != n.region) Differ(&remake, "region", ln.region, n.region);
      if (ln.size && *ln.size != n.raw_size) Differ(&remake, "size", Num(*ln.size), Num(n.raw_size));
      if (ln.mode != n.mode) Differ(&reconfigure, "mode", ln.mode, n.mode);
      if (ln.map && *ln.map != n.map.value_or("")) Differ(&reconfigure, "map", *ln.map, n.map.value_or("none"));
      if (ln.align && *ln.align != n.align.value_or(0))
        Differ(&reconfigure, "align", Num(*ln.align), n.align ? Num(*n.align) : "none");
      if (ln.sector_size && *ln.sector_size != n.sector_size.value_or(0))
        Differ(&reconfigure, "sector_size", Num(*ln.sector_size), n.sector_size ? Num(*n.sector_size) : "none");
      const std::string object = "namespace " + ln.name + " (" + n.dev + ")";
      if (!remake.empty()) {
        fate_[n.dev] = Fate::kReplace;
        released.push_back(n.dev);
        creates.push_back(&ln);
        reasons_[ln.name] = "re-made with the layout's " + remake;
        KmemDown(n, "namespace " + ln.name + " is re-made");
        Add(kDestroyNamespaces, "destroy-namespace", object, "to re-make it: " + remake, true,
            {{"namespace", n.dev}, {"force", true}});
        CheckUnusedOutside(n, "destroy");
      } else if (!reconfigure.empty()) {
        fate_[n.dev] = Fate::kReconfigure;
        KmemDown(n, "namespace " + ln.name + " is reconfigured");
        json params = SpecParams(ln);
        params["namespace"] = n.dev;
        params["force"] = true;
        Add(kReconfigureNamespaces, "reconfigure-namespace", object, reconfigure, true, params);
        NamespaceSpec spec = SpecOf(ln);
        spec.region.clear();
        Result<NamespacePlan> p = owner_.PlanReconfigureNamespace(n.dev, spec);
        if (p.ok())
          usable_[ln.name] = p->size;
        else
          problems_.Add(p.status().Annotate("namespace " + Quote(ln.name)));
        CheckUnusedOutside(n, "reconfigure");
      }
    }
    for (const auto& n : now_.inventory.namespaces) {
      if (n.name && wanted.count(*n.name)) continue;
      // A label-less region's namespace is the region itself: never destroyed.
      if (!prune_ || LabelLess(n.region)) continue;
      fate_[n.dev] = Fate::kDestroy;
      released.push_back(n.dev);
      const std::string object = "namespace " + (n.name && !n.name->empty() ? *n.name + " (" + n.dev + ")" : n.dev);
      KmemDown(n, object + " is not in the layout");
      Add(kDestroyNamespaces, "destroy-namespace", object, "not in the layout (prune)", true,
          {{"namespace", n.dev}, {"force", true}});
      CheckUnusedOutside(n, "destroy");
    }
    // Whether they all fit, planned in order over what the destroys free.
    std::vector<NamespaceSpec> specs;
    for (const LayoutNamespace* ln : creates) specs.push_back(SpecOf(*ln));
    std::vector<Result<NamespacePlan>> plans = owner_.PlanCreateSeries(released, specs);
    for (size_t i = 0; i < creates.size(); ++i) {
      const LayoutNamespace& ln = *creates[i];
      if (i < plans.size() && !plans[i].ok()) {
        problems_.Add(plans[i].status().Annotate("namespace " + Quote(ln.name)));
        continue;
      }
      if (i < plans.size()) usable_[ln.name] = plans[i]->size;
      json params = SpecParams(ln);
      params["region"] = ln.region;
      Add(kCreateNamespaces, "create-namespace", "namespace " + ln.name, reasons_[ln.name], false, params);
    }
  }

  void CheckUnusedOutside(const Namespace& n, const std::string& op) {
    problems_.Add(owner_.CheckUnusedOutsidePmemd(n.dev, op));
  }

  void PlanSystemRam() {
    std::map<std::string, const LayoutSystemRam*> wanted;
    for (const auto& s : l_.system_ram) wanted[s.ns] = &s;
    for (const LayoutNamespace& ln : l_.namespaces) {
      const Namespace* n = Kept(ln.name);
      const DaxDevice* d = nullptr;
      if (n) {
        auto it = dax_of_ns_.find(n->dev);
        if (it != dax_of_ns_.end()) d = it->second;
      }
      auto w = wanted.find(ln.name);
      const LayoutSystemRam* sr = w == wanted.end() ? nullptr : w->second;
      if (d && d->mode == "system-ram") {
        const std::string object = "memory of " + d->chardev + " (namespace " + ln.name + ")";
        const uint64_t online = d->online_memblocks.value_or(0), total = d->total_memblocks.value_or(0);
        if (!sr) {
          if (prune_) KmemDown(*n, "namespace " + ln.name + " is not system_ram in the layout (prune)");
          continue;
        }
        const bool movable = d->movable.value_or(true);
        if (sr->online && online < total) {
          Add(kOnlineMemory, "online-memory", object, Num(online) + " of " + Num(total) + " blocks online", false,
              {{"device", d->chardev}, {"movable", sr->movable}});
        } else if (sr->online && movable != sr->movable) {
          const std::string why = std::string("zone: layout ") + (sr->movable ? "movable" : "normal") + ", has " +
                                  (movable ? "movable" : "normal");
          Add(kKmemDown, "offline-memory", object, why, false, {{"device", d->chardev}});
          Add(kOnlineMemory, "online-memory", object, why, false, {{"device", d->chardev}, {"movable", sr->movable}});
        } else if (!sr->online && online > 0) {
          Add(kKmemDown, "offline-memory", object, "the layout says online: false", false, {{"device", d->chardev}});
        }
        continue;
      }
      if (!sr) continue;
      json params = {{"mode", "system-ram"}, {"online", sr->online}, {"movable", sr->movable}};
      std::string object = "dax device of namespace " + ln.name;
      if (d) {
        params["device"] = d->chardev;
        object = "dax device " + d->chardev + " (namespace " + ln.name + ")";
        // Not a data-destroying step, as for reconfigure-device and daxctl:
        // the layout names this namespace as memory, and after every reboot
        // the kernel brings a kmem device back as devdax for the start-up
        // layout (which never forces) to put back. A process holding the
        // device is busy (below).
        CheckUnusedOutside(*n, "make system-ram");
        system_ram_devices_.insert(d->chardev);
      } else {
        params["of_namespace"] = ln.name;
      }
      Add(kKmemUp, "reconfigure-device", object,
          std::string("to system-ram, ") + (sr->online ? "online " : "offline ") +
              (sr->movable ? "movable" : "normal"),
          false, params);
    }
  }

  // The device a layout pool is on: the dax device of a kept namespace, a
  // named device, or "" when its namespace is made by this plan.
  std::string DeviceOf(const LayoutPool& p) const {
    if (!p.device.empty()) return p.device;
    if (p.ns.empty()) return "";
    const Namespace* n = Kept(p.ns);
    return n && n->chardev ? *n->chardev : "";
  }

  // The bytes a new pool would have, or 0 when not known before it runs.
  uint64_t SizeFor(const LayoutPool& p) const {
    if (!p.path.empty()) return p.size.value_or(0);
    const std::string dev = DeviceOf(p);
    if (!dev.empty()) {
      for (const auto& d : now_.inventory.dax_devices)
        if (d.chardev == dev) return d.size;
      return 0;
    }
    auto it = usable_.find(p.ns);
    return it == usable_.end() ? 0 : it->second;
  }

  void PlanPools() {
    std::set<std::string> wanted;
    for (const LayoutPool& lp : l_.pools) {
      wanted.insert(lp.name);
      if (auto u = unavailable_.find(lp.name); u != unavailable_.end()) {
        problems_.Add(Status::FailedPrecondition("pool " + Quote(lp.name) + " is recorded but could not be attached (" +
                                                 u->second->error.message() + "); fix that, or detach-pool " +
                                                 lp.name + " to forget it"));
        continue;
      }
      const std::string device = DeviceOf(lp);
      std::string target_text = !lp.path.empty() ? lp.path
                                : !device.empty() ? device
                                                  : "the dax device of namespace " + lp.ns;
      auto existing = pools_.find(lp.name);
      std::string diffs;
      if (existing != pools_.end()) {
        const PoolStatus& s = existing->second->status;
        const std::string has = !s.backing.device.empty() ? s.backing.device : s.backing.path;
        const bool same_target = !lp.path.empty() ? s.backing.path == lp.path
                                                  : !device.empty() && s.backing.device == device;
        if (!same_target) Differ(&diffs, "target", target_text, has);
        if (lp.block_size && *lp.block_size != s.block_size)
          Differ(&diffs, "block_size", Num(*lp.block_size), Num(s.block_size));
        if (lp.max_leases && *lp.max_leases != s.max_leases)
          Differ(&diffs, "max_leases", Num(*lp.max_leases), Num(s.max_leases));
        if (lp.memmap && *lp.memmap != s.memmap)
          Differ(&diffs, "memmap", std::string(PoolMemmapName(*lp.memmap)), std::string(PoolMemmapName(s.memmap)));
        if (lp.size && *lp.size != s.size) Differ(&diffs, "size", Num(*lp.size), Num(s.size));
        if (lp.owner_uid && lp.owner_uid != s.owner_uid)
          Differ(&diffs, "owner_uid", Num(*lp.owner_uid), s.owner_uid ? Num(*s.owner_uid) : "none");
        if (lp.owner_gid && lp.owner_gid != s.owner_gid)
          Differ(&diffs, "owner_gid", Num(*lp.owner_gid), s.owner_gid ? Num(*s.owner_gid) : "none");
        if (diffs.empty()) {
          kept_pools_.insert(lp.name);
          continue;
        }
        detached_.insert(lp.name);
        Add(kDetachPools, "detach-pool", "pool " + lp.name, "to re-make it: " + diffs, false, {{"pool", lp.name}});
      }
      // A new pool (or the re-made one): checked as create-pool would.
      PoolFormatOptions fo;
      fo.name = lp.name;
      fo.block_size = lp.block_size.value_or(kPoolDefaultBlockSize);
      fo.max_leases = lp.max_leases.value_or(4096);
      fo.memmap = lp.memmap.value_or(PoolMemmap::kDev);
      if (const uint64_t size = SizeFor(lp); size != 0)
        problems_.Add(Pool::CheckFormat(size, fo, target_text).Annotate("pool " + Quote(lp.name)));
      else if (!device.empty() && lp.ns.empty())
        problems_.Add(Status::NotFound("pool " + Quote(lp.name) + ": dax device " + device +
                                       " does not exist; name it by its namespace when the layout makes it"));
      json params = {{"name", lp.name}, {"block_size", fo.block_size}, {"max_leases", fo.max_leases},
                     {"memmap", PoolMemmapName(fo.memmap)}};
      if (!lp.path.empty()) {
        params["path"] = lp.path;
        params["size"] = *lp.size;
      } else if (!lp.ns.empty()) {
        params["of_namespace"] = lp.ns;
      } else {
        params["device"] = lp.device;
      }
      if (lp.owner_uid) params["owner_uid"] = *lp.owner_uid;
      if (lp.owner_gid) params["owner_gid"] = *lp.owner_gid;
      if (!diffs.empty()) params["force"] = true;
      Add(kCreatePools, "create-pool", "pool " + lp.name,
          diffs.empty() ? "in the layout, not on the host: on " + target_text : "re-made on " + target_text,
          !diffs.empty(), params);
    }
    for (const auto& [name, p] : pools_) {
      if (wanted.count(name) || !prune_) continue;
      detached_.insert(name);
      Add(kDetachPools, "detach-pool", "pool " + name,
          "not in the layout (prune); its leases stay on the media, attach-pool brings it back", false,
          {{"pool", name}});
    }
    for (const auto& [name, u] : unavailable_)
      if (!wanted.count(name) && prune_)
        Add(kDetachPools, "detach-pool", "pool " + name, "not in the layout (prune); recorded but unavailable", false,
            {{"pool", name}});
    // A pool the plan keeps, or makes, on a device whose namespace goes away.
    for (const auto& [name, p] : pools_) {
      if (detached_.count(name)) continue;
      for (const auto& n : now_.inventory.namespaces)
        if (FateOf(n.dev) != Fate::kKeep && n.chardev && p->status.backing.device == *n.chardev)
          problems_.Add(Status::Busy("namespace " + n.dev + " holds pool " + Quote(name) +
                                     ", which the layout keeps on " + *n.chardev + "; the plan would " +
                                     (FateOf(n.dev) == Fate::kReconfigure ? "reconfigure" : "destroy") +
                                     " it under the pool: move the pool, or leave the namespace as it is"));
    }
  }

  void PlanBlocksAndLeases() {
    std::map<std::string, std::vector<const LayoutLease*>> leases_of;
    for (const LayoutLease& e : l_.leases) leases_of[e.pool].push_back(&e);
    for (const LayoutPool& lp : l_.pools) {
      const bool kept = kept_pools_.count(lp.name) > 0;
      const LayoutSnapshot::PoolState* ps = kept ? pools_.at(lp.name) : nullptr;
      // Whether it will have an online block for leases.
      bool any_online = ps && ps->status.blocks_online > 0;
      if (lp.online_blocks && lp.online_blocks != "none") {
        any_online = true;
        if (ps)
          if (auto want = ParseBlockSet(*lp.online_blocks, ps->status.blocks_total); want.ok())
            any_online = std::count(want->begin(), want->end(), true) > 0;
      } else if (lp.online_blocks) {
        any_online = false;
      }
      PlanLeases(lp, ps, leases_of[lp.name], any_online);  // first: which leases go
      if (!lp.online_blocks) continue;
      if (ps)
        PlanBlocks(lp, *ps);
      else if (*lp.online_blocks != "none")
        Add(kOnlineBlocks, "online-blocks", "pool " + lp.name + " blocks " + *lp.online_blocks,
            "a new pool's blocks start offline", false, {{"pool", lp.name}, {"blocks", *lp.online_blocks}});
    }
  }

  void PlanBlocks(const LayoutPool& lp, const LayoutSnapshot::PoolState& ps) {
    Result<std::vector<bool>> want = ParseBlockSet(*lp.online_blocks, ps.status.blocks_total);
    if (!want.ok()) {
      problems_.Add(want.status().Annotate("pool " + Quote(lp.name) + " online_blocks"));
      return;
    }
    std::vector<bool> on(ps.status.blocks_total, false), to_on(on.size(), false), to_off(on.size(), false);
    for (const auto& b : ps.status.blocks)
      if (b.index < on.size()) on[b.index] = b.state == BlockState::kOnline;
    for (size_t i = 0; i < on.size(); ++i) {
      to_on[i] = (*want)[i] && !on[i];
      to_off[i] = !(*want)[i] && on[i];
    }
    // A block holding a lease the plan keeps cannot go offline.
    for (const auto& b : ps.status.blocks) {
      if (b.index >= to_off.size() || !to_off[b.index]) continue;
      for (const Lease& l : ps.leases) {
        const bool overlaps = l.offset < b.offset + ps.status.block_size && b.offset < l.offset + l.size;
        if (overlaps && !deleted_leases_.count(lp.name + "/" + l.name))
          problems_.Add(Status::Busy("pool " + Quote(lp.name) + " block " + Num(b.index) + " holds lease " +
                                     Quote(l.name) + ", which the plan keeps; online_blocks " +
                                     Quote(*lp.online_blocks) + " would take it offline"));
      }
    }
    if (std::count(to_off.begin(), to_off.end(), true))
      Add(kOfflineBlocks, "offline-blocks", "pool " + lp.name + " blocks " + BlockSetText(to_off),
          "online_blocks is " + *lp.online_blocks, false, {{"pool", lp.name}, {"blocks", BlockSetText(to_off)}});
    if (std::count(to_on.begin(), to_on.end(), true))
      Add(kOnlineBlocks, "online-blocks", "pool " + lp.name + " blocks " + BlockSetText(to_on),
          "online_blocks is " + *lp.online_blocks, false, {{"pool", lp.name}, {"blocks", BlockSetText(to_on)}});
  }

  void PlanLeases(const LayoutPool& lp, const LayoutSnapshot::PoolState* ps,
                  const std::vector<const LayoutLease*>& wanted, bool any_online) {
    uint64_t needed = 0, kept_bytes = 0;
    std::set<std::string> names;
    for (const LayoutLease* e : wanted) {
      names.insert(e->name);
      const std::string object = "lease " + lp.name + "/" + e->name;
      const Lease* has = nullptr;
      if (ps)
        for (const Lease& l : ps->leases)
          if (l.name == e->name) has = &l;
      std::string diffs;
      if (has) {
        if (e->size != has->size) Differ(&diffs, "size", Num(e->size), Num(has->size));
        if (e->align && *e->align != has->align) Differ(&diffs, "align", Num(*e->align), Num(has->align));
        if (e->owner && *e->owner != has->owner) Differ(&diffs, "owner", Quote(*e->owner), Quote(has->owner));
        if (e->labels && *e->labels != has->labels) Differ(&diffs, "labels", "other labels", "these");
        if (diffs.empty()) continue;
        deleted_leases_.insert(lp.name + "/" + e->name);
        Add(kDeleteLeases, "delete-lease", object, "to re-make it: " + diffs, true,
            {{"pool", lp.name}, {"name", e->name}});
      }
      needed += e->size;
      json params = {{"pool", lp.name}, {"name", e->name}, {"size", e->size},
                     {"align", e->align.value_or(2ull << 20)}};
      if (e->owner) params["owner"] = *e->owner;
      if (e->labels) params["labels"] = *e->labels;
      Add(kCreateLeases, "create-lease", object,
          diffs.empty() ? "in the layout, not on the host: " + HumanSize(e->size) : "re-made: " + diffs, false,
          params);
    }
    if (ps && prune_)
      for (const Lease& l : ps->leases)
        if (!names.count(l.name)) {
          deleted_leases_.insert(lp.name + "/" + l.name);
          Add(kDeleteLeases, "delete-lease", "lease " + lp.name + "/" + l.name, "not in the layout (prune)", true,
              {{"pool", lp.name}, {"name", l.name}});
        }
    if (needed == 0) return;
    if (ps)  // what stays: every lease but the ones deleted (replaced, or pruned)
      for (const Lease& l : ps->leases)
        if (!deleted_leases_.count(lp.name + "/" + l.name)) kept_bytes += l.size;
    if (!any_online) {
      problems_.Add(Status::FailedPrecondition(
          "pool " + Quote(lp.name) + " would have no online block for its leases; set its online_blocks (all, or "
          "ranges such as 0-3)"));
      return;
    }
    if (ps) {
      const PoolCapacity& c = ps->status.capacity;
      const uint64_t room = c.total_size > c.poisoned_size + kept_bytes ? c.total_size - c.poisoned_size - kept_bytes : 0;
      if (needed > room)
        problems_.Add(Status::NoSpace("pool " + Quote(lp.name) + " has room for " + Num(room) + " bytes of new "
                                      "leases (" + HumanSize(room) + "), the layout's new leases take " + Num(needed) +
                                      "; make them smaller, or give the pool more blocks"));
    }
  }

  // A devdax device the plan makes system RAM under a pool it keeps (a
  // namespace it destroys or reconfigures under one is named in PlanPools).
  void CheckBusyNamespaces() {
    for (const auto& dev : system_ram_devices_)
      for (const auto& p : now_.pools)
        if (p.status.backing.device == dev && !detached_.count(p.status.name))
          problems_.Add(Status::Busy(dev + " holds pool " + Quote(p.status.name) +
                                     ", which the layout keeps; it cannot become system RAM under the pool"));
  }

  const Layout& l_;
  const LayoutSnapshot& now_;
  PlatformOwner& owner_;
  const bool prune_, force_;
  Problems problems_;
  std::array<std::vector<PlanStep>, kPhases> phases_;

  std::map<std::string, std::vector<const Namespace*>> by_name_;
  std::map<std::string, const DaxDevice*> dax_of_ns_;  // namespace dev -> its dax device
  std::map<std::string, const LayoutSnapshot::PoolState*> pools_;
  std::map<std::string, const UnavailablePool*> unavailable_;

  std::map<std::string, Fate> fate_;                  // namespace dev -> what the plan does to it
  std::map<std::string, const Namespace*> existing_;  // layout namespace name -> the host's
  std::map<std::string, std::string> reasons_;        // layout namespace name -> why it is created
  std::map<std::string, uint64_t> usable_;            // layout namespace name -> planned usable size
  std::set<std::string> detached_, kept_pools_, deleted_leases_, system_ram_devices_;
};

}  // namespace

Result<LayoutPlan> PlanLayout(const Layout& layout, const LayoutSnapshot& now, PlatformOwner& owner,
                              const ApplyOptions& options) {
  return Planner(layout, now, owner, options).Run();
}

json PlanStepJson(const PlanStep& s) {
  return {{"op", s.op}, {"object", s.object}, {"reason", s.reason}, {"destroys_data", s.destroys_data},
          {"params", s.params}};
}

}  // namespace pmemd
