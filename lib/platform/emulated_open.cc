#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "platform/emulated_layout.h"
#include "pmemd/emulated_platform.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/health.h"
#include "pmemd/log.h"
#include "pmemd/platform_json.h"

namespace pmemd {

namespace emulated {

Status SaveBadblocks(const std::string& path, const Badblocks& all) {
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [region, v] : all) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& b : v) a.push_back({{"offset", b.offset}, {"length", b.length}});
    doc[region] = std::move(a);
  }
  return WriteFileAtomic(path, doc.dump() + "\n", 0600);
}

Status SaveHealth(const std::string& path, const HealthModel& all) {
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [dimm, h] : all) doc[dimm] = ToJson(h);
  return WriteFileAtomic(path, doc.dump() + "\n", 0600);
}

}  // namespace emulated

using namespace emulated;

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto log = GetLogger("platform");
  return log;
}

// Creates the backing file sparse, or checks an existing one's size. A
// missing file is created only while no namespace lives in the region: a
// file deleted under namespaces took their data with it, and recreating it
// empty would list them over zeros.
Status PrepareRegionFile(const RegionState& rs, const std::vector<std::string>& namespaces) {
  UniqueFd fd(::open(rs.file.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() && errno == ENOENT) {
    if (!namespaces.empty()) {
      std::string list;
      for (const auto& n : namespaces) list += (list.empty() ? "" : ", ") + n;
      return Status::FailedPrecondition("region file " + rs.file + " of " + rs.dev + " is missing, but the label "
                                        "store holds namespaces in it (" + list + "); restore the file, or remove "
                                        "the emulated state (labels.json) to start the region empty");
    }
    fd = UniqueFd(::open(rs.file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  }
  if (!fd.valid()) return Status::FromErrno(errno, "open region file " + rs.file);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat " + rs.file);
  if (!S_ISREG(st.st_mode))
    return Status::FailedPrecondition("region file " + rs.file + " is not a regular file; point " + rs.dev +
                                      " at a file (emulated.regions[].file)");
  uint64_t have = static_cast<uint64_t>(st.st_size);
  if (have == rs.config.size) return Status::Ok();
  if (have != 0)
    return Status::FailedPrecondition(
        "region file " + rs.file + " is " + std::to_string(have) + " bytes but " + rs.dev +
        " is configured as " + std::to_string(rs.config.size) +
        "; set the region's size to match the file, or point it at a new file");
  if (::ftruncate(fd.get(), static_cast<off_t>(rs.config.size)) != 0)
    return Status::FromErrno(errno, "size region file " + rs.file);
  return Status::Ok();
}

// An injected-state file: a JSON object (empty when there is no file yet).
// `what` names it and what removing it does in the message.
Result<nlohmann::json> LoadStateObject(const std::string& path, const std::string& what) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return nlohmann::json::object();
    return text.status();
  }
  Result<nlohmann::json> doc = ParseJson(*text);
  if (!doc.ok() || !doc->is_object())
    return Status::Corruption(what + " file " + path + " is unreadable; remove it to clear injected " + what);
  return doc;
}

Result<std::map<std::string, std::vector<BadRange>>> LoadBadblocks(const std::string& path) {
  std::map<std::string, std::vector<BadRange>> out;
  PMEMD_ASSIGN_OR_RETURN(nlohmann::json doc, LoadStateObject(path, "badblocks"));
  for (const auto& [region, v] : doc.items()) {
    if (!v.is_array()) return Status::Corruption("badblocks file " + path + ": " + region + " is not an array");
    for (const auto& b : v) {
      BadRange r;
      JsonReader rd(b, "badblocks." + region);
      rd.Required("offset", &r.offset);
      rd.Required("length", &r.length);
      if (Status s = rd.Finish(); !s.ok()) return Status::Corruption("badblocks file " + path + ": " + s.message());
      out[region].push_back(r);
    }
  }
  return out;
}

Result<HealthModel> LoadHealth(const std::string& path) {
  HealthModel out;
  PMEMD_ASSIGN_OR_RETURN(nlohmann::json doc, LoadStateObject(path, "health"));
  for (const auto& [dimm, v] : doc.items()) {
    DimmHealth h;
    JsonReader rd(v, "health." + dimm);
    ReadDimmHealthFields(rd, &h, /*with_alarms=*/true);
    Status s = rd.Finish();
    if (s.ok()) s = ValidateDimmHealth(h);
    if (!s.ok()) return Status::Corruption("health file " + path + ": " + s.message());
    out[dimm] = h;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<EmulatedPlatform>> NewEmulatedPlatform(const EmulatedConfig& config,
                                                              const std::string& state_dir, EventBus* events) {
  if (config.regions.empty())
    return Status::InvalidArgument("the emulated platform needs at least one region in emulated.regions");
  if (config.memory_block_size < (2u << 20) || (config.memory_block_size & (config.memory_block_size - 1)) != 0)
    return Status::InvalidArgument("emulated.memory_block_size " + std::to_string(config.memory_block_size) +
                                   " must be a power of two of at least 2097152 (2 MiB)");
  if (config.label_slots == 0) return Status::InvalidArgument("emulated.label_slots must be at least 1");
  std::string dir = state_dir + "/emulated";
  PMEMD_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::vector<RegionState> regions;
  uint64_t phys = kPhysBase;
  for (size_t i = 0; i < config.regions.size(); ++i) {
    RegionState rs;
    rs.config = config.regions[i];
    rs.number = std::to_string(i);
    rs.dev = "region" + rs.number;
    rs.dimm = "nmem" + rs.number;
    rs.file = rs.config.file.empty() ? dir + "/" + rs.dev + ".img" : rs.config.file;
    if (rs.config.size == 0 || rs.config.size % kEmulatedRegionAlign != 0)
      return Status::InvalidArgument("emulated.regions[" + rs.number + "].size " + std::to_string(rs.config.size) +
                                     " must be a non-zero multiple of " + std::to_string(kEmulatedRegionAlign) +
                                     " (16 MiB)");
    rs.phys_start = phys;
    phys += (rs.config.size + (1ull << 30) - 1) & ~((1ull << 30) - 1);
    regions.push_back(std::move(rs));
  }
  PMEMD_ASSIGN_OR_RETURN(LabelStore labels, LabelStore::Load(dir + "/labels.json"));
  std::vector<Label> all = labels.labels();
  for (const auto& rs : regions) {
    std::vector<std::string> namespaces;
    for (const Label& l : all)
      if (l.region == rs.dev && (rs.config.labels || l.mode != "raw")) namespaces.push_back(NamespaceDev(l));
    PMEMD_RETURN_IF_ERROR(PrepareRegionFile(rs, namespaces));
    Log()->info("emulated {}: {} bytes backed by {}{}", rs.dev, rs.config.size, rs.file,
                rs.config.labels ? "" : " (label-less)");
  }
  for (const Label& l : all) {
    auto it = std::find_if(regions.begin(), regions.end(), [&](const RegionState& r) { return r.dev == l.region; });
    if (it == regions.end() || l.offset + l.raw_size > it->config.size)
      return Status::Corruption("label store " + dir + "/labels.json holds namespace " + NamespaceDev(l) + " in " +
                                l.region + " beyond the configured regions; restore the region configuration");
  }
  // A label-less region always shows one raw namespace over all of it, as
  // the kernel does for memmap= and label-less NVDIMMs.
  bool added = false;
  for (const auto& rs : regions) {
    if (rs.config.labels) continue;
    if (std::any_of(all.begin(), all.end(), [&](const Label& l) { return l.region == rs.dev; })) continue;
    Label l;
    l.region = rs.dev;
    l.mode = "raw";
    l.raw_size = rs.config.size;
    l.sector_size = 512;
    all.push_back(l);
    added = true;
  }
  if (added) PMEMD_RETURN_IF_ERROR(labels.Replace(std::move(all)));
  InjectedState injected{.badblocks_path = dir + "/badblocks.json", .health_path = dir + "/health.json"};
  PMEMD_ASSIGN_OR_RETURN(injected.badblocks, LoadBadblocks(injected.badblocks_path));
  PMEMD_ASSIGN_OR_RETURN(injected.health, LoadHealth(injected.health_path));
  return MakeEmulatedPlatform(Layout(config, std::move(regions)), std::move(labels), std::move(injected), events);
}

}  // namespace pmemd
