// pmemd-bench: a daemon to measure, and the figures taken from it.
//
// SpawnDaemon starts a pmemd binary on the emulated platform with a
// temporary socket, state directory and config (the caller's config JSON),
// and waits until it answers; the SpawnedDaemon stops it (SIGTERM) and
// removes the directory when it goes out of scope. The socket's directory
// is mode 0755 and the config may set socket_group, so that other uids can
// connect (pmemd-bench load forks clients that drop to other uids).
//
// Thread safety: plain functions; a SpawnedDaemon belongs to one thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "pmemd/status.h"

namespace pmemd::bench {

struct SpawnedDaemon {
  std::string dir, socket, log;
  pid_t pid = -1;
  SpawnedDaemon() = default;
  SpawnedDaemon(const SpawnedDaemon&) = delete;
  SpawnedDaemon& operator=(const SpawnedDaemon&) = delete;
  ~SpawnedDaemon();
};

// `bin --config <dir>/pmemd.json --socket <dir>/pmemd.sock --state-dir
// <dir>/state --platform emulated`, stderr to <dir>/pmemd.log; `tag` names
// the directory (/tmp/pmemd-<tag>-XXXXXX). Unavailable, naming the log, when
// it does not serve within 30 s or exits.
Status SpawnDaemon(const std::string& bin, const std::string& tag, const std::string& config_json,
                   SpawnedDaemon* d);

// The pid at the other end of a daemon's socket (SO_PEERCRED), -1 if none.
pid_t PeerPid(const std::string& socket);
// A "Field:" of /proc/PID/status in kB (VmRSS, VmHWM), 0 if absent.
std::uint64_t ProcStatusKb(pid_t pid, const char* field);

// The p-quantile (0..1, nearest rank) of the values; 0 when empty.
double Percentile(std::vector<double> v, double p);

}  // namespace pmemd::bench
