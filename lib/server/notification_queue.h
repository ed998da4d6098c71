// NotificationQueue: the lines a request's worker queues for its
// connection ahead of the answer (progress notifications, rpc.h
// CallContext::notify). Internal to lib/server: a Session owns one.
//
// Bounded, and the worker never waits for the peer: when `capacity` lines
// are queued, the oldest is dropped (counted) to make room, so a peer that
// reads slowly sees fewer, fresher lines, and the last line queued (a
// stage's done == total) is always among those it gets. The answer itself
// never goes through the queue: the session writes it after whatever is
// queued when it arrives.
//
// Thread safety: Push from the worker, Take from the io thread, at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "pmemd/mutex.h"

namespace pmemd {
namespace server_internal {

class NotificationQueue {
 public:
  explicit NotificationQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  NotificationQueue(const NotificationQueue&) = delete;
  NotificationQueue& operator=(const NotificationQueue&) = delete;

  // Queues `line`. True when the queue was empty: the caller then wakes
  // the io thread, which takes everything; a push into a queue that is not
  // empty finds a wake already on its way.
  bool Push(std::string line) EXCLUDES(mu_);
  // Everything queued, oldest first; the queue is empty after.
  std::vector<std::string> Take() EXCLUDES(mu_);
  // Lines dropped to make room since the queue was made.
  uint64_t dropped() const EXCLUDES(mu_);

 private:
  const size_t capacity_;
  mutable Mutex mu_;
  std::deque<std::string> lines_ GUARDED_BY(mu_);
  uint64_t dropped_ GUARDED_BY(mu_) = 0;
};

}  // namespace server_internal
}  // namespace pmemd
