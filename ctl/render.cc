#include "render.h"

#include <algorithm>
#include <cstdio>

namespace pmemctl {

using nlohmann::json;

const json& Field(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string Table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size() && c < width.size(); ++c) width[c] = std::max(width[c], r[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t c = 0; c < width.size(); ++c) {
      std::string cell = c < cells.size() ? cells[c] : "";
      s += cell;
      if (c + 1 < width.size()) s += std::string(width[c] - cell.size() + 2, ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  std::string out = line(header);
  for (const auto& r : rows) out += line(r);
  return out;
}

namespace {

std::string Str(const json& o, const char* key, const char* dflt = "-") {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return dflt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  return it->dump();
}

std::string Size(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_unsigned()) return "-";
  return HumanSize(it->get<uint64_t>());
}

std::string State(const json& o) { return Str(o, "state", "enabled"); }

// "88.5": millidegrees as degrees for a table.
std::string Celsius(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", it->get<int64_t>() / 1000.0);
  return buf;
}

std::string Percent(const json& o, const char* key) { return o.contains(key) ? Str(o, key) + "%" : "-"; }

// list -DH: one row per DIMM with its whole health (ndctl list -DH's fields).
std::string HealthTable(const json& dimms) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : dimms) {
    const json& h = Field(d, "health");
    std::string alarms;
    for (const auto& [key, name] : {std::pair{"alarm_temperature", "media-temperature"},
                                    {"alarm_controller_temperature", "controller-temperature"},
                                    {"alarm_spares", "spares"}})
      if (Field(h, key) == true) alarms += (alarms.empty() ? "" : ",") + std::string(name);
    const std::string shutdown = h.contains("shutdown_state") ? Str(h, "shutdown_state") + " (" + Str(h, "shutdown_count") + ")" : "-";
    rows.push_back({Str(d, "dev"), h.is_object() ? Str(h, "health_state") : "unsupported",
                    Celsius(h, "temperature_millicelsius") + "/" + Celsius(h, "temperature_threshold_millicelsius"),
                    Celsius(h, "controller_temperature_millicelsius") + "/" +
                        Celsius(h, "controller_temperature_threshold_millicelsius"),
                    Percent(h, "spares_percentage") + "/" + Percent(h, "spares_threshold"),
                    Percent(h, "life_used_percentage"), shutdown, alarms.empty() ? "-" : alarms});
  }
  return Table({"DIMM", "HEALTH", "MEDIA C/ALARM", "CTRL C/ALARM", "SPARES/ALARM", "LIFE USED", "SHUTDOWNS",
                "ALARMS"},
               rows);
}

void Section(std::string* out, const char* title, const std::string& table, size_t n) {
  if (!out->empty()) *out += "\n";
  *out += std::string(title) + " (" + std::to_string(n) + ")\n";
  *out += n ? table : "  none\n";
}

}  // namespace

std::string RenderList(const json& list) {
  std::string out;
  if (auto it = list.find("buses"); it != list.end()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& b : *it) rows.push_back({Str(b, "dev"), Str(b, "provider")});
    Section(&out, "Buses", Table({"BUS", "PROVIDER"}, rows), rows.size());
  }
  const bool full_health = list.contains("dimms") && std::any_of(list["dimms"].begin(), list["dimms"].end(), [](const json& d) {
    return Field(d, "health").size() > 1;
  });
  if (auto it = list.find("dimms"); it != list.end() && full_health) {
    Section(&out, "DIMMs", HealthTable(*it), it->size());
  } else if (it != list.end()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : *it) {
      std::string health = d.contains("health") ? Str(Field(d, "health"), "health_state") : "-";
      rows.push_back({Str(d, "dev"), Str(d, "id"), Str(d, "handle"), health, State(d)});
    }
    Section(&out, "DIMMs", Table({"DIMM", "ID", "HANDLE", "HEALTH", "STATE"}, rows), rows.size());
  }
  if (auto it = list.find("regions"); it != list.end()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : *it)
      rows.push_back({Str(r, "dev"), Size(r, "size"), Size(r, "available_size"),
                      Size(r, "max_available_extent"), Size(r, "align"), Str(r, "persistence_domain"),
                      State(r)});
    Section(&out, "Regions",
            Table({"REGION", "SIZE", "AVAILABLE", "MAX EXTENT", "ALIGN", "PERSISTENCE", "STATE"}, rows),
            rows.size());
  }
  if (auto it = list.find("namespaces"); it != list.end()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& n : *it) {
      std::string device = n.contains("chardev") ? Str(n, "chardev") : Str(n, "blockdev");
      rows.push_back({Str(n, "dev"), Str(n, "region"), Str(n, "mode"), Str(n, "map"), Size(n, "size"),
                      Size(n, "align"), device, Str(n, "name"), State(n)});
    }
    Section(&out, "Namespaces",
            Table({"NAMESPACE", "REGION", "MODE", "MAP", "SIZE", "ALIGN", "DEVICE", "NAME", "STATE"}, rows),
            rows.size());
  }
  if (auto it = list.find("devices"); it != list.end()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : *it) {
      std::string blocks = d.contains("total_memblocks")
                               ? Str(d, "online_memblocks") + "/" + Str(d, "total_memblocks")
                               : "-";
      rows.push_back({Str(d, "chardev"), Size(d, "size"), Str(d, "mode"), Size(d, "align"), blocks,
                      Str(d, "movable"), State(d)});
    }
    Section(&out, "DAX devices",
            Table({"DEVICE", "SIZE", "MODE", "ALIGN", "ONLINE BLOCKS", "MOVABLE", "STATE"}, rows), rows.size());
  }
  if (auto it = list.find("memory_blocks"); it != list.end()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : *it)
      rows.push_back({"memory" + Str(m, "id"), Str(m, "state"), Str(m, "zone"), Str(m, "node"),
                      Str(m, "dax_device")});
    std::string title = "Memory blocks";
    if (list.contains("memory_block_size"))
      title += " of " + HumanSize(Field(list, "memory_block_size").get<uint64_t>());
    Section(&out, title.c_str(), Table({"BLOCK", "STATE", "ZONE", "NODE", "DAX DEVICE"}, rows), rows.size());
  }
  return out;
}

std::string RenderVersion(const json& v) {
  std::string out = "pmemd " + Str(v, "version") + " (API " + Str(v, "api_version") + "), platform " +
                    Str(v, "platform") + "\nsocket " + Str(v, "socket") + ", state " + Str(v, "state_dir") + "\n";
  // Absent from daemons older than the budget (API 1.0 adds fields only).
  if (v.contains("memmap_budget") && v["memmap_budget"].is_number_unsigned() &&
      v.contains("memmap_budget_used") && v["memmap_budget_used"].is_number_unsigned())
    out += "memmap budget " + HumanSize(v["memmap_budget_used"].get<uint64_t>()) + " of " +
           HumanSize(v["memmap_budget"].get<uint64_t>()) + " used by mem pools\n";
  return out;
}

}  // namespace pmemctl
