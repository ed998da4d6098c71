// The emulated platform: pmem regions backed by sparse files, with the
// kernel's rules, for machines without pmem (laptops, CI).
//
// Each region is one file under the state directory (or a path given in the
// configuration). Namespaces live in a label store, one JSON document
// replaced atomically on every change (write a temporary file, fsync,
// rename, fsync the directory), so a crash leaves the old set or the new
// one, never a mix. The rules modelled are the kernel's: regions and
// namespaces aligned to 16 MiB, a finite number of label slots per DIMM,
// memory blocks of 128 MiB.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pmemd/platform.h"
#include "pmemd/status.h"

namespace pmemd {

class EventBus;

struct EmulatedRegionConfig {
  uint64_t size = 8ull << 30;  // bytes; a multiple of kEmulatedRegionAlign
  std::string file;            // "" = <state_dir>/emulated/regionN.img
  std::optional<int> numa_node;
  bool labels = true;          // false models memmap= / label-less NVDIMMs
};

struct EmulatedConfig {
  std::vector<EmulatedRegionConfig> regions = {EmulatedRegionConfig{}};
  uint64_t memory_block_size = 128ull << 20;
  uint32_t label_slots = 510;  // a 128 KiB label area of 256-byte labels
};

inline constexpr uint64_t kEmulatedRegionAlign = 16ull << 20;

// The emulated platform adds fault injection to the Platform interface, as
// `ndctl inject-error` does for real hardware, so tests and users can see
// how pmemd handles what is rare on real machines.
class EmulatedPlatform : public Platform {
 public:
  // Offlining memory block `block` fails with EBUSY `attempts` more times
  // (UINT32_MAX: until cleared with 0), as a block with unmovable pages does.
  virtual Status InjectBusyBlock(uint64_t block, uint32_t attempts) = 0;
  // While `stuck`, offlining memory block `block` never finishes, as when
  // the kernel keeps trying to migrate pages that stay pinned: the write
  // waits until its deadline stops it (EINTR), and the block stays online.
  virtual Status InjectStuckBlock(uint64_t block, bool stuck) = 0;
  // Marks [offset, offset+length) of a region as bad media (badblocks), or
  // clears it with clear=true. Offsets and lengths are 512-byte sectors' bytes.
  virtual Status InjectBadblocks(const std::string& region, uint64_t offset, uint64_t length,
                                 bool clear) = 0;
  // Sets DIMM `dimm`'s health as its firmware will report it: `clear` first
  // puts back the defaults (docs/emulated.md), then `edit` changes what it
  // is asked to; the result must pass ValidateDimmHealth, and the alarms
  // trip as its thresholds say (SetFirmwareAlarms, pmemd/health.h). The
  // health monitor is notified, as by the kernel's DIMM health event. A
  // label-less region's DIMM has no SMART (kUnsupported), as QEMU's NVDIMM.
  virtual Result<DimmHealth> InjectHealth(const std::string& dimm, bool clear,
                                          const std::function<Status(DimmHealth*)>& edit) = 0;
};

// Opens (creating on first use) the emulated regions and the label store.
// `events` is borrowed (may be null) and must outlive the platform: every
// later change is published there.
Result<std::unique_ptr<EmulatedPlatform>> NewEmulatedPlatform(const EmulatedConfig& config,
                                                              const std::string& state_dir,
                                                              EventBus* events);

}  // namespace pmemd
