#include "pmemd/events.h"

#include <time.h>

#include <algorithm>

namespace pmemd {

nlohmann::json ToJson(const Event& e) {
  return {{"seq", e.seq}, {"time_ns", e.time_ns}, {"kind", e.kind}, {"object", e.object},
          {"from", e.from}, {"to", e.to}, {"detail", e.detail}};
}

EventBus::Subscription::Subscription(Subscription&& o) noexcept : bus_(o.bus_), id_(o.id_) {
  o.bus_ = nullptr;
}

EventBus::Subscription& EventBus::Subscription::operator=(Subscription&& o) noexcept {
  if (this != &o) {
    if (bus_) bus_->Unsubscribe(id_);
    bus_ = o.bus_;
    id_ = o.id_;
    o.bus_ = nullptr;
  }
  return *this;
}

EventBus::Subscription::~Subscription() {
  if (bus_) bus_->Unsubscribe(id_);
}

EventBus::Subscription EventBus::Subscribe(Callback cb) {
  MutexLock lock(mu_);
  uint64_t id = next_id_++;
  subs_.emplace_back(id, std::make_shared<Callback>(std::move(cb)));
  return Subscription(this, id);
}

void EventBus::Unsubscribe(uint64_t id) {
  // Taking deliver_mu_ means that once this returns, the callback is not
  // running and will not run again, so its captures may be destroyed.
  MutexLock deliver(deliver_mu_);
  MutexLock lock(mu_);
  std::erase_if(subs_, [id](const auto& s) { return s.first == id; });
}

void EventBus::Publish(Event e) {
  MutexLock deliver(deliver_mu_);
  std::vector<std::shared_ptr<Callback>> targets;
  {
    MutexLock lock(mu_);
    e.seq = ++seq_;
    targets.reserve(subs_.size());
    for (auto& [id, cb] : subs_) targets.push_back(cb);
  }
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  e.time_ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  for (auto& cb : targets) (*cb)(e);
}

uint64_t EventBus::last_seq() const {
  MutexLock lock(mu_);
  return seq_;
}

}  // namespace pmemd
