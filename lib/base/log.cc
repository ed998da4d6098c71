#include "pmemd/log.h"

#include <cstdlib>

#include "pmemd/mutex.h"

namespace pmemd {

namespace {
Mutex g_mu;  // serializes the lookups and changes of spdlog's registry below
}

std::shared_ptr<spdlog::logger> GetLogger(const std::string& name) {
  MutexLock lock(g_mu);
  if (auto l = spdlog::get(name)) return l;
  auto def = spdlog::default_logger();
  auto l = std::make_shared<spdlog::logger>(name, def->sinks().begin(), def->sinks().end());
  l->set_level(def->level());
  spdlog::register_logger(l);
  return l;
}

bool LoggingToJournal() { return std::getenv("JOURNAL_STREAM") != nullptr; }

void ResetLoggers(spdlog::level::level_enum level) {
  MutexLock lock(g_mu);
  auto def = spdlog::default_logger();
  def->set_level(level);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    if (l == def) return;
    l->sinks() = def->sinks();
    l->set_level(level);
  });
}

}  // namespace pmemd
