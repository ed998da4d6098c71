#include "platform/memory_blocks.h"

#include <algorithm>
#include <thread>

#include "pmemd/events.h"
#include "pmemd/log.h"

namespace pmemd {

namespace {

constexpr KmemState kAllStates[] = {KmemState::kOffline, KmemState::kOnline, KmemState::kGoingOffline};

// kTransitions[from][to] (see the header).
constexpr bool kTransitions[3][3] = {
    //              offline online going-off
    /* offline */   {false, true, false},
    /* online */    {false, false, true},
    /* going-off */ {true, true, false},
};

std::shared_ptr<spdlog::logger> Log() {
  static auto log = GetLogger("platform");
  return log;
}

std::string Ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

// Reports a transition after checking it against the table: a walker bug
// must not reach the event stream as an impossible transition.
void Report(const BlockTransitionFn& fn, uint64_t id, KmemState from, KmemState to, bool cancelled) {
  if (Status s = CheckKmemTransition(id, from, to); !s.ok()) {
    Log()->error("{}", s.message());
    return;
  }
  if (fn) fn(id, from, to, cancelled);
}

// The block's state as the caller read it; anything sysfs does not show is
// treated as not stable (left alone by both walks).
KmemState StateOf(const MemoryBlock& b) {
  auto s = ParseKmemState(b.state);
  return s.ok() ? *s : KmemState::kGoingOffline;
}

// The blocks a walk will change: those in `from`.
uint64_t CountIn(const std::vector<MemoryBlock>& blocks, KmemState from) {
  return static_cast<uint64_t>(
      std::count_if(blocks.begin(), blocks.end(), [from](const MemoryBlock& b) { return StateOf(b) == from; }));
}

}  // namespace

std::string_view KmemStateName(KmemState s) {
  switch (s) {
    case KmemState::kOffline: return "offline";
    case KmemState::kOnline: return "online";
    case KmemState::kGoingOffline: return "going-offline";
  }
  return "unknown";
}

Result<KmemState> ParseKmemState(std::string_view name) {
  for (KmemState s : kAllStates)
    if (KmemStateName(s) == name) return s;
  return Status::InvalidArgument("unknown memory block state '" + std::string(name) +
                                 "'; known: offline, online, going-offline");
}

bool IsLegalKmemTransition(KmemState from, KmemState to) {
  return kTransitions[static_cast<int>(from)][static_cast<int>(to)];
}

Status CheckKmemTransition(uint64_t block, KmemState from, KmemState to) {
  if (IsLegalKmemTransition(from, to)) return Status::Ok();
  std::string legal;
  for (KmemState s : kAllStates)
    if (IsLegalKmemTransition(from, s)) legal += (legal.empty() ? "" : " or ") + std::string(KmemStateName(s));
  return Status::Internal("memory block " + std::to_string(block) + " cannot go from " +
                          std::string(KmemStateName(from)) + " to " + std::string(KmemStateName(to)) + "; from " +
                          std::string(KmemStateName(from)) + " a block goes " + legal);
}

std::string_view KmemRequestWord(KmemState to, bool movable) {
  if (to == KmemState::kOffline) return "offline";
  return movable ? "online_movable" : "online_kernel";
}

BlockTransitionFn PublishBlockTransitions(EventBus* events, const std::string& chardev, std::optional<bool> movable) {
  if (!events) return nullptr;
  return [events, chardev, movable](uint64_t id, KmemState from, KmemState to, bool cancelled) {
    nlohmann::json detail = {{"dax_device", chardev}};
    if (movable && to == KmemState::kOnline) detail["movable"] = *movable;
    if (cancelled) detail["cancelled"] = true;
    events->Publish({.kind = "memory_block",
                     .object = "memory" + std::to_string(id),
                     .from = std::string(KmemStateName(from)),
                     .to = std::string(KmemStateName(to)),
                     .detail = std::move(detail)});
  };
}

MemoryOpResult OnlineBlocks(const std::string& chardev, const std::vector<MemoryBlock>& blocks, bool movable,
                            const BlockStateWriter& write, const BlockTransitionFn& on_transition,
                            const BlockWalkOptions& options) {
  MemoryOpResult result;
  result.chardev = chardev;
  auto deadline = [&] { return std::chrono::steady_clock::now() + options.rollback_timeout; };
  const uint64_t total = CountIn(blocks, KmemState::kOffline);
  uint64_t done = 0;
  ReportProgress(options.progress, "online", done, total, "blocks");
  for (const MemoryBlock& b : blocks) {
    if (StateOf(b) != KmemState::kOffline) {
      result.blocks.push_back({b.id, b.state, b.state, Status::Ok()});
      continue;
    }
    Status s = write({b.id, KmemState::kOnline, movable, deadline()});
    if (!s.ok()) {
      result.blocks.push_back({b.id, b.state, b.state,
                               s.Annotate("online memory block " + std::to_string(b.id) + " of " + chardev)});
      // Put back what this call onlined: the device ends as it started.
      for (BlockResult& r : result.blocks) {
        if (r.from == "online" || r.to != "online") continue;
        if (Status u = write({r.id, KmemState::kOffline, movable, deadline()}); !u.ok()) {
          r.status = u.Annotate("roll back: offline memory block " + std::to_string(r.id) + " again");
          continue;  // it stays online; the result says so
        }
        r.to = r.from;
        r.rolled_back = true;
        Report(on_transition, r.id, KmemState::kOnline, KmemState::kGoingOffline, true);
        Report(on_transition, r.id, KmemState::kGoingOffline, KmemState::kOffline, true);
      }
      result.rolled_back = true;
      return result;
    }
    result.blocks.push_back({b.id, b.state, "online", Status::Ok()});
    Report(on_transition, b.id, KmemState::kOffline, KmemState::kOnline, false);
    ReportProgress(options.progress, "online", ++done, total, "blocks");
  }
  return result;
}

MemoryOpResult OfflineBlocks(const std::string& chardev, const std::vector<MemoryBlock>& blocks,
                             const BlockStateWriter& write, const BlockTransitionFn& on_transition,
                             const BlockWalkOptions& options) {
  using Clock = std::chrono::steady_clock;
  auto sleep = options.sleep ? options.sleep
                             : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  const Clock::time_point start = Clock::now();
  const Deadline deadline = start + options.timeout;
  MemoryOpResult result;
  result.chardev = chardev;
  const uint64_t total = CountIn(blocks, KmemState::kOnline);
  uint64_t done = 0;
  ReportProgress(options.progress, "offline", done, total, "blocks");
  for (const MemoryBlock& b : blocks) {
    if (StateOf(b) != KmemState::kOnline) {
      result.blocks.push_back({b.id, b.state, b.state, Status::Ok()});
      continue;
    }
    // The kernel marks the block going-offline for as long as it works on it.
    Report(on_transition, b.id, KmemState::kOnline, KmemState::kGoingOffline, false);
    // `waited` counts the backoff sleeps (a test's sleep may not take real
    // time); the deadline bounds the writes themselves in real time.
    std::chrono::milliseconds waited{0}, delay = options.first_delay;
    int tries = 0;
    Status s;
    for (;;) {
      ++tries;
      s = write({b.id, KmemState::kOffline, true, deadline});
      if (s.ok() || s.code() != Code::kBusy || s.sys_errno() == EINTR) break;
      if (waited + delay > options.timeout || Clock::now() + delay > deadline) break;
      sleep(delay);
      waited += delay;
      delay = std::min(delay * 2, options.max_delay);
    }
    if (s.ok()) {
      result.blocks.push_back({b.id, "online", "offline", Status::Ok()});
      Report(on_transition, b.id, KmemState::kGoingOffline, KmemState::kOffline, false);
      ReportProgress(options.progress, "offline", ++done, total, "blocks");
      continue;
    }
    std::string what = "memory block " + std::to_string(b.id) + " of " + chardev;
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    if (s.code() == Code::kBusy && s.sys_errno() == EINTR)
      s = Status(Code::kBusy,
                 what + " did not go offline within " + Ms(options.timeout) +
                     ": the kernel was still migrating its pages (pinned or in use; " + s.message() +
                     "); it was stopped at the deadline and the block is online again",
                 EINTR);
    else if (s.code() == Code::kBusy)
      s = Status(Code::kBusy,
                 what + " is busy (" + s.message() + ", after " + std::to_string(tries) + " tries over " +
                     Ms(std::max(waited, took)) + "): it holds pages the kernel cannot migrate",
                 s.sys_errno());
    else
      s = s.Annotate("offline " + what);
    result.blocks.push_back({b.id, "online", "online", s});
    Report(on_transition, b.id, KmemState::kGoingOffline, KmemState::kOnline, true);
    // Put back what this call offlined, into the zone each was in: the
    // device ends as it started.
    for (BlockResult& r : result.blocks) {
      if (r.from != "online" || r.to != "offline") continue;
      const MemoryBlock* orig = nullptr;
      for (const MemoryBlock& x : blocks)
        if (x.id == r.id) orig = &x;
      bool movable = orig && orig->zone == "Movable";
      Status u = write({r.id, KmemState::kOnline, movable, Clock::now() + options.rollback_timeout});
      if (!u.ok()) {
        r.status = u.Annotate("roll back: online memory block " + std::to_string(r.id) + " again");
        continue;
      }
      r.to = "online";
      r.rolled_back = true;
      Report(on_transition, r.id, KmemState::kOffline, KmemState::kOnline, true);
    }
    result.rolled_back = true;
    return result;
  }
  return result;
}

}  // namespace pmemd
