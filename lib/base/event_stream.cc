#include "pmemd/event_stream.h"

#include <algorithm>

namespace pmemd {

using nlohmann::json;

namespace {

std::string Notification(const char* method, json params) {
  return json{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

// The `dropped` notification: `count` events, `first`..`last`, not delivered.
std::string DroppedNote(uint64_t count, uint64_t first, uint64_t last) {
  return Notification("dropped", {{"dropped", count}, {"first_seq", first}, {"last_seq", last}});
}

}  // namespace

const std::vector<std::string>& KnownEventKinds() {
  static const std::vector<std::string> kinds = {"badblocks", "daemon", "dax_device", "dimm", "lease",
                                                 "memory_block", "namespace", "pool", "pool_block"};
  return kinds;
}

std::string EventStream::EventLine(const Event& e) { return Notification("event", ToJson(e)); }

EventSubscriber::~EventSubscriber() { Close(); }

void EventSubscriber::Close() { stream_->Detach(this); }

uint64_t EventSubscriber::dropped_total() const {
  std::lock_guard lock(stream_->mu_);
  return dropped_total_;
}

std::vector<std::string> EventSubscriber::TakeLines(size_t max_bytes) {
  std::lock_guard lock(stream_->mu_);
  std::vector<std::string> out;
  size_t bytes = 0;
  while (!queue_.empty() && (out.empty() || bytes + queue_.front().size() <= max_bytes)) {
    bytes += queue_.front().size();
    queue_bytes_ -= queue_.front().size();
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  // Caught up with drops still untold: tell them now rather than wait for
  // the next event, which may be long in coming.
  if (queue_.empty() && dropped_pending_ > 0 && bytes < max_bytes) {
    out.push_back(DroppedNote(dropped_pending_, dropped_first_, dropped_last_));
    dropped_pending_ = 0;
  }
  armed_ = out.empty() && !closed_;
  return out;
}

void EventSubscriber::SetWake(std::function<void()> wake) {
  bool now = false;
  {
    std::lock_guard lock(stream_->mu_);
    if (closed_) return;
    wake_ = wake;
    now = !queue_.empty() || dropped_pending_ > 0;
    armed_ = !now;
  }
  if (now && wake) wake();
}

EventStream::EventStream(EventBus* bus, EventStreamOptions options) : options_(options) {
  bus_sub_ = bus->Subscribe([this](const Event& e) { OnEvent(e); });
  last_seq_ = bus->last_seq();
}

EventStream::~EventStream() {
  bus_sub_ = EventBus::Subscription();  // no more OnEvent
  std::lock_guard lock(mu_);
  for (EventSubscriber* s : subs_) s->closed_ = true;
  subs_.clear();
}

bool EventStream::Enqueue(EventSubscriber* s, uint64_t seq, const std::string& line, bool bounded) {
  if (bounded && (s->queue_.size() >= options_.queue_events || s->queue_bytes_ + line.size() > options_.queue_bytes)) {
    if (s->dropped_pending_ == 0) s->dropped_first_ = seq;
    s->dropped_last_ = seq;
    ++s->dropped_pending_;
    ++s->dropped_total_;
    ++dropped_;
    return false;
  }
  if (s->dropped_pending_ > 0) {
    // Tell the drops in their place, before the first event after them.
    std::string note = DroppedNote(s->dropped_pending_, s->dropped_first_, s->dropped_last_);
    s->queue_bytes_ += note.size();
    s->queue_.push_back(std::move(note));
    s->dropped_pending_ = 0;
  }
  s->queue_bytes_ += line.size();
  s->queue_.push_back(line);
  if (!s->armed_ || !s->wake_) return false;
  s->armed_ = false;
  return true;
}

void EventStream::OnEvent(const Event& e) {
  auto line = std::make_shared<const std::string>(EventLine(e));  // serialized once, outside the lock
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard lock(mu_);
    last_seq_ = e.seq;
    ++published_;
    if (options_.ring_size > 0) {
      if (ring_.size() >= options_.ring_size) ring_.pop_front();
      ring_.push_back({e.seq, e.kind, e.object, line});
    }
    for (EventSubscriber* s : subs_)
      if (s->filter_.Matches(e.kind, e.object) && Enqueue(s, e.seq, *line, true)) wakes.push_back(s->wake_);
  }
  for (auto& w : wakes) w();  // posts; never waits for a subscriber
}

Result<EventStream::Subscribed> EventStream::Subscribe(EventFilter filter, std::optional<uint64_t> since) {
  std::shared_ptr<EventSubscriber> s(new EventSubscriber(this, std::move(filter)));
  std::lock_guard lock(mu_);
  if (since) {
    if (*since > last_seq_)
      return Status::InvalidArgument("since " + std::to_string(*since) + " is past the last event, " +
                                     std::to_string(last_seq_) +
                                     "; sequence numbers restart when pmemd does: subscribe without since, or "
                                     "with a number up to " + std::to_string(last_seq_));
    // Events since+1 .. first-1 are gone.
    uint64_t first = ring_.empty() ? last_seq_ + 1 : ring_.front().seq;
    if (*since + 1 < first) {
      std::string note = Notification("missed", {{"missed", first - 1 - *since}, {"since", *since},
                                                 {"first_seq", first}});
      s->queue_bytes_ += note.size();
      s->queue_.push_back(std::move(note));
    }
    for (const Stored& st : ring_)
      if (st.seq > *since && s->filter_.Matches(st.kind, st.object)) Enqueue(s.get(), st.seq, *st.line, false);
  }
  subs_.push_back(s.get());
  return Subscribed{std::move(s), last_seq_};
}

void EventStream::Detach(EventSubscriber* s) {
  std::function<void()> drop;  // destroyed outside the lock
  std::lock_guard lock(mu_);
  if (s->closed_) return;
  s->closed_ = true;
  s->armed_ = false;
  drop = std::move(s->wake_);
  std::erase(subs_, s);
}

uint64_t EventStream::last_seq() const {
  std::lock_guard lock(mu_);
  return last_seq_;
}

uint64_t EventStream::published_total() const {
  std::lock_guard lock(mu_);
  return published_;
}

uint64_t EventStream::dropped_total() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

size_t EventStream::subscribers() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

}  // namespace pmemd
