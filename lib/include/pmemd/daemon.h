// Daemon: pmemd assembled from its parts: configuration, the event bus, the
// platform, the method registry and the server. daemon/main.cc parses the
// command line, installs log sinks and runs one of these.
//
// Thread safety: Create and Run from one thread; Stop from any.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pmemd/config.h"
#include "pmemd/options.h"
#include "pmemd/status.h"

namespace pmemd {

// The command line: every flag overrides the config file's key.
struct DaemonFlags {
  std::string config_file;  // "" = none: the embedded defaults
  std::optional<std::string> socket, state_dir, platform, log_level;
  bool help = false;
  bool version = false;
};

// pmemd's options, one table (pmemd/options.h) for the parser, --help and
// the man page pmemd(8).
const std::vector<OptionSpec>& DaemonOptions();
// Parses argv[1..]; errors name the flag and what it takes.
Result<DaemonFlags> ParseDaemonFlags(const std::vector<std::string>& args);
std::string DaemonUsage();

// Embedded defaults, then the config file, then the flags; validated.
Result<Config> ResolveConfig(const DaemonFlags& flags);

class Daemon {
 public:
  // Opens the platform and binds the socket; nothing is served yet.
  static Result<std::unique_ptr<Daemon>> Create(const Config& config,
                                                std::function<void()> on_reload = {});
  ~Daemon();

  // Serves until SIGTERM/SIGINT or Stop(); tells systemd READY=1 and STOPPING=1.
  void Run();
  void Stop();
  std::string_view platform_kind() const;
  // What the socket serves, for in-process callers (the request fuzzer):
  // every method, over this daemon's platform and pools.
  const class Dispatcher& dispatcher() const;

 private:
  struct Parts;
  explicit Daemon(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace pmemd
