// Platform: pmemd's only way to reach pmem hardware and the kernel.
//
// Two implementations share this interface and one set of rules:
//   - the ndctl platform (lib/platform/ndctl_platform.cc) drives the kernel
//     through libndctl/libdaxctl and sysfs;
//   - the emulated platform (lib/platform/emulated_platform.cc) models the
//     kernel's rules over files, so that everything can be tried, and tested,
//     where there is no pmem. It is a twin, not a replacement.
// Like leveldb's Env and its in-memory twin, callers never know which one
// they hold except through Kind().
//
// The model holds raw values: sizes are bytes as integers, states are the
// strings the kernel and ndctl use. Rendering (JSON field names that follow
// ndctl/daxctl, human units) lives in platform_json.h and ctl/.
//
// Thread safety: implementations are safe to call from several threads;
// List() may run concurrently with itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmemd/progress.h"
#include "pmemd/status.h"

namespace pmemd {

class EventBus;

struct Bus {
  std::string provider;  // "ACPI.NFIT", "e820", "pmemd_emulated"
  std::string dev;       // "ndbus0"
};

// A DIMM's SMART health as its firmware reports it (libndctl's smart and
// smart threshold commands; ndctl list -DH). Each field is set only when the
// firmware marks it valid. Temperatures are millidegrees Celsius (libndctl
// reads 1/16 degree; pmemd/health.h converts); percentages 0..100.
struct DimmHealth {
  std::string health_state = "unknown";  // "ok", "non-critical", "critical", "fatal"; "unknown": the command failed
  std::optional<int64_t> temperature_mc;             // media temperature
  std::optional<int64_t> controller_temperature_mc;
  std::optional<uint32_t> spares_percentage;         // spare capacity left
  // Alarms the firmware reports tripped.
  std::optional<bool> alarm_temperature, alarm_controller_temperature, alarm_spares;
  // The alarm thresholds (smart threshold command): whether each alarm is
  // enabled, and its trip point when it is.
  std::optional<bool> alarm_enabled_media_temperature, alarm_enabled_ctrl_temperature, alarm_enabled_spares;
  std::optional<int64_t> temperature_threshold_mc, controller_temperature_threshold_mc;
  std::optional<uint32_t> spares_threshold;
  std::optional<uint32_t> life_used_percentage;
  std::optional<std::string> shutdown_state;  // "clean" | "dirty" (the last shutdown)
  std::optional<uint64_t> shutdown_count;     // unsafe (dirty) shutdowns
  bool operator==(const DimmHealth&) const = default;
};

struct Dimm {
  std::string dev;         // "nmem0"
  std::string id;          // vendor-serial style id ("8680-56341200")
  uint32_t handle = 0;
  uint32_t phys_id = 0;
  std::string bus;         // "ndbus0"
  bool enabled = true;     // false renders as state:"disabled"
  // List() leaves it unset: health takes a firmware command per DIMM, so it
  // is read by ReadDimmHealth() on the health monitor's thread, never on a
  // request's, and `list` fills it in from the monitor's last reading.
  std::optional<DimmHealth> health;
  std::optional<uint64_t> label_slots_total;  // capacity of the label area, when labels exist
};

// Each DIMM's health by name ("nmem0"); nullopt for a DIMM without the
// SMART command (QEMU's NVDIMM, memmap= pmem): its health is unsupported.
using DimmHealthMap = std::map<std::string, std::optional<DimmHealth>>;

// What wakes the health monitor before its next poll: the kernel's DIMM
// health notifications (ndctl: every DIMM's health event fd), or the
// emulated platform's injections. Thread safety: Wait from one thread,
// Notify and Interrupt from any.
class HealthNotifier {
 public:
  virtual ~HealthNotifier() = default;
  // Waits up to `timeout`; true when a notification came (poll now), false
  // on timeout or after Interrupt().
  virtual bool Wait(std::chrono::milliseconds timeout) = 0;
  // Wakes Wait() for good (shutdown): every later Wait returns false at once.
  virtual void Interrupt() = 0;
};

// A range of bad media, in 512-byte sectors from the start of the region or
// namespace it belongs to (as ndctl list --media-errors reports it).
struct BadRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const BadRange&) const = default;
};

struct Mapping {
  std::string dimm;  // "nmem0"
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t position = 0;
};

struct Region {
  std::string dev;  // "region0"
  std::string bus;
  uint64_t size = 0;
  uint64_t align = 0;  // the size and start alignment of namespaces in it
  uint64_t available_size = 0;
  uint64_t max_available_extent = 0;
  std::string type = "pmem";
  std::optional<int> numa_node;
  std::optional<int> target_node;
  uint64_t iset_id = 0;
  std::vector<Mapping> mappings;
  bool enabled = true;
  uint64_t badblock_count = 0;
  std::vector<BadRange> badblocks;
  std::string persistence_domain;  // "memory_controller", "cpu_cache", "unknown"
  bool label_support = true;       // false for memmap= and label-less NVDIMMs
};

