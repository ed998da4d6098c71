#include "server/session.h"

namespace pmemd {
namespace server_internal {

void ConnectionManager::Add(std::shared_ptr<Session> s) {
  ++per_uid_[s->peer().uid];
  sessions_.insert(std::move(s));
}

void ConnectionManager::Remove(const std::shared_ptr<Session>& s) {
  if (sessions_.erase(s) == 0) return;
  auto it = per_uid_.find(s->peer().uid);
  if (it != per_uid_.end() && --it->second == 0) per_uid_.erase(it);
}

void ConnectionManager::StopAll() {
  // Stop() may remove the session from the set: iterate over a copy.
  auto copy = sessions_;
  for (auto& s : copy) s->Stop();
}

void ConnectionManager::EnforceBufferBound() {
  while (buffered_ > options_->max_buffered_bytes) {
    std::shared_ptr<Session> victim;
    for (const auto& s : sessions_)
      if (!s->admin() && s->buffered() > 0 && (!victim || s->buffered() > victim->buffered())) victim = s;
    if (!victim) return;  // only admin sessions hold bytes: they are never dropped
    victim->DropForBufferBound();
  }
}

void ConnectionManager::WarnAbout(uid_t uid, const std::string& message) {
  if (auto suppressed = warnings_.Admit(uid))
    Log()->warn("{}{}", message, SuppressedNote(*suppressed, warnings_.interval()));
}

}  // namespace server_internal
}  // namespace pmemd
