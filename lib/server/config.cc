#include "pmemd/config.h"

#include <grp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/size.h"
#include "pmemd/text.h"
#include "server/http_metrics.h"

namespace pmemd {

using nlohmann::json;

namespace {

Status ApplyEmulated(const json& j, EmulatedConfig* e) {
  JsonReader r(j, "config.emulated");
  json regions;
  bool has_regions = r.Optional("regions", &regions);
  r.Optional("memory_block_size", &e->memory_block_size);
  r.Optional("label_slots", &e->label_slots);
  PMEMD_RETURN_IF_ERROR(r.Finish());
  if (!has_regions) return Status::Ok();
  if (!regions.is_array())
    return Status::InvalidArgument("config.emulated.regions: expected an array of region objects, got " +
                                   JsonTypeName(regions));
  e->regions.clear();
  for (size_t i = 0; i < regions.size(); ++i) {
    EmulatedRegionConfig rc;
    JsonReader rr(regions[i], "config.emulated.regions[" + std::to_string(i) + "]");
    rr.Optional("size", &rc.size);
    rr.Optional("file", &rc.file);
    int node = -1;
    if (rr.Optional("numa_node", &node)) rc.numa_node = node;
    rr.Optional("labels", &rc.labels);
    PMEMD_RETURN_IF_ERROR(rr.Finish());
    e->regions.push_back(rc);
  }
  return Status::Ok();
}

// "<key> <value> must be between <lo> and <hi>" unless it is.
Status CheckRange(const char* key, uint64_t value, uint64_t lo, uint64_t hi) {
  if (value >= lo && value <= hi) return Status::Ok();
  return Status::InvalidArgument(std::string(key) + " " + std::to_string(value) + " must be between " +
                                 std::to_string(lo) + " and " + std::to_string(hi));
}

}  // namespace

Config DefaultConfig() {
  Config c;
  c.socket_path = DefaultSocketPath();
  c.state_dir = DefaultStateDir();
  return c;
}

Status ApplyConfigJson(const json& j, Config* c) {
  JsonReader r(j, "config");
  r.Optional("socket", &c->socket_path);
  r.Optional("state_dir", &c->state_dir);
  r.Optional("platform", &c->platform);
  r.Optional("log_level", &c->log_level);
  r.Optional("socket_group", &c->socket_group);
  r.Optional("admin_group", &c->admin_group);
  r.Optional("max_request_bytes", &c->max_request_bytes);
  r.Optional("max_connections", &c->max_connections);
  r.Optional("worker_threads", &c->worker_threads);
  r.Optional("request_timeout_ms", &c->request_timeout_ms);
  r.Optional("idle_timeout_ms", &c->idle_timeout_ms);
  r.Optional("reserved_admin_connections", &c->reserved_admin_connections);
  r.Optional("max_connections_per_uid", &c->max_connections_per_uid);
  r.Optional("max_buffered_bytes", &c->max_buffered_bytes);
  r.Optional("max_reply_bytes", &c->max_reply_bytes);
  r.Optional("event_ring_size", &c->event_ring_size);
  r.Optional("event_queue_events", &c->event_queue_events);
  r.Optional("event_queue_bytes", &c->event_queue_bytes);
  r.Optional("metrics_listen", &c->metrics_listen);
  r.Optional("health_interval_ms", &c->health_interval_ms);
  json budget;
  const bool has_budget = r.Optional("memmap_budget", &budget);
  json emulated;
  bool has_emulated = r.Optional("emulated", &emulated);
  json layout;
  const bool has_layout = r.Optional("layout", &layout);
  PMEMD_RETURN_IF_ERROR(r.Finish());
  if (has_layout) {
    const bool path = layout.is_string() && layout.get<std::string>().starts_with("/");
    if (!path && !layout.is_object() && !layout.is_null())
      return Status::InvalidArgument("config.layout: expected a layout file's absolute path or a layout object "
                                     "(docs/layouts.md), got " +
                                     (layout.is_string() ? Quote(layout.get<std::string>()) : JsonTypeName(layout)));
    c->layout = std::move(layout);
  }
  if (has_budget) {
    PMEMD_ASSIGN_OR_RETURN(c->memmap_budget, ParseMemmapBudget(budget));
  }
  if (has_emulated) PMEMD_RETURN_IF_ERROR(ApplyEmulated(emulated, &c->emulated));
  return Status::Ok();
}

Status LoadConfigFile(const std::string& path, Config* config) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status().Annotate("read config file");
  Result<json> j = ParseJson(*text);
  if (!j.ok()) return Status::InvalidArgument("config file " + path + ": " + j.status().message());
  return ApplyConfigJson(*j, config).Annotate("config file " + path);
}