struct Namespace {
  std::string dev;     // "namespace0.0"
  std::string region;  // "region0"
  std::string mode;    // "fsdax", "devdax", "sector", "raw"
  std::optional<std::string> map;  // "dev" | "mem" (fsdax, devdax)
  uint64_t size = 0;   // usable size, after map=dev metadata
  uint64_t raw_size = 0;  // what the namespace takes from the region
  std::optional<std::string> uuid;      // as ndctl prints it: the pfn/dax/btt uuid when claimed
  std::optional<std::string> raw_uuid;  // the namespace label's own uuid (ndctl -v)
  std::optional<uint32_t> sector_size;  // fsdax, sector, raw
  std::optional<uint64_t> align;        // fsdax, devdax
  std::optional<std::string> blockdev;  // "pmem0" (fsdax, sector, raw)
  std::optional<std::string> chardev;   // "dax0.0" (devdax)
  std::optional<std::string> name;
  bool enabled = true;
  std::optional<int> numa_node;
  std::optional<int> target_node;
  uint64_t badblock_count = 0;
  std::vector<BadRange> badblocks;
};

struct DaxDevice {
  std::string chardev;  // "dax0.0"
  std::string region;   // "region0"
  std::string ns;       // "namespace0.0" ("" when none)
  uint64_t size = 0;
  std::optional<int> target_node;
  std::optional<uint64_t> align;
  std::string mode;  // "devdax" | "system-ram"
  // Set when mode is system-ram:
  std::optional<uint64_t> online_memblocks;
  std::optional<uint64_t> total_memblocks;
  std::optional<bool> movable;
  bool enabled = true;
};

struct MemoryBlock {
  uint64_t id = 0;             // N in /sys/devices/system/memory/memoryN
  uint64_t phys_index = 0;
  uint64_t start = 0;          // physical byte address
  uint64_t size = 0;           // block_size_bytes
  std::string state;           // "online" | "offline" | "going-offline"
  std::string zone;            // "Movable", "Normal", "" when offline or unknown
  std::string valid_zones;     // as sysfs prints it
  std::optional<int> node;
  std::string dax_device;      // owning dax device ("" when not from pmem)
  bool removable = true;
};

struct Inventory {
  std::vector<Bus> buses;
  std::vector<Dimm> dimms;
  std::vector<Region> regions;
  std::vector<Namespace> namespaces;
  std::vector<DaxDevice> dax_devices;
  std::vector<MemoryBlock> memory_blocks;
  uint64_t memory_block_size = 0;
  std::string auto_online_blocks;  // "offline", "online", "online_movable", ...
};

// What create-namespace and reconfigure-namespace ask for. Unset optionals
// take the defaults ndctl takes: size = the largest free extent that fits
// the alignment, align = 2 MiB for fsdax/devdax, map = "dev",
// sector_size = 512 (4096 for sector mode).
struct NamespaceSpec {
  std::string region;              // create: "region0" or "0"
  std::string mode = "fsdax";      // "fsdax", "devdax", "sector", "raw"
  std::optional<uint64_t> size;
  std::optional<uint64_t> align;
  std::optional<std::string> map;  // "dev" | "mem"
  std::string name;
  std::string uuid;                // "" = generated
  std::optional<uint32_t> sector_size;
};

// The exact outcome of a create or reconfigure, computed before anything is
// touched (--dry-run), and what the operation then does.
struct NamespacePlan {
  std::string region;
  std::string dev;          // the namespace that will be used or changed
  std::string mode;
  std::string map;          // "" for sector/raw
  uint64_t raw_size = 0;    // taken from the region
  uint64_t size = 0;        // usable, after map=dev metadata
  uint64_t metadata_size = 0;  // map=dev: the struct page array on the device (+ info block)
  uint64_t align = 0;
  uint64_t offset = 0;      // start of the extent within the region
  uint32_t sector_size = 0;
  std::string uuid;
  std::string name;
};

// One memory block's outcome in online-memory / offline-memory.
struct BlockResult {
  uint64_t id = 0;
  std::string from;    // state before
  std::string to;      // state after (== from when it failed or was rolled back)
  Status status;       // why it failed
  bool rolled_back = false;  // changed, then put back after a later block failed
};

struct MemoryOpResult {
  std::string chardev;
  std::vector<BlockResult> blocks;
  bool rolled_back = false;  // a failure part way put the changed blocks back
};

