// EventStream: the EventBus made into JSON-RPC notification lines for
// subscribers outside the process (the `subscribe` method, docs/events.md).
//
// It subscribes to the bus once and keeps:
//   - a ring of the last ring_size events, each serialized once as its
//     notification line, so that a subscriber can resume from a sequence
//     number (`since`) still in the ring; one that asks for an older one is
//     first told how many it missed;
//   - for each subscriber a bounded queue (queue_events lines and
//     queue_bytes bytes, whichever is reached first). The publisher never
//     waits for a subscriber: an event that does not fit is dropped for that
//     subscriber and counted, and the subscriber gets one `dropped`
//     notification with the count before the next event it does get (or when
//     it has read everything queued). The replay of `since` is not bounded by
//     the queue (the ring bounds it).
//
// Notification lines (no trailing newline):
//   {"jsonrpc":"2.0","method":"event","params":<ToJson(event)>}
//   {"jsonrpc":"2.0","method":"missed","params":{"missed":N,"since":S,"first_seq":F}}
//   {"jsonrpc":"2.0","method":"dropped","params":{"dropped":N,"first_seq":A,"last_seq":B}}
//
// Thread safety: every member may be called from any thread. The wake
// callback of a subscriber is called on the publishing thread, without the
// stream's lock held; it must not block (post to an executor).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pmemd/events.h"
#include "pmemd/status.h"

namespace pmemd {

struct EventStreamOptions {
  size_t ring_size = 4096;           // "event_ring_size": events kept for `since`
  size_t queue_events = 1024;        // "event_queue_events": per subscriber
  size_t queue_bytes = 1u << 20;     // "event_queue_bytes": per subscriber
};

// What a subscriber wants. Empty sets match everything.
struct EventFilter {
  std::set<std::string> kinds;
  std::set<std::string> objects;
  bool Matches(const std::string& kind, const std::string& object) const {
    return (kinds.empty() || kinds.contains(kind)) && (objects.empty() || objects.contains(object));
  }
};

// The event kinds the bus carries; a filter naming another is refused.
const std::vector<std::string>& KnownEventKinds();

class EventStream;

// One subscriber's queue. Detaches from the stream when destroyed or
// closed. Obtained from EventStream::Subscribe.
class EventSubscriber {
 public:
  ~EventSubscriber();
  EventSubscriber(const EventSubscriber&) = delete;
  EventSubscriber& operator=(const EventSubscriber&) = delete;

  // Moves queued lines out, up to about max_bytes (at least one line). When
  // none is queued, returns none and arms the wake callback: it is called
  // once, the next time a line is queued.
  std::vector<std::string> TakeLines(size_t max_bytes);
  // Sets the callback and, when lines are already queued, calls it at once.
  void SetWake(std::function<void()> wake);
  // Detaches: nothing more is queued, the wake callback is dropped.
  void Close();
  uint64_t dropped_total() const;

 private:
  friend class EventStream;
  explicit EventSubscriber(EventStream* stream, EventFilter filter) : stream_(stream), filter_(std::move(filter)) {}

  EventStream* stream_;  // borrowed; the stream outlives its subscribers
  const EventFilter filter_;
  // All guarded by stream_->mu_.
  std::deque<std::string> queue_;
  size_t queue_bytes_ = 0;
  uint64_t dropped_pending_ = 0;  // dropped since the last `dropped` notification
  uint64_t dropped_first_ = 0, dropped_last_ = 0;
  uint64_t dropped_total_ = 0;
  std::function<void()> wake_;
  bool armed_ = false;
  bool closed_ = false;
};

class EventStream {
 public:
  // `bus` is borrowed and must outlive the stream.
  EventStream(EventBus* bus, EventStreamOptions options = {});
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  struct Subscribed {
    std::shared_ptr<EventSubscriber> subscriber;
    uint64_t seq = 0;  // the last event published before the subscription
  };
  // A new subscriber. With `since`, the ring's matching events after it are
  // queued first, preceded by a `missed` notification when events after
  // `since` have left the ring. A `since` past the last event is
  // kInvalidArgument (sequence numbers restart with the daemon).
  Result<Subscribed> Subscribe(EventFilter filter, std::optional<uint64_t> since = std::nullopt);

  uint64_t last_seq() const;
  uint64_t published_total() const;  // events seen since the stream was made
  uint64_t dropped_total() const;    // events dropped for slow subscribers, all of them
  size_t subscribers() const;
  const EventStreamOptions& options() const { return options_; }

  // The notification lines, exposed for tests and for clients that build them.
  static std::string EventLine(const Event& e);

 private:
  friend class EventSubscriber;
  struct Stored {
    uint64_t seq;
    std::string kind;
    std::string object;
    std::shared_ptr<const std::string> line;
  };
  void OnEvent(const Event& e);
  // Queues `line` (of event `seq`) for `s`, or counts it dropped. Needs mu_.
  // Returns true when the subscriber must be woken.
  bool Enqueue(EventSubscriber* s, uint64_t seq, const std::string& line, bool bounded);
  void Detach(EventSubscriber* s);

  const EventStreamOptions options_;
  mutable std::mutex mu_;
  std::deque<Stored> ring_;                // guarded by mu_
  std::vector<EventSubscriber*> subs_;     // guarded by mu_
  uint64_t last_seq_ = 0;                  // guarded by mu_
  uint64_t published_ = 0;                 // guarded by mu_
  uint64_t dropped_ = 0;                   // guarded by mu_
  EventBus::Subscription bus_sub_;         // last: unsubscribed first
};

}  // namespace pmemd
