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
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/mutex.h"

namespace pmemd {

struct Event {
  uint64_t seq = 0;          // assigned by the bus, strictly increasing
  uint64_t time_ns = 0;      // CLOCK_REALTIME, assigned by the bus
  std::string kind;          // "namespace", "dax_device", "memory_block", "pool", "lease", "dimm", "daemon"
  std::string object;        // "namespace0.0", "memory42", "pool:p0", ...
  std::string from;          // previous state ("" when created)
  std::string to;            // new state ("" when destroyed)
  nlohmann::json detail = nlohmann::json::object();
};

nlohmann::json ToJson(const Event& e);

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
  // Stamps seq and time_ns and delivers to every subscriber.
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
