#include "pmemd/config_schema.h"

namespace pmemd {

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> keys = {
      {"socket", "string",
       "root: /run/pmemd/pmemd.sock; others: $XDG_RUNTIME_DIR/pmemd/pmemd.sock, else /tmp/pmemd-<uid>/pmemd.sock",
       "--socket", "The Unix socket pmemd listens on (mode 0660)."},
      {"state_dir", "string", "root: /var/lib/pmemd; others: $XDG_STATE_HOME/pmemd, else ~/.local/state/pmemd",
       "--state-dir",
       "Journals, the label store and emulated region files. One daemon per directory: it is locked."},
      {"platform", "string", "auto", "--platform",
       "ndctl: real pmem through libndctl and libdaxctl; emulated: regions modelled over sparse files; auto: ndctl "
       "when running as root or under systemd (with no regions it warns and serves an empty inventory: a pmem "
       "server is never served emulated regions), else emulated."},
      {"log_level", "string", "info", "--log-level",
       "trace, debug, info, warn, error, critical or off. Re-read on SIGHUP."},
      {"socket_group", "string", "\"\"", "",
       "The group (name or gid) that owns the socket; \"\" keeps pmemd's own group."},
      {"admin_group", "string", "\"\"", "",
       "The group whose members may call mutating methods besides root; \"\": root only."},
      {"max_request_bytes", "integer", "1048576", "", "The longest request line accepted (1024 to 67108864)."},
      {"max_connections", "integer", "1024", "",
       "Connections served at once; more are answered with an error and closed."},
      {"worker_threads", "integer", "4", "",
       "Threads that run requests (1 to 64); root and admin_group have one more of their own."},
      {"request_timeout_ms", "integer", "60000", "",
       "A partial request line must be completed within this (from its first byte), else it is answered with an "
       "error and the connection closed; also how long an answer may wait for the peer to read it (10 to "
       "3600000)."},
      {"idle_timeout_ms", "integer", "300000", "",
       "A connection with nothing pending is closed after this (10 to 86400000)."},
      {"reserved_admin_connections", "integer", "16", "",
       "Of max_connections, kept for root and admin_group (less than max_connections)."},
      {"max_connections_per_uid", "integer", "64", "",
       "Connections one non-admin uid may hold; root and admin_group are exempt."},
      {"max_buffered_bytes", "integer", "67108864", "",
       "Partial request lines buffered across all connections; past it the largest non-admin one is answered with "
       "an error and closed (at least max_request_bytes)."},
      {"max_reply_bytes", "integer", "16777216", "",
       "The longest reply line; answers past it, alone or in a batch, become resource_exhausted errors (65536 to "
       "1073741824)."},
      {"memmap_budget", "integer or string", "\"25%\"", "",
       "The DRAM that the metadata arrays of memmap mem pools may take together (64 bytes per 4 KiB page of each "
       "pool): bytes (1073741824), a size (\"8G\") or a percentage of MemTotal (\"25%\", 1% to 100%). A mem pool "
       "that would pass it is refused with no_space at create-pool and attach-pool, and listed unavailable at "
       "start-up; memmap dev pools cost none of it."},
      {"event_ring_size", "integer", "4096", "",
       "Events kept for subscribe with since (0 to 1048576); a resume from an older one is told what it missed."},
      {"event_queue_events", "integer", "1024", "",
       "Events queued for one subscriber that does not keep up; past it (or event_queue_bytes) events are dropped "
       "for it and it is told how many (1 to 1048576)."},
      {"event_queue_bytes", "integer", "1048576", "",
       "The same bound in bytes (4096 to 1073741824)."},
      {"metrics_listen", "string", "\"\"", "",
       "Serve GET /metrics (Prometheus text format) and /healthz over HTTP on this loopback address and port "
       "(\"127.0.0.1:9464\" or \"[::1]:9464\") or on a Unix socket (\"unix:/run/pmemd/metrics.sock\", mode 0666 like a "
       "loopback port); \"\": no HTTP listener. Other addresses are refused."},
      {"health_interval_ms", "integer", "60000", "",
       "DIMM health (SMART) and bad blocks are read at least this often, and whenever the kernel notifies a DIMM "
       "health event (100 to 86400000); changes become dimm and badblocks events, a threshold crossed a warning."},
      {"layout", "string or object", "null", "",
       "A layout (docs/layouts.md) to apply at start-up, after interrupted operations are reconciled and pools "
       "re-attached: a file's absolute path, or the layout itself. It prunes only when it says \"prune\": true and "
       "never destroys data (no force). A failure is logged at error and pmemd serves anyway."},
      {"emulated", "object", "", "", "The emulated platform's machine (used when platform is emulated)."},
      {"emulated.regions", "array", "one 8 GiB region", "",
       "Emulated regions, each an object with the keys below; their files are created sparse."},
      {"emulated.regions[].size", "integer", "8589934592", "", "The region's size in bytes, a multiple of 16 MiB."},
      {"emulated.regions[].file", "string", "\"\"", "",
       "The region's backing file; \"\" = <state_dir>/emulated/regionN.img."},
      {"emulated.regions[].numa_node", "integer", "-1", "", "The NUMA node the region reports."},
      {"emulated.regions[].labels", "boolean", "true", "",
       "Whether the region has a label area; false models memmap= (label-less) pmem."},
      {"emulated.memory_block_size", "integer", "134217728", "",
       "The memory block size of the emulated machine (a power of two, at least 2 MiB)."},
      {"emulated.label_slots", "integer", "510", "",
       "Namespace labels per emulated DIMM (a 128 KiB label area)."},
  };
  return keys;
}

}  // namespace pmemd
