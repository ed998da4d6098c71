// What the host has (LayoutApplier::Snapshot), and that as a layout
// (ExportLayout).
#include <map>

#include "pmemd/layout.h"

namespace pmemd {

Result<LayoutSnapshot> LayoutApplier::Snapshot() const {
  LayoutSnapshot s;
  PMEMD_ASSIGN_OR_RETURN(s.inventory, owner_->List());
  for (const auto& p : pools_->Pools()) s.pools.push_back({p->Describe(/*with_blocks=*/true), p->ListLeases()});
  s.unavailable = pools_->Unavailable();
  return s;
}

Layout ExportLayout(const LayoutSnapshot& now) {
  Layout l;
  // Names that are one namespace's only: a layout cannot say which of two it means.
  std::map<std::string, int> count;
  for (const auto& n : now.inventory.namespaces)
    if (n.name && !n.name->empty()) ++count[*n.name];
  std::map<std::string, std::string> name_of_chardev;
  for (const auto& n : now.inventory.namespaces) {
    if (!n.name || count[*n.name] != 1) continue;
    LayoutNamespace ln;
    ln.name = *n.name;
    ln.region = n.region;
    ln.mode = n.mode;
    ln.size = n.raw_size;
    ln.align = n.align;
    ln.map = n.map;
    if (n.mode == "sector") ln.sector_size = n.sector_size;
    l.namespaces.push_back(std::move(ln));
    if (n.chardev) name_of_chardev[*n.chardev] = *n.name;
  }
  for (const auto& d : now.inventory.dax_devices) {
    auto named = name_of_chardev.find(d.chardev);
    if (d.mode != "system-ram" || named == name_of_chardev.end()) continue;
    // Some blocks online and some not has no words in a layout: it says
    // online, and applying it onlines the rest.
    l.system_ram.push_back({named->second, d.online_memblocks.value_or(0) > 0, d.movable.value_or(true)});
  }
  for (const auto& p : now.pools) {
    const PoolStatus& s = p.status;
    LayoutPool lp;
    lp.name = s.name;
    if (auto named = name_of_chardev.find(s.backing.device); !s.backing.device.empty() && named != name_of_chardev.end())
      lp.ns = named->second;
    else if (!s.backing.device.empty())
      lp.device = s.backing.device;
    else {
      lp.path = s.backing.path;
      lp.size = s.size;
    }
    lp.block_size = s.block_size;
    lp.max_leases = s.max_leases;
    lp.memmap = s.memmap;
    lp.owner_uid = s.owner_uid;
    lp.owner_gid = s.owner_gid;
    std::vector<bool> online(s.blocks_total, false);
    for (const auto& b : s.blocks)
      if (b.index < online.size()) online[b.index] = b.state == BlockState::kOnline;
    lp.online_blocks = BlockSetText(online);
    l.pools.push_back(std::move(lp));
    for (const Lease& e : p.leases) {
      LayoutLease le;
      le.pool = s.name;
      le.name = e.name;
      le.size = e.size;
      le.align = e.align;
      if (!e.owner.empty()) le.owner = e.owner;
      if (!e.labels.empty()) le.labels = e.labels;
      l.leases.push_back(std::move(le));
    }
  }
  return l;
}

}  // namespace pmemd
