// Memory blocks of system-ram (kmem) dax devices: their state machine and
// the one walker that onlines or offlines a device's blocks, for both
// platforms. The walker talks to the kernel only through a BlockStateWriter:
// sysfs on the ndctl platform (sysfs_memory.h), an in-memory set with
// injected busy and stuck blocks on the emulated one. Rules live here once;
// the writers only change one block's state.
//
// Thread safety: free functions without shared state; the writer and the
// transition callback are called from the calling thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pmemd/platform.h"
#include "pmemd/progress.h"
#include "pmemd/status.h"

namespace pmemd {

class EventBus;

// ---- The state machine ------------------------------------------------------

// A block's state as memoryN/state shows it (docs/memory-blocks.md): the
// kernel marks a block going-offline for as long as offline_pages() works on
// it and puts it back online when that fails (MEM_CANCEL_OFFLINE); onlining
// has no visible intermediate state.
enum class KmemState : uint8_t { kOffline = 0, kOnline = 1, kGoingOffline = 2 };

// "offline", "online", "going-offline" (sysfs's words).
std::string_view KmemStateName(KmemState s);
// The inverse; anything else is kInvalidArgument naming the three.
Result<KmemState> ParseKmemState(std::string_view name);
// The transition table: offline -> online; online -> going-offline;
// going-offline -> offline (done) or online (cancelled). Nothing else.
bool IsLegalKmemTransition(KmemState from, KmemState to);
// kInternal naming the block, both states and the legal targets when
// `from -> to` is not in the table.
Status CheckKmemTransition(uint64_t block, KmemState from, KmemState to);
// What memoryN/state is given to ask for `to` (kOnline or kOffline):
// "online_movable", "online_kernel" or "offline".
std::string_view KmemRequestWord(KmemState to, bool movable);

// ---- Writers ------------------------------------------------------------------

using Deadline = std::chrono::steady_clock::time_point;

// One request to the kernel: bring block `id` to `to` (kOnline, into
// ZONE_MOVABLE when `movable`, or kOffline).
struct BlockWrite {
  uint64_t id = 0;
  KmemState to = KmemState::kOffline;
  bool movable = true;
  Deadline deadline;
};

// Changes one block's state. Must return by the request's deadline (give or
// take the time the kernel needs to notice it was stopped): a block that has
// not changed by then is kBusy with errno EINTR, and is left where it was
// (the kernel cancels an offline it was stopped in: MEM_CANCEL_OFFLINE). A
// block the kernel refuses at once (unmovable pages) is kBusy with EBUSY or
// EAGAIN; other errors keep their code.
using BlockStateWriter = std::function<Status(const BlockWrite& w)>;

// One block's state changed (for events): from -> to, `cancelled` for a
// rollback. Only legal transitions are reported.
using BlockTransitionFn =
    std::function<void(uint64_t id, KmemState from, KmemState to, bool cancelled)>;

// The memory_block events both platforms publish for a walk of `chardev`'s
// blocks: object "memoryN", from/to the state names, detail dax_device,
// movable (on reaching online, when given) and cancelled (rollbacks).
// `events` is borrowed (may be null: no events) and must outlive the result.
BlockTransitionFn PublishBlockTransitions(EventBus* events, const std::string& chardev, std::optional<bool> movable);

// ---- The walker ---------------------------------------------------------------

struct BlockWalkOptions {
  // How long an offline may take in all: each write gets what is left of it,
  // and a block refused as busy (EBUSY) is retried with doubling delays,
  // first_delay up to max_delay, within it. docs/api.md promises this.
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds first_delay{10};
  std::chrono::milliseconds max_delay{500};
  // How long one rollback write may take.
  std::chrono::milliseconds rollback_timeout{2000};
  std::function<void(std::chrono::milliseconds)> sleep;  // default: this_thread::sleep_for
  // Hears of each block changed, in blocks, in one stage named "online" or
  // "offline" whose total is the blocks not yet in the target state; a
  // walk that rolls back stops short of it. Empty: nobody listens.
  ProgressFn progress;
};

// The default options, reporting to `progress`.
inline BlockWalkOptions WalkReporting(ProgressFn progress) {
  BlockWalkOptions o;
  o.progress = std::move(progress);
  return o;
}

// Onlines every offline block of `blocks` (movable: into ZONE_MOVABLE). If one
// fails, the blocks this call onlined are offlined again (rolled_back).
MemoryOpResult OnlineBlocks(const std::string& chardev, const std::vector<MemoryBlock>& blocks, bool movable,
                            const BlockStateWriter& write, const BlockTransitionFn& on_transition,
                            const BlockWalkOptions& options = {});

// Offlines every online block within options.timeout. If one block still
// fails (busy, or not offline by the deadline), the blocks this call offlined
// are onlined again into the zone they were in (rolled_back) and the failing
// block's status is kBusy naming it and the reason, so the device ends as it
// started.
MemoryOpResult OfflineBlocks(const std::string& chardev, const std::vector<MemoryBlock>& blocks,
                             const BlockStateWriter& write, const BlockTransitionFn& on_transition,
                             const BlockWalkOptions& options = {});

}  // namespace pmemd
