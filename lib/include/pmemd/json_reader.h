// JsonReader: reads the fields of a JSON object into typed variables without
// throwing, and reports the first problem as a Status that names the key,
// the type expected and the value found. Used for JSON-RPC params and for
// the daemon's configuration file, so both reject unknown keys and wrong
// types with the same words.
//
//   JsonReader r(params, "params");
//   std::string region;           r.Required("region", &region);
//   uint64_t size = 0;            r.Optional("size", &size);
//   PMEMD_RETURN_IF_ERROR(r.Finish());   // also rejects unknown keys
//
// Thread safety: a JsonReader is used by one thread; it only reads `obj`.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/status.h"

namespace pmemd {

// "string", "array", "unsigned integer", ...: how the reader names JSON types.
std::string JsonTypeName(const nlohmann::json& v);

// Parses JSON without throwing; the Status names the byte offset and what
// was expected. Nesting deeper than `max_depth` is refused (a request line
// of a million '[' must not take the daemon's stack).
Result<nlohmann::json> ParseJson(std::string_view text, int max_depth = 64);

class JsonReader {
 public:
  // `what` prefixes every message: "params", "config", "config.emulated".
  // A null `obj` reads as an empty object (JSON-RPC allows omitting params).
  JsonReader(const nlohmann::json& obj, std::string what);

  // Each returns true when the key was present and had the right type.
  // Supported T: std::string, uint64_t, uint32_t, int64_t, int, bool,
  // double, std::vector<std::string>, nlohmann::json (any value).
  template <typename T>
  bool Optional(const std::string& key, T* out);
  template <typename T>
  bool Required(const std::string& key, T* out) {
    if (Optional(key, out)) return true;
    if (status_.ok() && !obj_->contains(key)) Fail(what_ + ": missing required key '" + key + "'");
    return false;
  }

  // Marks a key as known without reading it (read elsewhere).
  void Allow(const std::string& key) { known_.insert(key); }

  // The first error, or an error for the first key no Optional/Required asked for.
  Status Finish();
  const Status& status() const { return status_; }
  const std::string& what() const { return what_; }

 private:
  void Fail(std::string message, Code code = Code::kInvalidArgument);
  void WrongType(const std::string& key, const char* expected, const nlohmann::json& got);

  const nlohmann::json* obj_;
  nlohmann::json empty_;
  std::string what_;
  std::set<std::string> known_;
  Status status_;
};

}  // namespace pmemd
