// EventBus: the one place every state change in pmemd flows through.
//
// Namespaces, dax devices, memory blocks, pools and leases publish an Event
// for each transition they make; the daemon's log, the (coming) event stream
// over the socket and metrics subscribe here rather than being called from
// each subsystem. Events carry raw values; rendering is the subscriber's job.
//
// Thread safety: Publish and Subscribe may be called from any thread.
// Subscribers are called synchronously on the publishing thread, in
// subscription order, and must not block or call back into the bus's
// Subscribe/unsubscribe from inside the callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/mutex.h"

namespace pmemd {

// The request that caused an event: the JSON-RPC method and id and the
// peer's SO_PEERCRED uid and pid. The dispatcher sets it for the thread that
// runs a handler (ScopedRequestOrigin) and Publish copies it into every event
// published on that thread meanwhile; events of background work (a watcher,
// start-up) have none. A thread-local rather than a parameter threaded
// through platform and pool: those layers know nothing of requests.
struct RequestOrigin {
  std::string method;
  nlohmann::json id;  // as the caller sent it (string, number or null)
  int64_t uid = -1;
  int64_t pid = -1;
};

// Sets the calling thread's current request for its lifetime.
class ScopedRequestOrigin {
 public:
  explicit ScopedRequestOrigin(RequestOrigin origin);
  ~ScopedRequestOrigin();
  ScopedRequestOrigin(const ScopedRequestOrigin&) = delete;
  ScopedRequestOrigin& operator=(const ScopedRequestOrigin&) = delete;

 private:
  std::optional<RequestOrigin> saved_;
};

// The calling thread's current request, if any.
const RequestOrigin* CurrentRequestOrigin();

struct Event {
  uint64_t seq = 0;          // assigned by the bus, strictly increasing
  uint64_t time_ns = 0;      // CLOCK_REALTIME, assigned by the bus
  std::string kind;          // "namespace", "dax_device", "memory_block", "pool", "lease", "dimm", "daemon"
  std::string object;        // "namespace0.0", "memory42", "pool:p0", ...
  std::string from;          // previous state ("" when created)
  std::string to;            // new state ("" when destroyed)
  nlohmann::json detail = nlohmann::json::object();
  std::optional<RequestOrigin> request;  // filled by Publish from the thread's current request
};

// {"seq", "time_ns", "time" (RFC 3339, UTC, ns), "kind", "object", "from",
// "to", "detail", and "request": {"method", "id", "uid", "pid"} when known}.
nlohmann::json ToJson(const Event& e);
// "2026-12-04T18:44:29.123456789Z"
std::string Rfc3339(uint64_t time_ns);

class EventBus {
 public:
  using Callback = std::function<void(const Event&)>;

  // Unsubscribes when destroyed. Must not outlive the bus.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&&) noexcept;
    Subscription& operator=(Subscription&&) noexcept;
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    friend class EventBus;
    Subscription(EventBus* bus, uint64_t id) : bus_(bus), id_(id) {}
    EventBus* bus_ = nullptr;
    uint64_t id_ = 0;
  };

  EventBus() = default;
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  [[nodiscard]] Subscription Subscribe(Callback cb) EXCLUDES(mu_);
  // Stamps seq and time_ns (and the request, from CurrentRequestOrigin,
  // unless one is set) and delivers to every subscriber.
  void Publish(Event e) EXCLUDES(deliver_mu_, mu_);
  uint64_t last_seq() const EXCLUDES(mu_);

 private:
  void Unsubscribe(uint64_t id) EXCLUDES(deliver_mu_, mu_);

  Mutex deliver_mu_ ACQUIRED_BEFORE(mu_);  // serializes delivery so subscribers see seq order
  mutable Mutex mu_;
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  uint64_t seq_ GUARDED_BY(mu_) = 0;
  std::vector<std::pair<uint64_t, std::shared_ptr<Callback>>> subs_ GUARDED_BY(mu_);
};

}  // namespace pmemd
