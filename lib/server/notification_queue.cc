#include "server/notification_queue.h"

namespace pmemd {
namespace server_internal {

bool NotificationQueue::Push(std::string line) {
  MutexLock lock(mu_);
  const bool was_empty = lines_.empty();
  if (lines_.size() == capacity_) {
    lines_.pop_front();
    ++dropped_;
  }
  lines_.push_back(std::move(line));
  return was_empty;
}

std::vector<std::string> NotificationQueue::Take() {
  MutexLock lock(mu_);
  std::vector<std::string> out(std::make_move_iterator(lines_.begin()), std::make_move_iterator(lines_.end()));
  lines_.clear();
  return out;
}

uint64_t NotificationQueue::dropped() const {
  MutexLock lock(mu_);
  return dropped_;
}

}  // namespace server_internal
}  // namespace pmemd
