// The emulated kernel's side of the emulated platform, shared by its files:
//   emulated_layout.cc    the machine (regions, fixed at open) and how its
//                         labels look in sysfs and to the namespace planner
//   emulated_open.cc      the state directory: region files, the label store
//                         and injected badblocks at open; NewEmulatedPlatform
//   emulated_platform.cc  EmulatedPlatformImpl: the operations, under its lock
// Not a public header: lib/platform only.
//
// Thread safety: a Layout is immutable after open; its methods read only it
// and the labels and bad ranges they are given, which the caller reads under
// its own lock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/label_store.h"
#include "platform/namespace_plan.h"
#include "pmemd/emulated_platform.h"
#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd {

class EventBus;

namespace emulated {

// Where emulated regions sit in the (pretend) physical address space: above
// 4 GiB, each region starting on a 1 GiB boundary, so memory block ids and
// 1 GiB alignment behave as they would on a real machine.
inline constexpr uint64_t kPhysBase = 4ull << 30;
inline constexpr uint64_t kSector = 512;

struct RegionState {
  EmulatedRegionConfig config;
  std::string dev;   // "regionN"
  std::string dimm;  // "nmemN"
  std::string file;
  uint64_t phys_start = 0;
  std::string number;  // "N"
};

// Injected bad ranges per region ("regionN"), in 512-byte sectors.
using Badblocks = std::map<std::string, std::vector<BadRange>>;
// Injected DIMM health per DIMM ("nmemN"); a DIMM not in it reports
// DefaultHealth().
using HealthModel = std::map<std::string, DimmHealth>;
// An emulated DIMM's health until something is injected: ok, media at
// 30 C and controller at 35 C with alarms at 85 C and 90 C, all spares
// left with the alarm at 10%, no life used, clean shutdowns.
DimmHealth DefaultHealth();

// The kernel's names for a label's namespace ("namespace0.1"), dax device
// ("dax0.1") and block device ("pmem0.1", "pmem0.1s" for sector mode).
std::string NamespaceDev(const Label& l);
std::string DaxDev(const Label& l);
std::string BlockDev(const Label& l);
// The spec a label was made from (for its usable size).
NamespaceSpec SpecOf(const Label& l);

class Layout {
 public:
  Layout(EmulatedConfig config, std::vector<RegionState> regions)
      : config_(std::move(config)), regions_(std::move(regions)) {}

  const EmulatedConfig& config() const { return config_; }
  const std::vector<RegionState>& regions() const { return regions_; }
  const RegionState* FindRegion(const std::string& dev) const;

  // What List() shows for `labels` and `badblocks`.
  Inventory List(const std::vector<Label>& labels, const Badblocks& badblocks) const;
  Namespace ToNamespace(const Label& l, const RegionState& rs, const Badblocks& badblocks) const;
  DaxDevice ToDax(const Label& l, const RegionState& rs) const;
  // The whole, aligned memory blocks inside a devdax device's data area.
  std::vector<uint64_t> BlocksOf(const Label& l) const;
  std::vector<MemoryBlock> MemoryBlocksOf(const Label& l, const RegionState& rs) const;

  // The planner's facts (namespace_plan.h).
  nsplan::Facts GatherFacts(const std::vector<Label>& labels) const;
  nsplan::NamespaceFacts FactsOf(const Label& l) const;

 private:
  uint32_t FreeId(const std::string& region, const std::vector<Label>& labels) const;

  const EmulatedConfig config_;
  const std::vector<RegionState> regions_;
};

// Writes the injected bad ranges, or health, to `path` (replaced atomically).
Status SaveBadblocks(const std::string& path, const Badblocks& all);
Status SaveHealth(const std::string& path, const HealthModel& all);

// What the platform keeps besides its labels, each with the file it is
// saved to (emulated_open.cc loads them).
struct InjectedState {
  std::string badblocks_path;
  Badblocks badblocks;
  std::string health_path;
  HealthModel health;
};

// The platform over an opened layout and label store (emulated_platform.cc).
// `events` is borrowed (may be null) and must outlive the platform.
std::unique_ptr<EmulatedPlatform> MakeEmulatedPlatform(Layout layout, LabelStore labels, InjectedState injected,
                                                       EventBus* events);

}  // namespace emulated
}  // namespace pmemd
