#include "platform/emulated_layout.h"

#include <algorithm>
#include <set>

#include "platform/memory_blocks.h"
#include "platform/namespace_rules.h"

namespace pmemd::emulated {

std::string NamespaceDev(const Label& l) { return "namespace" + l.region.substr(6) + "." + std::to_string(l.id); }
std::string DaxDev(const Label& l) { return "dax" + l.region.substr(6) + "." + std::to_string(l.id); }

std::string BlockDev(const Label& l) {
  std::string s = "pmem" + l.region.substr(6) + (l.id ? "." + std::to_string(l.id) : "");
  return l.mode == "sector" ? s + "s" : s;
}

DimmHealth DefaultHealth() {
  DimmHealth h;
  h.health_state = "ok";
  h.temperature_mc = 30'000;
  h.controller_temperature_mc = 35'000;
  h.spares_percentage = 100;
  h.alarm_enabled_media_temperature = true;
  h.temperature_threshold_mc = 85'000;
  h.alarm_enabled_ctrl_temperature = true;
  h.controller_temperature_threshold_mc = 90'000;
  h.alarm_enabled_spares = true;
  h.spares_threshold = 10;
  h.life_used_percentage = 0;
  h.shutdown_state = "clean";
  h.shutdown_count = 0;
  return h;
}

NamespaceSpec SpecOf(const Label& l) {
  NamespaceSpec s;
  s.region = l.region;
  s.mode = l.mode;
  if (!l.map.empty()) s.map = l.map;
  if (l.align) s.align = l.align;
  if (l.sector_size) s.sector_size = l.sector_size;
  s.name = l.name;
  s.uuid = l.uuid;
  return s;
}

// A system-ram device's blocks as sysfs would show them, sorted by id.
std::vector<MemoryBlock> Layout::MemoryBlocksOf(const Label& l, const RegionState& rs) const {
  std::set<uint64_t> online(l.online_blocks.begin(), l.online_blocks.end());
  std::vector<MemoryBlock> v;
  for (uint64_t b : BlocksOf(l)) {
    MemoryBlock m;
    m.id = b;
    m.phys_index = b;
    m.start = b * config_.memory_block_size;
    m.size = config_.memory_block_size;
    bool on = online.count(b);
    m.state = KmemStateName(on ? KmemState::kOnline : KmemState::kOffline);
    m.zone = on ? (l.movable ? "Movable" : "Normal") : "";
    m.valid_zones = on ? m.zone : "Normal Movable";
    m.node = rs.config.numa_node.value_or(0);
    m.dax_device = DaxDev(l);
    m.removable = !on || l.movable;
    v.push_back(std::move(m));
  }
  return v;
}

// The planner's facts, gathered from the labels: everything else (sizes,
// first fit, alignment, uuids, label slots, in-use) is the shared planner's.
nsplan::Facts Layout::GatherFacts(const std::vector<Label>& labels) const {
  nsplan::Facts f;
  for (const RegionState& rs : regions_) {
    nsplan::RegionFacts r;
    r.dev = rs.dev;
    r.number = rs.number;
    r.phys_start = rs.phys_start;
    r.size = rs.config.size;
    r.align = kEmulatedRegionAlign;
    r.labels = rs.config.labels;
    uint64_t used = 0;
    for (const Label& l : labels)
      if (l.region == rs.dev) {
        ++used;
        r.used.emplace_back(l.offset, l.raw_size);
      }
    if (rs.config.labels) {
      r.free_label_slots = used >= config_.label_slots ? 0 : config_.label_slots - used;
      r.full_dimm = rs.dimm;
      r.seed = "namespace" + rs.number + "." + std::to_string(FreeId(rs.dev, labels));
    } else {
      r.io_namespace = "namespace" + rs.number + ".0";
    }
    nsplan::RegionSpace space = nsplan::ComputeRegionSpace(r);
    r.available_size = space.available_size;
    r.max_available_extent = space.max_available_extent;
    f.regions.push_back(std::move(r));
  }
  for (const Label& l : labels) f.namespaces.push_back(FactsOf(l));
  return f;
}

nsplan::NamespaceFacts Layout::FactsOf(const Label& l) const {
  nsplan::NamespaceFacts n;
  n.dev = NamespaceDev(l);
  n.region = l.region;
  n.mode = l.mode;
  n.raw_size = l.raw_size;
  n.offset = l.offset;
  n.label_less = !FindRegion(l.region)->config.labels;
  // Label-less: no label uuid; the info block holds the caller's.
  if (!n.label_less) n.raw_uuid = l.uuid;
  n.uuid = !n.label_less && !l.info_uuid.empty() ? l.info_uuid : l.uuid;
  n.name = l.name;
  n.enabled = l.enabled;
  if (l.mode == "devdax" && l.daxmode == "system-ram") n.system_ram = DaxDev(l);
  return n;
}

Inventory Layout::List(const std::vector<Label>& labels, const Badblocks& badblocks) const {
  const nsplan::Facts facts = GatherFacts(labels);
  Inventory inv;
  inv.buses.push_back({"pmemd_emulated", "ndbus0"});
  inv.memory_block_size = config_.memory_block_size;
  inv.auto_online_blocks = "offline";
  for (size_t i = 0; i < regions_.size(); ++i) {
    const RegionState& rs = regions_[i];
    Dimm d;
    d.dev = rs.dimm;
    d.id = "pmem-emul-" + std::to_string(1000 + i);
    d.handle = static_cast<uint32_t>(i);
    d.phys_id = static_cast<uint32_t>(i);
    d.bus = "ndbus0";
    if (rs.config.labels) d.label_slots_total = config_.label_slots;
    inv.dimms.push_back(std::move(d));

    Region r;
    r.dev = rs.dev;
    r.bus = "ndbus0";
    r.size = rs.config.size;
    r.align = kEmulatedRegionAlign;
    r.numa_node = rs.config.numa_node;
    r.target_node = rs.config.numa_node;
    r.iset_id = 0x1000 + i;
    r.mappings.push_back({rs.dimm, 0, rs.config.size, 0});
    r.persistence_domain = "memory_controller";
    r.label_support = rs.config.labels;
    r.available_size = facts.regions[i].available_size;
    r.max_available_extent = facts.regions[i].max_available_extent;
    if (auto it = badblocks.find(rs.dev); it != badblocks.end()) {
      r.badblocks = it->second;
      for (const auto& b : it->second) r.badblock_count += b.length;
    }
    inv.regions.push_back(std::move(r));
  }
  for (const Label& l : labels) {
    const RegionState* rs = FindRegion(l.region);
    inv.namespaces.push_back(ToNamespace(l, *rs, badblocks));
    if (l.mode == "devdax" && l.enabled) inv.dax_devices.push_back(ToDax(l, *rs));
    if (l.mode == "devdax" && l.enabled && l.daxmode == "system-ram")
      for (MemoryBlock& m : MemoryBlocksOf(l, *rs)) inv.memory_blocks.push_back(std::move(m));
  }
  std::sort(inv.memory_blocks.begin(), inv.memory_blocks.end(),
            [](const MemoryBlock& a, const MemoryBlock& b) { return a.id < b.id; });
  return inv;
}

Namespace Layout::ToNamespace(const Label& l, const RegionState& rs, const Badblocks& badblocks) const {
  Namespace n;
  n.dev = NamespaceDev(l);
  n.region = l.region;
  n.mode = l.mode;
  n.raw_size = l.raw_size;
  n.size = UsableSize(SpecOf(l), l.raw_size);
  nsplan::NamespaceFacts facts = FactsOf(l);
  if (!facts.uuid.empty()) n.uuid = facts.uuid;
  if (!facts.raw_uuid.empty()) n.raw_uuid = facts.raw_uuid;
  n.enabled = l.enabled;
  if (!l.name.empty()) n.name = l.name;
  if (!l.map.empty()) n.map = l.map;
  if (l.align) n.align = l.align;
  if (l.sector_size) n.sector_size = l.sector_size;
  n.numa_node = rs.config.numa_node;
  n.target_node = rs.config.numa_node;
  if (l.mode == "devdax")
    n.chardev = DaxDev(l);
  else if (l.enabled)
    n.blockdev = BlockDev(l);
  if (auto it = badblocks.find(rs.dev); it != badblocks.end()) {
    // Namespace-relative sectors of the region's bad ranges that fall in it.
    uint64_t first = l.offset / kSector, end = (l.offset + l.raw_size) / kSector;
    for (const auto& b : it->second) {
      uint64_t s = std::max(first, b.offset), e = std::min(end, b.offset + b.length);
      if (s < e) {
        n.badblocks.push_back({s - first, e - s});
        n.badblock_count += e - s;
      }
    }
  }
  return n;
}

DaxDevice Layout::ToDax(const Label& l, const RegionState& rs) const {
  DaxDevice d;
  d.chardev = DaxDev(l);
  d.region = l.region;
  d.ns = NamespaceDev(l);
  d.size = UsableSize(SpecOf(l), l.raw_size);
  d.target_node = rs.config.numa_node;
  d.align = l.align;
  d.mode = l.daxmode;
  if (l.daxmode == "system-ram") {
    d.total_memblocks = BlocksOf(l).size();
    d.online_memblocks = l.online_blocks.size();
    d.movable = l.movable;
  }
  return d;
}

// The whole, aligned memory blocks inside a devdax device's data area.
std::vector<uint64_t> Layout::BlocksOf(const Label& l) const {
  const RegionState* rs = FindRegion(l.region);
  uint64_t bs = config_.memory_block_size;
  uint64_t data_start = rs->phys_start + l.offset + (l.raw_size - UsableSize(SpecOf(l), l.raw_size));
  uint64_t data_end = rs->phys_start + l.offset + l.raw_size;
  std::vector<uint64_t> ids;
  for (uint64_t b = (data_start + bs - 1) / bs; (b + 1) * bs <= data_end; ++b) ids.push_back(b);
  return ids;
}

const RegionState* Layout::FindRegion(const std::string& dev) const {
  for (const auto& r : regions_)
    if (r.dev == dev) return &r;
  return nullptr;
}

// The smallest namespace id not in use in the region, as the kernel's ida.
uint32_t Layout::FreeId(const std::string& region, const std::vector<Label>& labels) const {
  std::set<uint32_t> used;
  for (const Label& l : labels)
    if (l.region == region) used.insert(l.id);
  uint32_t id = 0;
  while (used.count(id)) ++id;
  return id;
}

}  // namespace pmemd::emulated
