// Named loggers for lib/ subsystems.
//
// lib/ never installs sinks: GetLogger("platform") returns a logger that
// shares the sinks of spdlog's default logger, which the program's main sets
// up (daemon/main.cc: stderr, no timestamps under systemd). Tests get
// spdlog's default (stderr) unless they install their own.
//
// Thread safety: safe from any thread.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace pmemd {

std::shared_ptr<spdlog::logger> GetLogger(const std::string& name);

// Points every logger already created, and every one created later, at the
// default logger's current sinks and the given level. Called by main after
// it replaces the default logger.
void ResetLoggers(spdlog::level::level_enum level);

// Whether stderr goes to the journal (systemd sets JOURNAL_STREAM for a
// service): then lines carry a syslog priority and no timestamp, and events
// are sent with journal fields of their own.
bool LoggingToJournal();

}  // namespace pmemd