// Where a dax device's bytes are, for mapping it (pools): the character
// device itself on real pmem; on the emulated platform, the region file at
// the namespace's data offset.
struct DaxBacking {
  std::string path;     // "/dev/dax0.0" or a region file
  uint64_t offset = 0;  // where the device's first byte is in `path`
  uint64_t size = 0;
  uint64_t align = 0;   // the device's mapping alignment
  bool devdax = true;   // a character device (whole-device mappings only)
};

class Platform {
 public:
  virtual ~Platform() = default;

  // "emulated" or "ndctl".
  virtual std::string_view Kind() const = 0;

  // A fresh snapshot of everything the platform manages.
  virtual Result<Inventory> List() = 0;

  // Namespaces. Plan* computes without changing anything and fails exactly
  // when the operation would (size or alignment the region cannot satisfy,
  // no label slot, unknown region). Create and Reconfigure first Plan.
  virtual Result<NamespacePlan> PlanCreateNamespace(const NamespaceSpec& spec) = 0;
  virtual Result<Namespace> CreateNamespace(const NamespaceSpec& spec) = 0;
  // Destroys a namespace; force also disables one that is enabled. A
  // namespace in use (mounted, mapped, onlined as system-ram) is kBusy.
  virtual Status DestroyNamespace(const std::string& dev, bool force) = 0;
  virtual Status EnableNamespace(const std::string& dev) = 0;
  virtual Status DisableNamespace(const std::string& dev) = 0;
  // Changes mode (and map/align/sector size) in place, keeping the extent.
  // The data is lost: the caller must have the user's acknowledgement.
  virtual Result<NamespacePlan> PlanReconfigureNamespace(const std::string& dev,
                                                          const NamespaceSpec& spec) = 0;
  virtual Result<Namespace> ReconfigureNamespace(const std::string& dev, const NamespaceSpec& spec) = 0;
  // Several creates planned at once, as if made in order after the
  // namespaces in `released` were destroyed: each sees the extents the ones
  // before it take (nsplan::PlanCreateSeries). One result per spec; nothing
  // changes. A layout's apply checks that all of its namespaces fit with it.
  virtual std::vector<Result<NamespacePlan>> PlanCreateSeries(const std::vector<std::string>& released,
                                                              const std::vector<NamespaceSpec>& specs) = 0;
  // kBusy, naming what holds it, when something outside pmemd uses the
  // namespace `dev` (mounted, its block or dax device held open or mapped by
  // a process): what destroy and reconfigure would refuse, asked before
  // anything is changed. The base implementation finds no users (the
  // emulated platform has none); the system-ram and pool checks are the
  // callers'.
  virtual Status CheckUnused(const std::string& dev, const std::string& op);

  // kmem: a devdax device becomes system RAM ("system-ram") or back
  // ("devdax"). To system-ram, its whole memory blocks are hot-added and, as
  // the kernel's auto-online policy or `online` says, onlined; back to
  // devdax requires every block offline first. `progress` (may be empty)
  // hears of the blocks onlined, as OnlineMemory's.
  virtual Result<DaxDevice> ReconfigureDevice(const std::string& chardev, const std::string& mode,
                                              bool online, bool movable, const ProgressFn& progress) = 0;
  // Every block of a system-ram device online (movable or not) / offline.
  // All or nothing: a failure part way puts back the blocks already changed.
  // `progress` (may be empty) hears of each block changed: one stage,
  // "online" or "offline", in blocks (BlockWalkOptions::progress).
  virtual Result<MemoryOpResult> OnlineMemory(const std::string& chardev, bool movable,
                                              const ProgressFn& progress) = 0;
  virtual Result<MemoryOpResult> OfflineMemory(const std::string& chardev, const ProgressFn& progress) = 0;

  // The bytes behind an enabled devdax device in devdax (not system-ram)
  // mode. The base implementation finds it in List() and answers /dev/<chardev>.
  virtual Result<DaxBacking> GetDaxBacking(const std::string& chardev);

  // Health (pmemd/health.h's monitor is the caller). ReadDimmHealth reads
  // every DIMM's health afresh: slow on real hardware (firmware commands),
  // so never on a request's thread. Refresh makes the next List() re-read
  // what changes without a notification (bad blocks a scrub found); the
  // base implementation has nothing to re-read. OpenHealthNotifier is
  // opened once, for the DIMMs there are then; the base implementation
  // never notifies (the monitor polls on its interval only).
  virtual Result<DimmHealthMap> ReadDimmHealth() = 0;
  virtual Status Refresh() { return Status::Ok(); }
  virtual std::shared_ptr<HealthNotifier> OpenHealthNotifier();
};

}  // namespace pmemd
