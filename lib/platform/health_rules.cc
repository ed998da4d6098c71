// The health rules (pmemd/health.h): alarms, validation, and what changed
// between two readings.
#include <algorithm>
#include <cstdio>

#include "pmemd/health.h"
#include "pmemd/platform_json.h"

namespace pmemd {

namespace {

constexpr int64_t kMaxTemperatureMc = 2'047'938;  // 0x7fff sixteenths of a degree, rounded

// "86.5 C": millidegrees for a log line, exactly.
std::string Celsius(int64_t mc) {
  const uint64_t abs = mc < 0 ? static_cast<uint64_t>(-mc) : static_cast<uint64_t>(mc);
  std::string s = (mc < 0 ? "-" : "") + std::to_string(abs / 1000);
  if (uint64_t frac = abs % 1000) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%03u", static_cast<unsigned>(frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return s + " C";
}

int Rank(const std::string& state) {
  auto it = std::find(kDimmHealthStates.begin(), kDimmHealthStates.end(), state);
  return it == kDimmHealthStates.end() ? -1 : static_cast<int>(it - kDimmHealthStates.begin());
}

// One alarm: its name, what it watches, and how its value reaches the
// threshold.
struct AlarmRule {
  const char* name;
  const char* what;
  std::optional<bool> DimmHealth::*tripped;
  std::optional<bool> DimmHealth::*enabled;
  bool (*reached)(const DimmHealth&);
  std::string (*describe)(const DimmHealth&);
};

template <typename V, typename T>
bool AtOrAbove(const std::optional<V>& v, const std::optional<T>& t) {
  return v && t && *v >= static_cast<V>(*t);
}

const AlarmRule kAlarms[] = {
    {"controller_temperature", "controller temperature", &DimmHealth::alarm_controller_temperature,
     &DimmHealth::alarm_enabled_ctrl_temperature,
     [](const DimmHealth& h) { return AtOrAbove(h.controller_temperature_mc, h.controller_temperature_threshold_mc); },
     [](const DimmHealth& h) {
       return (h.controller_temperature_mc ? Celsius(*h.controller_temperature_mc) : std::string("?")) +
              " (threshold " +
              (h.controller_temperature_threshold_mc ? Celsius(*h.controller_temperature_threshold_mc) : "?") + ")";
     }},
    {"media_temperature", "media temperature", &DimmHealth::alarm_temperature,
     &DimmHealth::alarm_enabled_media_temperature,
     [](const DimmHealth& h) { return AtOrAbove(h.temperature_mc, h.temperature_threshold_mc); },
     [](const DimmHealth& h) {
       return (h.temperature_mc ? Celsius(*h.temperature_mc) : std::string("?")) + " (threshold " +
              (h.temperature_threshold_mc ? Celsius(*h.temperature_threshold_mc) : "?") + ")";
     }},
    {"spares", "spare capacity", &DimmHealth::alarm_spares, &DimmHealth::alarm_enabled_spares,
     [](const DimmHealth& h) { return h.spares_percentage && h.spares_threshold && *h.spares_percentage <= *h.spares_threshold; },
     [](const DimmHealth& h) {
       return (h.spares_percentage ? std::to_string(*h.spares_percentage) : "?") + "% left (threshold " +
              (h.spares_threshold ? std::to_string(*h.spares_threshold) : "?") + "%)";
     }},
};

bool Tripped(const AlarmRule& a, const DimmHealth& h) {
  return (h.*a.tripped).value_or(false) || ((h.*a.enabled).value_or(false) && a.reached(h));
}

std::string StateOf(const std::optional<DimmHealth>& h) { return h ? h->health_state : "unsupported"; }

}  // namespace

int64_t SmartTemperatureToMillicelsius(unsigned int raw) {
  const int64_t sixteenths = raw & 0x7fff;
  const int64_t mc = (sixteenths * 125 + 1) / 2;  // * 1000 / 16, half away from zero
  return (raw & 0x8000) ? -mc : mc;
}

std::vector<std::string> TrippedAlarms(const DimmHealth& h) {
  std::vector<std::string> v;
  for (const AlarmRule& a : kAlarms)
    if (Tripped(a, h)) v.push_back(a.name);
  return v;
}

void SetFirmwareAlarms(DimmHealth* h) {
  for (const AlarmRule& a : kAlarms) h->*a.tripped = (h->*a.enabled).value_or(false) && a.reached(*h);
}

Status ValidateDimmHealth(const DimmHealth& h) {
  if (Rank(h.health_state) < 0)
    return Status::InvalidArgument("health_state '" + h.health_state + "' is unknown; use ok, non-critical, critical or fatal");
  if (h.shutdown_state && *h.shutdown_state != "clean" && *h.shutdown_state != "dirty")
    return Status::InvalidArgument("shutdown_state '" + *h.shutdown_state + "' is unknown; use clean or dirty");
  const std::pair<const char*, std::optional<uint32_t>> percents[] = {
      {"spares_percentage", h.spares_percentage},
      {"spares_threshold", h.spares_threshold},
      {"life_used_percentage", h.life_used_percentage}};
  for (const auto& [name, v] : percents)
    if (v && *v > 100)
      return Status::InvalidArgument(std::string(name) + " " + std::to_string(*v) + " is not a percentage; give 0 to 100");
  const std::pair<const char*, std::optional<int64_t>> temps[] = {
      {"temperature_millicelsius", h.temperature_mc},
      {"controller_temperature_millicelsius", h.controller_temperature_mc},
      {"temperature_threshold_millicelsius", h.temperature_threshold_mc},
      {"controller_temperature_threshold_millicelsius", h.controller_temperature_threshold_mc}};
  for (const auto& [name, v] : temps)
    if (v && (*v > kMaxTemperatureMc || *v < -kMaxTemperatureMc))
      return Status::InvalidArgument(std::string(name) + " " + std::to_string(*v) +
                                     " is beyond what a DIMM reports; give -2047938 to 2047938 (millidegrees Celsius)");
  return Status::Ok();
}

HealthChange DiffDimmHealth(const std::string& dimm, const std::optional<DimmHealth>* before,
                            const std::optional<DimmHealth>& after) {
  HealthChange c;
  const std::optional<DimmHealth> none;
  const std::optional<DimmHealth>& b = before ? *before : none;
  const std::string from = StateOf(b), to = StateOf(after);
  std::vector<std::string> changed;

  // The health state.
  if (from != to || !before) {
    const int rf = before ? Rank(from) : -1, rt = Rank(to);
    const std::string was = before ? " (was " + from + ")" : "";
    if (to == "unknown")
      c.warnings.push_back(dimm + ": its SMART health command failed; health unknown" + was);
    else if (rt > 0 && (rf < 0 || rt > rf))
      c.warnings.push_back(dimm + ": health " + to + was);
    else if (before && rt >= 0)
      c.notices.push_back(dimm + ": health " + to + was);
    if (before) changed.push_back("health_state");
  }

  // The alarms.
  const DimmHealth empty;
  const DimmHealth& hb = b ? *b : empty;
  const DimmHealth& ha = after ? *after : empty;
  bool alarms_changed = false;
  for (const AlarmRule& a : kAlarms) {
    const bool was = before && b && Tripped(a, hb), is = after && Tripped(a, ha);
    if (is && !was) c.warnings.push_back(dimm + ": " + a.what + " alarm: " + a.describe(ha));
    if (was && !is) c.notices.push_back(dimm + ": " + a.what + " back within its threshold: " + a.describe(ha));
    alarms_changed = alarms_changed || was != is;
  }
  if (alarms_changed && before) changed.push_back("alarms");

  // Shutdowns.
  if (ha.shutdown_count && hb.shutdown_count && *ha.shutdown_count > *hb.shutdown_count)
    c.warnings.push_back(dimm + ": unsafe shutdown count rose from " + std::to_string(*hb.shutdown_count) + " to " +
                         std::to_string(*ha.shutdown_count) + ": writes in flight at a power loss may be lost");
  else if (!before && ha.shutdown_state == "dirty")
    c.warnings.push_back(dimm + ": its last shutdown was dirty (unsafe shutdown count " +
                         (ha.shutdown_count ? std::to_string(*ha.shutdown_count) : std::string("?")) + ")");
  if (before && hb.shutdown_count != ha.shutdown_count) changed.push_back("shutdown_count");
  if (before && hb.shutdown_state != ha.shutdown_state) changed.push_back("shutdown_state");

  if (!before || changed.empty()) return c;
  nlohmann::json detail = {{"changed", changed}, {"source", "external"}};
  if (after) {
    detail["health"] = ToJson(*after);
    detail["alarms"] = TrippedAlarms(*after);
  }
  c.event = Event{.kind = "dimm", .object = dimm, .from = from, .to = to, .detail = std::move(detail)};
  return c;
}

BadblockMap BadblocksOf(const Inventory& inv) {
  BadblockMap m;
  for (const Region& r : inv.regions) m[r.dev] = {r.dev, r.badblock_count, r.badblocks};
  for (const Namespace& n : inv.namespaces) m[n.dev] = {n.region, n.badblock_count, n.badblocks};
  return m;
}

HealthChange DiffBadblocks(const std::string& object, const BadblockState* before, const BadblockState& after,
                           bool first_reading) {
  HealthChange c;
  const std::string where = object == after.region ? object : object + " (" + after.region + ")";
  if (!before) {
    if (first_reading && after.count)
      c.warnings.push_back(where + " has " + std::to_string(after.count) + " bad blocks (512-byte sectors)");
    return c;
  }
  if (*before == after) return c;
  if (after.count > before->count)
    c.warnings.push_back(where + ": bad blocks " + std::to_string(before->count) + " -> " +
                         std::to_string(after.count) + " (512-byte sectors)");
  else
    c.notices.push_back(where + ": bad blocks " + std::to_string(before->count) + " -> " +
                        std::to_string(after.count) + " (512-byte sectors)");
  nlohmann::json ranges = nlohmann::json::array();
  for (const BadRange& r : after.ranges) ranges.push_back({{"offset", r.offset}, {"length", r.length}});
  c.event = Event{.kind = "badblocks",
                  .object = object,
                  .from = std::to_string(before->count),
                  .to = std::to_string(after.count),
                  .detail = {{"region", after.region},
                             {"badblock_count", after.count},
                             {"badblocks", std::move(ranges)},
                             {"source", "external"}}};
  return c;
}

}  // namespace pmemd
