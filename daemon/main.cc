// pmemd: the persistent-memory management daemon. Parses the command line,
// installs log sinks (lib/ never does) and runs a pmemd::Daemon.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "pmemd/daemon.h"
#include "pmemd/log.h"

namespace {

// "<N>" with N the syslog priority of the message's level, which journald
// turns into the entry's priority (sd-daemon(3)), so `journalctl -p warning`
// works.
class SyslogPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr char kPriority[] = {'7', '7', '6', '4', '3', '2', '6'};  // trace..critical, off
    const char text[] = {'<', kPriority[msg.level], '>'};
    dest.append(text, text + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SyslogPriority>(); }
};

// Under systemd (JOURNAL_STREAM set) journald adds timestamps and the unit
// name; otherwise a terminal user wants the time.
void InstallLogging(spdlog::level::level_enum level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("pmemd", sink));
  pmemd::ResetLoggers(level);
  // The sink's formatter is shared by every logger, including those lib/
  // creates later with GetLogger.
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (pmemd::LoggingToJournal())
    formatter->add_flag<SyslogPriority>('*').set_pattern("%*%n: %v");
  else
    formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %n: %v");
  sink->set_formatter(std::move(formatter));
}

// A start-up error, before the log sinks exist: one line on stderr, with the
// error priority "<3>" under systemd so that journalctl -p err shows it.
void StartupError(const std::string& message, const std::string& usage = "") {
  const char* prefix = pmemd::LoggingToJournal() ? "<3>" : "";
  std::fprintf(stderr, "%spmemd: %s\n%s", prefix, message.c_str(), usage.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto flags = pmemd::ParseDaemonFlags(args);
    if (!flags.ok()) {
      StartupError(flags.status().message(), pmemd::DaemonUsage());
      return 2;
    }
    if (flags->help) {
      std::fputs(pmemd::DaemonUsage().c_str(), stdout);
      return 0;
    }
    if (flags->version) {
      std::printf("pmemd %s (API %s)\n", PMEMD_VERSION, PMEMD_API_VERSION);
      return 0;
    }
    auto config = pmemd::ResolveConfig(*flags);
    if (!config.ok()) {
      StartupError(config.status().message());
      return 2;
    }
    InstallLogging(spdlog::level::from_str(config->log_level));

    // SIGHUP re-reads the log level from the config file and the flags.
    pmemd::DaemonFlags reload_flags = *flags;
    auto reload = [reload_flags] {
      auto c = pmemd::ResolveConfig(reload_flags);
      if (!c.ok()) {
        spdlog::error("reload: {}; keeping the current settings", c.status().message());
        return;
      }
      pmemd::ResetLoggers(spdlog::level::from_str(c->log_level));
      spdlog::info("log level is now {}", c->log_level);
    };
    auto daemon = pmemd::Daemon::Create(*config, reload);
    if (!daemon.ok()) {
      spdlog::critical("cannot start: {}", daemon.status().message());
      return 1;
    }
    if (!pmemd::LoggingToJournal())
      std::fprintf(stderr,
                 "pmemd is serving on %s (platform %s).\n"
                 "Talk to it:  pmemctl --socket %s list\n"
                 "      or:    PMEMD_SOCKET=%s pmemctl version\n"
                 "Stop it with Ctrl-C.\n",
                 config->socket_path.c_str(), std::string((*daemon)->platform_kind()).c_str(),
                 config->socket_path.c_str(), config->socket_path.c_str());
    (*daemon)->Run();
    return 0;
  } catch (const std::exception& e) {  // the one catch-all in main
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
}
