// subscribe and metrics: the operations surface (issue 13, docs/events.md).
#include <algorithm>
#include <map>

#include "pmemd/api.h"
#include "pmemd/event_stream.h"
#include "pmemd/health.h"
#include "pmemd/json_reader.h"
#include "pmemd/json_schema.h"
#include "pmemd/metrics.h"
#include "pmemd/pool_manager.h"
#include "pmemd/text.h"

namespace pmemd {

using nlohmann::json;

namespace {

Params SubscribeParams() {
  return {Param::StringArray("kinds", "Only events of these kinds").OneOf(KnownEventKinds()),
          Param::StringArray("objects", "Only events about these objects, by exact name (namespace0.0, pool:p0)"),
          Param::Unsigned("since", "Resume: first replay the events after this sequence number still in the ring")};
}

Result<json> Subscribe(EventStream* stream, JsonReader& r, const CallContext& ctx) {
  std::vector<std::string> kinds, objects;
  uint64_t since = 0;
  r.Optional("kinds", &kinds);
  r.Optional("objects", &objects);
  const bool has_since = r.Optional("since", &since);
  PMEMD_RETURN_IF_ERROR(r.Finish());
  if (!ctx.start_stream)
    return Status::FailedPrecondition(
        "subscribe needs a connection that can stream notifications (pmemd's socket); this caller has none");
  EventFilter filter{.kinds = {kinds.begin(), kinds.end()}, .objects = {objects.begin(), objects.end()}};
  PMEMD_ASSIGN_OR_RETURN(EventStream::Subscribed sub,
                         stream->Subscribe(std::move(filter), has_since ? std::optional(since) : std::nullopt));
  PMEMD_RETURN_IF_ERROR(ctx.start_stream(sub.subscriber));
  return json{{"subscribed", true}, {"seq", sub.seq}};
}


// The pmemd_dimm_* families, from the monitor's last reading: a DIMM
// without SMART has only pmemd_dimm_health_supported (0), and a field the
// DIMM does not report has no sample.
void RenderHealth(const HealthReading& r, PromText* t) {
  t->Family("pmemd_dimm_health_supported", "gauge", "1 when the DIMM reports SMART health, 0 when it has no SMART");
  for (const auto& [dimm, h] : r.dimms) t->Sample("pmemd_dimm_health_supported", {{"dimm", dimm}}, uint64_t(h.has_value()));
  t->Family("pmemd_dimm_health_state", "gauge",
            "1 for the DIMM's health state (ok, non-critical, critical, fatal, unknown), 0 for the others");
  for (const auto& [dimm, h] : r.dimms) {
    if (!h) continue;
    std::vector<std::string> states = kDimmHealthStates;
    states.push_back("unknown");
    for (const auto& s : states)
      t->Sample("pmemd_dimm_health_state", {{"dimm", dimm}, {"state", s}}, uint64_t(h->health_state == s));
  }
  struct Temperature {
    const char* name;
    const char* help;
    std::optional<int64_t> DimmHealth::*field;
  };
  static const Temperature kTemperatures[] = {
      {"pmemd_dimm_temperature_celsius", "Media temperature", &DimmHealth::temperature_mc},
      {"pmemd_dimm_controller_temperature_celsius", "Controller temperature", &DimmHealth::controller_temperature_mc},
      {"pmemd_dimm_temperature_threshold_celsius", "Media temperature alarm threshold, when the alarm is enabled",
       &DimmHealth::temperature_threshold_mc},
      {"pmemd_dimm_controller_temperature_threshold_celsius",
       "Controller temperature alarm threshold, when the alarm is enabled",
       &DimmHealth::controller_temperature_threshold_mc},
  };
  for (const Temperature& f : kTemperatures) {
    t->Family(f.name, "gauge", f.help);
    for (const auto& [dimm, h] : r.dimms)
      if (h && (*h).*f.field) t->Sample(f.name, {{"dimm", dimm}}, static_cast<double>(*((*h).*f.field)) / 1000.0);
  }
  struct Count {
    const char* name;
    const char* help;
    uint64_t (*get)(const DimmHealth&);
    bool (*has)(const DimmHealth&);
  };
  static const Count kCounts[] = {
      {"pmemd_dimm_spares_percentage", "Spare capacity left, percent",
       [](const DimmHealth& h) { return uint64_t(*h.spares_percentage); },
       [](const DimmHealth& h) { return h.spares_percentage.has_value(); }},
      {"pmemd_dimm_spares_threshold_percentage", "Spare capacity alarm threshold, percent, when the alarm is enabled",
       [](const DimmHealth& h) { return uint64_t(*h.spares_threshold); },
       [](const DimmHealth& h) { return h.spares_threshold.has_value(); }},
      {"pmemd_dimm_life_used_percentage", "Life used, percent",
       [](const DimmHealth& h) { return uint64_t(*h.life_used_percentage); },
       [](const DimmHealth& h) { return h.life_used_percentage.has_value(); }},
      {"pmemd_dimm_shutdown_count", "Unsafe (dirty) shutdowns the DIMM counted",
       [](const DimmHealth& h) { return *h.shutdown_count; },
       [](const DimmHealth& h) { return h.shutdown_count.has_value(); }},
  };
  for (const Count& f : kCounts) {
    t->Family(f.name, "gauge", f.help);
    for (const auto& [dimm, h] : r.dimms)
      if (h && f.has(*h)) t->Sample(f.name, {{"dimm", dimm}}, f.get(*h));
  }
  t->Family("pmemd_dimm_alarm", "gauge",
            "1 when the alarm is tripped (media_temperature, controller_temperature, spares; docs/health.md)");
  for (const auto& [dimm, h] : r.dimms) {
    if (!h) continue;
    const std::vector<std::string> tripped = TrippedAlarms(*h);
    for (const char* a : {"controller_temperature", "media_temperature", "spares"})
      t->Sample("pmemd_dimm_alarm", {{"dimm", dimm}, {"alarm", a}},
                uint64_t(std::find(tripped.begin(), tripped.end(), a) != tripped.end()));
  }
  t->Family("pmemd_health_polls_total", "counter", "Health readings taken (start-up, interval, notifications)");
  t->Sample("pmemd_health_polls_total", {}, r.polls);
  t->Family("pmemd_health_poll_failures_total", "counter", "Health readings that failed (the last values were kept)");
  t->Sample("pmemd_health_poll_failures_total", {}, r.failures);
}

Result<json> Metrics(const OpsContext& c, JsonReader& params) {
  PMEMD_RETURN_IF_ERROR(params.Finish());
  PromText t;
  t.Family("pmemd_build_info", "gauge", "Always 1; the labels say which pmemd this is");
  t.Sample("pmemd_build_info", {{"version", PMEMD_VERSION}, {"api_version", PMEMD_API_VERSION},
                                {"platform", c.platform_kind}}, uint64_t{1});

  if (c.owner != nullptr) {
    PMEMD_ASSIGN_OR_RETURN(Inventory inv, c.owner->List());
    t.Family("pmemd_region_size_bytes", "gauge", "Size of each pmem region");
    for (const auto& r : inv.regions) t.Sample("pmemd_region_size_bytes", {{"region", r.dev}}, r.size);
    t.Family("pmemd_region_available_bytes", "gauge", "Bytes of each region not taken by a namespace");
    for (const auto& r : inv.regions) t.Sample("pmemd_region_available_bytes", {{"region", r.dev}}, r.available_size);
    t.Family("pmemd_region_max_available_extent_bytes", "gauge",
             "The largest namespace that can be created in each region now");
    for (const auto& r : inv.regions)
      t.Sample("pmemd_region_max_available_extent_bytes", {{"region", r.dev}}, r.max_available_extent);

    t.Family("pmemd_namespace_size_bytes", "gauge", "Usable size of each namespace, by mode");
    for (const auto& n : inv.namespaces)
      t.Sample("pmemd_namespace_size_bytes", {{"namespace", n.dev}, {"region", n.region}, {"mode", n.mode}}, n.size);
    std::map<std::string, uint64_t> by_mode;
    for (const char* m : {"fsdax", "devdax", "sector", "raw"}) by_mode[m] = 0;
    for (const auto& n : inv.namespaces) by_mode[n.mode] += n.size;
    t.Family("pmemd_namespaces_size_bytes", "gauge", "Usable size of all namespaces together, by mode");
    for (const auto& [mode, bytes] : by_mode) t.Sample("pmemd_namespaces_size_bytes", {{"mode", mode}}, bytes);

    t.Family("pmemd_dax_device_size_bytes", "gauge", "Size of each dax device, by mode (devdax or system-ram)");
    for (const auto& d : inv.dax_devices)
      t.Sample("pmemd_dax_device_size_bytes", {{"device", d.chardev}, {"mode", d.mode}}, d.size);
    t.Family("pmemd_dax_memory_blocks", "gauge",
             "Memory blocks of each dax device in system-ram (kmem) mode, by state (online or total)");
    for (const auto& d : inv.dax_devices) {
      if (d.mode != "system-ram") continue;
      t.Sample("pmemd_dax_memory_blocks", {{"device", d.chardev}, {"state", "online"}}, d.online_memblocks.value_or(0));
      t.Sample("pmemd_dax_memory_blocks", {{"device", d.chardev}, {"state", "total"}}, d.total_memblocks.value_or(0));
    }
    t.Family("pmemd_memory_block_size_bytes", "gauge", "The machine's memory block size");
    t.Sample("pmemd_memory_block_size_bytes", {}, inv.memory_block_size);
    t.Family("pmemd_region_badblocks_bytes", "gauge", "Bad media in each region (its bad 512-byte sectors)");
    for (const auto& r : inv.regions) t.Sample("pmemd_region_badblocks_bytes", {{"region", r.dev}}, r.badblock_count * 512);
    t.Family("pmemd_namespace_badblocks_bytes", "gauge", "Bad media in each namespace (its bad 512-byte sectors)");
    for (const auto& n : inv.namespaces)
      t.Sample("pmemd_namespace_badblocks_bytes", {{"namespace", n.dev}, {"region", n.region}}, n.badblock_count * 512);
  }
  if (c.health != nullptr) RenderHealth(c.health->Latest(), &t);

  if (c.pools != nullptr) {
    struct Row {
      const char* name;
      const char* help;
      uint64_t PoolCapacity::*field;
    };
    static const Row kRows[] = {
        {"pmemd_pool_total_bytes", "Bytes in each pool's whole blocks", &PoolCapacity::total_size},
        {"pmemd_pool_online_bytes", "Bytes in each pool's online blocks", &PoolCapacity::online_size},
        {"pmemd_pool_leased_bytes", "Bytes of each pool held by leases", &PoolCapacity::leased_size},
        {"pmemd_pool_available_bytes", "Bytes of each pool free for leases", &PoolCapacity::available_size},
        {"pmemd_pool_poisoned_bytes", "Bad bytes in each pool's online blocks (never leased)",
         &PoolCapacity::poisoned_size},
    };
    std::vector<PoolStatus> pools;
    for (const auto& p : c.pools->Pools()) pools.push_back(p->Describe());
    for (const Row& row : kRows) {
      t.Family(row.name, "gauge", row.help);
      for (const auto& p : pools) t.Sample(row.name, {{"pool", p.name}}, p.capacity.*(row.field));
    }
    t.Family("pmemd_pool_max_available_extent_bytes", "gauge",
             "The largest lease of each alignment that fits in each pool now");
    for (const auto& p : pools)
      for (const auto& a : p.capacity.alignments)
        t.Sample("pmemd_pool_max_available_extent_bytes", {{"pool", p.name}, {"align", std::to_string(a.align)}},
                 a.max_available_extent);
    t.Family("pmemd_pool_blocks", "gauge", "Blocks of each pool, by state (online or total)");
    for (const auto& p : pools) {
      t.Sample("pmemd_pool_blocks", {{"pool", p.name}, {"state", "online"}}, p.blocks_online);
      t.Sample("pmemd_pool_blocks", {{"pool", p.name}, {"state", "total"}}, p.blocks_total);
    }
    t.Family("pmemd_pool_leases", "gauge", "Leases in each pool");
    for (const auto& p : pools) t.Sample("pmemd_pool_leases", {{"pool", p.name}}, p.leases);
    // Init time by strategy: how long each pool's last attach took to have
    // its metadata array ready, labelled with how it was made.
    t.Family("pmemd_pool_attach_seconds", "gauge",
             "Time the pool's last attach (or create) took until its metadata array was ready, by init strategy and "
             "whether the array was built or reused");
    for (const auto& p : pools)
      t.Sample("pmemd_pool_attach_seconds",
               {{"pool", p.name}, {"init_strategy", p.init_strategy}, {"memmap_init", p.memmap_init}},
               static_cast<double>(p.attach_ns) / 1e9);
    t.Family("pmemd_pool_max_leases", "gauge", "Lease table slots of each pool");
    for (const auto& p : pools) t.Sample("pmemd_pool_max_leases", {{"pool", p.name}}, p.max_leases);
    t.Family("pmemd_pools_unavailable", "gauge", "Pools recorded but not attached (their device is missing or bad)");
    t.Sample("pmemd_pools_unavailable", {}, uint64_t(c.pools->Unavailable().size()));
    t.Family("pmemd_memmap_budget_bytes", "gauge", "DRAM that memmap-mem pools' metadata arrays may take");
    t.Sample("pmemd_memmap_budget_bytes", {}, c.pools->memmap_budget());
    t.Family("pmemd_memmap_budget_used_bytes", "gauge", "DRAM that memmap-mem pools' metadata arrays take");
    t.Sample("pmemd_memmap_budget_used_bytes", {}, c.pools->memmap_budget_used());
  }

  if (c.requests != nullptr) c.requests->Render(&t);

  if (c.events != nullptr) {
    t.Family("pmemd_events_published_total", "counter", "State-change events published since pmemd started");
    t.Sample("pmemd_events_published_total", {}, c.events->published_total());
    t.Family("pmemd_events_dropped_total", "counter",
             "Events not delivered to a subscriber whose queue was full (each subscriber counts)");
    t.Sample("pmemd_events_dropped_total", {}, c.events->dropped_total());
    t.Family("pmemd_event_subscribers", "gauge", "Connections streaming events");
    t.Sample("pmemd_event_subscribers", {}, uint64_t(c.events->subscribers()));
    t.Family("pmemd_event_last_seq", "gauge", "Sequence number of the last event published");
    t.Sample("pmemd_event_last_seq", {}, c.events->last_seq());
  }
  return json{{"content_type", kPrometheusContentType}, {"text", t.text()}};
}

}  // namespace

Status RegisterOpsMethods(Registry* registry, const OpsContext& context) {
  using namespace schema;
  if (context.events != nullptr)
    PMEMD_RETURN_IF_ERROR(registry->Add(
        {.name = "subscribe",
         .summary = "Turn this connection into a stream of event notifications (kinds, objects filters; since to resume)",
         .access = Access::kRead,
         .params = SubscribeParams(),
         .result = Object({{"subscribed", Boolean()}, {"seq", Unsigned()}}),
         .handler = [stream = context.events](JsonReader& params, const CallContext& ctx) {
           return Subscribe(stream, params, ctx);
         }}));
  return registry->Add({.name = "metrics",
                        .summary = "Prometheus text exposition (format 0.0.4) of pmemd's gauges and counters",
                        .access = Access::kRead,
                        .params = {},
                        .result = Object({{"content_type", String()}, {"text", String()}}),
                        .handler = [context](JsonReader& params, const CallContext&) { return Metrics(context, params); }});
}

}  // namespace pmemd