Status ValidateConfig(const Config& c) {
  if (c.platform != "auto" && c.platform != "emulated" && c.platform != "ndctl")
    return Status::InvalidArgument("platform '" + c.platform + "' is unknown; use auto, emulated or ndctl");
  if (spdlog::level::from_str(c.log_level) == spdlog::level::off && c.log_level != "off")
    return Status::InvalidArgument("log_level '" + c.log_level +
                                   "' is unknown; use trace, debug, info, warn, error, critical or off");
  if (c.socket_path.empty() || c.socket_path.size() >= 108)
    return Status::InvalidArgument("socket path '" + c.socket_path +
                                   "' must be non-empty and shorter than 108 bytes (sun_path)");
  if (c.state_dir.empty()) return Status::InvalidArgument("state_dir must not be empty");
  if (c.max_request_bytes < 1024 || c.max_request_bytes > (64ull << 20))
    return Status::InvalidArgument("max_request_bytes " + std::to_string(c.max_request_bytes) +
                                   " must be between 1024 and 67108864");
  if (c.max_connections == 0) return Status::InvalidArgument("max_connections must be at least 1");
  PMEMD_RETURN_IF_ERROR(CheckRange("worker_threads", c.worker_threads, 1, 64));
  PMEMD_RETURN_IF_ERROR(CheckRange("request_timeout_ms", c.request_timeout_ms, 10, 3'600'000));
  PMEMD_RETURN_IF_ERROR(CheckRange("idle_timeout_ms", c.idle_timeout_ms, 10, 86'400'000));
  if (c.reserved_admin_connections >= c.max_connections)
    return Status::InvalidArgument("reserved_admin_connections " + std::to_string(c.reserved_admin_connections) +
                                   " must be less than max_connections " + std::to_string(c.max_connections) +
                                   ", or no one but root and admin_group could connect");
  if (c.max_connections_per_uid == 0) return Status::InvalidArgument("max_connections_per_uid must be at least 1");
  if (c.max_buffered_bytes < c.max_request_bytes)
    return Status::InvalidArgument("max_buffered_bytes " + std::to_string(c.max_buffered_bytes) +
                                   " must be at least max_request_bytes " + std::to_string(c.max_request_bytes) +
                                   ", so that one request of the largest size fits");
  PMEMD_RETURN_IF_ERROR(CheckRange("max_reply_bytes", c.max_reply_bytes, 65536, 1ull << 30));
  PMEMD_RETURN_IF_ERROR(CheckRange("event_ring_size", c.event_ring_size, 0, 1u << 20));
  PMEMD_RETURN_IF_ERROR(CheckRange("event_queue_events", c.event_queue_events, 1, 1u << 20));
  PMEMD_RETURN_IF_ERROR(CheckRange("event_queue_bytes", c.event_queue_bytes, 4096, 1ull << 30));
  PMEMD_RETURN_IF_ERROR(CheckRange("health_interval_ms", c.health_interval_ms, 100, 86'400'000));
  PMEMD_RETURN_IF_ERROR(HttpMetrics::CheckAddress(c.metrics_listen));
  return Status::Ok();
}

Result<MemmapBudget> ParseMemmapBudget(const json& value) {
  const std::string shown = value.is_string() ? Quote(value.get<std::string>()) : Excerpt(DumpJson(value));
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("config.memmap_budget " + shown + " " + why +
                                   "; give bytes (1073741824), a size (\"8G\") or a percentage of MemTotal "
                                   "(\"25%\", 1% to 100%)");
  };
  MemmapBudget b;
  if (value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0)) {
    b = {value.get<uint64_t>(), 0};
  } else if (value.is_string() && value.get<std::string>().ends_with('%')) {
    const std::string digits = value.get<std::string>().substr(0, value.get<std::string>().size() - 1);
    if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos)
      return bad("is not a whole percentage");
    b.percent = static_cast<uint32_t>(std::stoul(digits));
    if (b.percent == 0 || b.percent > 100) return bad("is not between 1% and 100% of MemTotal");
    return b;
  } else if (value.is_string()) {
    auto n = ParseSize(value.get<std::string>());
    if (!n.ok()) return bad("is not a size");
    b = {*n, 0};
  } else {
    return bad("is not a size (JSON " + JsonTypeName(value) + ")");
  }
  // Zero would refuse every mem pool; pools that should cost no DRAM are
  // created with memmap dev instead, which says so where it is decided.
  if (b.bytes == 0) return bad("leaves no DRAM for any memmap-mem pool");
  return b;
}

Result<uint64_t> ReadMemTotal(const std::string& meminfo) {
  PMEMD_ASSIGN_OR_RETURN(std::string text, ReadFile(meminfo));
  // "MemTotal:       16318812 kB"
  for (size_t at = 0; at < text.size();) {
    size_t eol = text.find('\n', at);
    if (eol == std::string::npos) eol = text.size();
    const std::string line = text.substr(at, eol - at);
    at = eol + 1;
    unsigned long long kb = 0;
    char unit[3] = {};
    if (std::sscanf(line.c_str(), "MemTotal: %llu %2s", &kb, unit) == 2 && std::string_view(unit) == "kB" &&
        kb <= UINT64_MAX / 1024)
      return static_cast<uint64_t>(kb) * 1024;
  }
  return Status::Corruption(meminfo + " has no \"MemTotal: N kB\" line to take memmap_budget's percentage of; "
                            "give memmap_budget in bytes instead");
}

Result<uint64_t> ResolveMemmapBudget(const MemmapBudget& b, const std::string& meminfo) {
  if (b.percent == 0) return b.bytes;
  PMEMD_ASSIGN_OR_RETURN(uint64_t total, ReadMemTotal(meminfo));
  return total / 100 * b.percent;
}

Result<gid_t> LookupGroup(const std::string& name) {
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
    return static_cast<gid_t>(std::stoul(name));
  struct group gr{}, *res = nullptr;
  std::vector<char> buf(16384);
  int rc = getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &res);
  if (rc != 0) return Status::FromErrno(rc, "look up group '" + name + "'");
  if (res == nullptr) return Status::NotFound("group '" + name + "' does not exist; create it (groupadd " + name + ") or use a numeric gid");
  return gr.gr_gid;
}

}  // namespace pmemd
