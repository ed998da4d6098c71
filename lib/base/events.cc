#include "pmemd/events.h"

#include <time.h>

#include <algorithm>
#include <cstdio>

namespace pmemd {

namespace {
thread_local std::optional<RequestOrigin> current_origin;
}  // namespace

ScopedRequestOrigin::ScopedRequestOrigin(RequestOrigin origin) : saved_(std::move(current_origin)) {
  current_origin = std::move(origin);
}

ScopedRequestOrigin::~ScopedRequestOrigin() { current_origin = std::move(saved_); }

const RequestOrigin* CurrentRequestOrigin() { return current_origin ? &*current_origin : nullptr; }

std::string Rfc3339(uint64_t time_ns) {
  time_t secs = static_cast<time_t>(time_ns / 1000000000ull);
  struct tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned long long>(time_ns % 1000000000ull));
  return buf;
}

nlohmann::json ToJson(const Event& e) {
  nlohmann::json j = {{"seq", e.seq}, {"time_ns", e.time_ns}, {"time", Rfc3339(e.time_ns)}, {"kind", e.kind},
                      {"object", e.object}, {"from", e.from}, {"to", e.to}, {"detail", e.detail}};
  if (e.request)
    j["request"] = {{"method", e.request->method}, {"id", e.request->id}, {"uid", e.request->uid},
                    {"pid", e.request->pid}};
  return j;
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
  if (!e.request)
    if (const RequestOrigin* origin = CurrentRequestOrigin()) e.request = *origin;
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
