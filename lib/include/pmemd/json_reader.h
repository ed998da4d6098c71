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
// A JSON-RPC method's params are read against the method's declaration
// (Param, below; rpc.h): the same reads, with the declared defaults and
// allowed values applied, and any read the declaration does not match
// reported as a bug.
//
// Thread safety: a JsonReader is used by one thread; it only reads `obj`.
#pragma once

#include <cstdint>
#include <map>
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

// The JSON types a JsonReader reads: one per supported C++ type (below).
enum class ParamType {
  kString,       // std::string
  kUnsigned,     // uint64_t
  kUnsigned32,   // uint32_t
  kInteger,      // int64_t
  kInt32,        // int
  kBoolean,      // bool
  kNumber,       // double
  kStringArray,  // std::vector<std::string>
  kStringMap,    // std::map<std::string, std::string>: an object of strings
  kObject,       // nlohmann::json holding an object (its keys are the handler's to check)
  kAny,          // nlohmann::json: any value
};

// How messages name what a type accepts: "a string", "an unsigned integer".
const char* ParamTypeName(ParamType type);

// One declared key of an object a JsonReader reads: a JSON-RPC method's
// parameter (rpc.h, Method::params). The declaration is the one source of
// the key's type, whether it is required, its default and its allowed
// values: the reader enforces it and rpc.discover publishes it, so what is
// documented is what is validated.
//
//   Param::String("mode", "fsdax, devdax, sector or raw").OneOf({...}).Default("fsdax")
struct Param {
  std::string name;
  ParamType type = ParamType::kAny;
  std::string description;
  bool required = false;
  nlohmann::json default_value;      // null: none; the reader gives it to an absent key
  // kString, kStringArray (each element): the values allowed; empty: any.
  std::vector<std::string> one_of;
  // kObject: a JSON Schema of the object's contents for rpc.discover to
  // publish (json_schema.h); the reader checks only that it is an object,
  // the handler the rest. null: none.
  nlohmann::json object_schema;

  static Param String(std::string name, std::string description) {
    return {std::move(name), ParamType::kString, std::move(description)};
  }
  static Param Unsigned(std::string name, std::string description) {
    return {std::move(name), ParamType::kUnsigned, std::move(description)};
  }
  static Param Unsigned32(std::string name, std::string description) {
    return {std::move(name), ParamType::kUnsigned32, std::move(description)};
  }
  static Param Boolean(std::string name, std::string description) {
    return {std::move(name), ParamType::kBoolean, std::move(description)};
  }
  static Param StringArray(std::string name, std::string description) {
    return {std::move(name), ParamType::kStringArray, std::move(description)};
  }
  static Param StringMap(std::string name, std::string description) {
    return {std::move(name), ParamType::kStringMap, std::move(description)};
  }
  static Param Integer(std::string name, std::string description) {
    return {std::move(name), ParamType::kInteger, std::move(description)};
  }
  // Read as nlohmann::json; `schema` as in object_schema.
  static Param Object(std::string name, std::string description, nlohmann::json schema = nullptr) {
    Param p{std::move(name), ParamType::kObject, std::move(description)};
    p.object_schema = std::move(schema);
    return p;
  }
  Param Required() const {
    Param p = *this;
    p.required = true;
    return p;
  }
  Param Default(nlohmann::json value) const {
    Param p = *this;
    p.default_value = std::move(value);
    return p;
  }
  Param OneOf(std::vector<std::string> values) const {
    Param p = *this;
    p.one_of = std::move(values);
    return p;
  }
};
using Params = std::vector<Param>;

// A declaration that cannot be enforced is a bug: an empty or repeated
// name, a default of the wrong type or outside one_of, a required key with
// a default, one_of on a type other than kString, an object_schema on a
// type other than kObject. Registry::Add calls it.
Status CheckParams(const Params& params);

class JsonReader {
 public:
  // `what` prefixes every message: "params", "config", "config.emulated".
  // A null `obj` reads as an empty object (JSON-RPC allows omitting params).
  JsonReader(const nlohmann::json& obj, std::string what);
  // Reads "params" against a declaration (borrowed; outlives the reader) of
  // the method `owner`. Then the declaration rules: a required key is
  // required however it is read, an absent key gets its default, a string
  // outside one_of is refused. A read that disagrees with the declaration
  // (an undeclared key, another type, Required on an optional key) and a
  // declared key never read by Finish() are bugs: Finish() returns
  // kInternal naming them, on every call, so no drift survives a test that
  // calls the method.
  JsonReader(const nlohmann::json& obj, const Params* declared, std::string owner);
  // The reader keeps a pointer to `obj`: a temporary would be gone before
  // the first read (AddressSanitizer found a test doing it).
  JsonReader(nlohmann::json&& obj, std::string what) = delete;
  JsonReader(nlohmann::json&& obj, const Params* declared, std::string owner) = delete;

  // Each returns true when the key was present and had the right type.
  // Supported T: std::string, uint64_t, uint32_t, int64_t, int, bool,
  // double, std::vector<std::string>, std::map<std::string, std::string>,
  // nlohmann::json (any value; an object when the key is declared kObject).
  template <typename T>
  bool Optional(const std::string& key, T* out);
  template <typename T>
  bool Required(const std::string& key, T* out);

  // Marks a key as known without reading it (read elsewhere).
  void Allow(const std::string& key);
  // A key that no form of the call takes but that a caller may well send
  // (a field the firmware sets, say): present, it is refused with
  // "<what>.<key> <why>" rather than as unknown. Not a declared key.
  void Refuse(const std::string& key, const std::string& why);

  // The first error, or an error for the first key no Optional/Required
  // asked for; with a declaration, first the bugs described above.
  Status Finish();
  // The first error so far (a bug first), without the unknown-key check.
  Status status() const { return bug_.ok() ? status_ : bug_; }
  const std::string& what() const { return what_; }
  // Whether Finish() was called: the dispatcher refuses a handler that
  // answers without having checked its params.
  bool finished() const { return finished_; }

 private:
  void Fail(std::string message, Code code = Code::kInvalidArgument);
  void WrongType(const std::string& key, const char* expected, const nlohmann::json& got);
  // With a declaration: the key's, after checking that this read agrees
  // with it (a bug otherwise); nullptr without one or on disagreement.
  const Param* Declared(const std::string& key, ParamType type, bool required_read);
  void Bug(std::string message);
  template <typename T>
  bool Read(const std::string& key, T* out, bool required);
  template <typename T>
  bool Convert(const std::string& key, const nlohmann::json& v, T* out);

  const nlohmann::json* obj_;
  nlohmann::json empty_;
  std::string what_;
  const Params* declared_ = nullptr;
  std::string owner_;
  std::set<std::string> known_;
  Status status_;
  Status bug_;
  bool finished_ = false;
};

}  // namespace pmemd
