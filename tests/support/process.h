// Test helpers: run the real pmemd and pmemctl as child processes (the
// integration tests; PMEMD_BIN and PMEMCTL_BIN name the binaries).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/temp_dir.h"

namespace pmemd::testing {

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out, err;
  nlohmann::json Json() const;  // stdout parsed; discarded on error
};

// Runs a program to completion with a timeout (seconds); stdin is /dev/null.
RunResult RunProgram(const std::vector<std::string>& argv, int timeout_s = 60,
              const std::vector<std::string>& env = {});

// pmemd running in the background with its stderr in a file.
class DaemonProcess {
 public:
  DaemonProcess(std::string socket, std::string state_dir, std::vector<std::string> extra = {});
  ~DaemonProcess();

  // Environment variables ("NAME=value") for the next Start.
  void SetEnv(std::vector<std::string> env) { env_ = std::move(env); }
  // Starts pmemd and waits until its socket answers; false on failure or exit.
  bool Start(int timeout_s = 30);
  // Sends `sig` and waits for exit; returns the exit code (-signal if killed).
  int Signal(int sig, int timeout_s = 30);
  void Kill();
  pid_t pid() const { return pid_; }
  bool running() const;
  std::string Log() const;
  const std::string& socket() const { return socket_; }

  // Runs pmemctl against this daemon's socket.
  RunResult Ctl(std::vector<std::string> args) const;

 private:
  std::string socket_, state_dir_, log_path_;
  std::vector<std::string> extra_, env_;
  pid_t pid_ = -1;
};

}  // namespace pmemd::testing
