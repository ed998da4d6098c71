#include "platform/label_store.h"

#include <nlohmann/json.hpp>

#include "pmemd/fs.h"
#include "pmemd/json_reader.h"

namespace pmemd {

using nlohmann::json;

namespace {

constexpr const char* kFormat = "pmemd-emulated-labels";

json LabelToJson(const Label& l) {
  return {{"uuid", l.uuid},       {"name", l.name},       {"region", l.region},
          {"id", l.id},           {"mode", l.mode},       {"map", l.map},
          {"offset", l.offset},   {"raw_size", l.raw_size}, {"align", l.align},
          {"sector_size", l.sector_size}, {"enabled", l.enabled}, {"daxmode", l.daxmode},
          {"movable", l.movable}, {"online_blocks", l.online_blocks}, {"info_uuid", l.info_uuid}};
}

Status LabelFromJson(const json& j, const std::string& what, Label* l) {
  JsonReader r(j, what);
  r.Required("uuid", &l->uuid);
  r.Optional("info_uuid", &l->info_uuid);
  r.Optional("name", &l->name);
  r.Required("region", &l->region);
  r.Required("id", &l->id);
  r.Required("mode", &l->mode);
  r.Optional("map", &l->map);
  r.Required("offset", &l->offset);
  r.Required("raw_size", &l->raw_size);
  r.Optional("align", &l->align);
  r.Optional("sector_size", &l->sector_size);
  r.Optional("enabled", &l->enabled);
  r.Optional("daxmode", &l->daxmode);
  r.Optional("movable", &l->movable);
  json blocks = json::array();
  r.Optional("online_blocks", &blocks);
  PMEMD_RETURN_IF_ERROR(r.Finish());
  if (!blocks.is_array()) return Status::InvalidArgument(what + ".online_blocks: expected an array");
  for (const auto& b : blocks) {
    if (!b.is_number_unsigned()) return Status::InvalidArgument(what + ".online_blocks: expected block ids");
    l->online_blocks.push_back(b.get<uint64_t>());
  }
  return Status::Ok();
}

}  // namespace

Result<LabelStore> LabelStore::Load(const std::string& path) {
  LabelStore store(path);
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return store;
    return text.status();
  }
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("label store " + path + " is unreadable: " + why +
                              "; restore it from a backup or move it away to start with no namespaces");
  };
  Result<json> doc = ParseJson(*text);
  if (!doc.ok()) return corrupt(doc.status().message());
  JsonReader r(*doc, "labels");
  std::string format;
  int version = 0;
  json labels = json::array();
  r.Required("format", &format);
  r.Required("version", &version);
  r.Required("labels", &labels);
  if (Status s = r.Finish(); !s.ok()) return corrupt(s.message());
  if (format != kFormat) return corrupt("format is '" + format + "', expected '" + kFormat + "'");
  if (version > kVersion)
    return Status::Unsupported("label store " + path + " has version " + std::to_string(version) +
                               ", newer than this pmemd understands (" + std::to_string(kVersion) +
                               "); upgrade pmemd");
  if (!labels.is_array()) return corrupt("\"labels\" is not an array");
  for (size_t i = 0; i < labels.size(); ++i) {
    Label l;
    if (Status s = LabelFromJson(labels[i], "labels[" + std::to_string(i) + "]", &l); !s.ok())
      return corrupt(s.message());
    store.labels_.push_back(std::move(l));
  }
  return store;
}

Status LabelStore::Replace(std::vector<Label> labels) {
  json arr = json::array();
  for (const auto& l : labels) arr.push_back(LabelToJson(l));
  json doc = {{"format", kFormat}, {"version", kVersion}, {"labels", std::move(arr)}};
  PMEMD_RETURN_IF_ERROR(WriteFileAtomic(path_, doc.dump(2) + "\n", 0600));
  labels_ = std::move(labels);
  return Status::Ok();
}

}  // namespace pmemd
