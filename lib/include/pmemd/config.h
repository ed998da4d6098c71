// The daemon's configuration: embedded defaults, a JSON file, then flags.
//
// Every key of the file is documented in config/pmemd.json and in the
// README's configuration reference. An unknown key or a value of the wrong
// type is an error naming the key and the type expected.
//
// Thread safety: plain values.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "pmemd/emulated_platform.h"
#include "pmemd/paths.h"
#include "pmemd/status.h"

namespace pmemd {

// memmap_budget as written: a byte count, or a share of the machine's RAM
// (MemTotal), which is resolved when the daemon starts (ResolveMemmapBudget)
// so that one config file suits machines of different sizes.
struct MemmapBudget {
  uint64_t bytes = 0;    // the budget, when percent is 0
  uint32_t percent = 25; // 1..100: this share of MemTotal
};

struct Config {
  std::string socket_path;
  std::string state_dir;
  std::string platform = "auto";  // "auto", "emulated", "ndctl"
  std::string log_level = "info";
  std::string socket_group;  // group owning the socket; "" = the daemon's own group
  std::string admin_group;   // group allowed to call mutating methods besides root; "" = root only
  uint64_t max_request_bytes = 1ull << 20;
  uint32_t max_connections = 1024;
  uint32_t worker_threads = 4;
  // Bounds against hostile load (server.h and rpc.h say how each is enforced).
  uint32_t request_timeout_ms = 60'000;     // a partial line must be completed within this
  uint32_t idle_timeout_ms = 300'000;       // a connection with nothing pending is closed after this
  uint32_t reserved_admin_connections = 16;  // of max_connections, kept for root and admin_group
  uint32_t max_connections_per_uid = 64;    // per non-admin uid
  uint64_t max_buffered_bytes = 64ull << 20;  // partial request lines across all connections
  uint64_t max_reply_bytes = 16ull << 20;   // one reply line, a batch's included
  // The DRAM that the metadata arrays of memmap-mem pools may take together
  // (pool_manager.h): a pool whose array would pass it is refused, so the
  // daemon is never the process the OOM killer picks for its pools.
  MemmapBudget memmap_budget;
  // The event stream (event_stream.h): events kept for `subscribe` with
  // `since`, and each subscriber's queue, in events and in bytes.
  uint64_t event_ring_size = 4096;
  uint64_t event_queue_events = 1024;
  uint64_t event_queue_bytes = 1ull << 20;
  // GET /metrics and /healthz over HTTP on this loopback address
  // ("127.0.0.1:9464"); "" (the default): no HTTP listener.
  std::string metrics_listen;
  // DIMM health and bad blocks are read at least this often (pmemd/health.h),
  // and whenever the kernel notifies a DIMM health event.
  uint32_t health_interval_ms = 60'000;
  // A layout (docs/layouts.md) to apply at start-up, after the journal is
  // reconciled and the pools re-attached: a file's absolute path, or the
  // layout inline as an object; null (the default): none. It is read and
  // applied then, not here: its problems are the start-up apply's (logged,
  // and the daemon serves anyway).
  nlohmann::json layout;
  EmulatedConfig emulated;
};

// The embedded defaults, paths filled in for the current user.
Config DefaultConfig();

// Overlays the keys present in `j` onto `config`.
Status ApplyConfigJson(const nlohmann::json& j, Config* config);
// Reads a JSON config file and overlays it onto `config`.
Status LoadConfigFile(const std::string& path, Config* config);

// Checks values (not types): platform name, log level, limits.
Status ValidateConfig(const Config& config);

// A memmap_budget value: bytes (1073741824), a size string ("8G", as
// ParseSize) or a percentage of MemTotal ("25%", 1..100). Anything else,
// zero included, is kInvalidArgument naming the key, the value and the
// forms accepted.
Result<MemmapBudget> ParseMemmapBudget(const nlohmann::json& value);
// MemTotal from `meminfo` (a /proc/meminfo), in bytes.
Result<uint64_t> ReadMemTotal(const std::string& meminfo = "/proc/meminfo");
// The budget in bytes: `bytes`, or `percent` of MemTotal (read from
// `meminfo` only then).
Result<uint64_t> ResolveMemmapBudget(const MemmapBudget& budget, const std::string& meminfo = "/proc/meminfo");

// Group name or numeric gid -> gid.
Result<gid_t> LookupGroup(const std::string& name);

}  // namespace pmemd
