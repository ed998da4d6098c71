#include "pmemd/json_reader.h"

#include <algorithm>
#include <climits>
#include <limits>

#include "pmemd/text.h"

namespace pmemd {

using nlohmann::json;

namespace {

// Forwards SAX events to nlohmann's DOM builder, bounding depth and keeping
// the parse error's text instead of throwing it.
class BoundedSax {
 public:
  BoundedSax(json& out, int max_depth) : dom_(out, false), max_depth_(max_depth) {}
  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const std::string& s) { return dom_.number_float(v, s); }
  bool string(std::string& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return Enter() && dom_.start_object(n); }
  bool key(std::string& k) { return dom_.key(k); }
  bool end_object() { --depth_; return dom_.end_object(); }
  bool start_array(std::size_t n) { return Enter() && dom_.start_array(n); }
  bool end_array() { --depth_; return dom_.end_array(); }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& ex) {
    // nlohmann quotes the token it was reading, which may be invalid UTF-8
    // or a megabyte long.
    error_ = "invalid JSON at byte " + std::to_string(pos) + ": " + Excerpt(ex.what(), 200);
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  bool Enter() {
    if (++depth_ > max_depth_) {
      error_ = "JSON nested deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    return true;
  }
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int max_depth_;
  int depth_ = 0;
  std::string error_;
};

}  // namespace

Result<json> ParseJson(std::string_view text, int max_depth) {
  json out;
  BoundedSax sax(out, max_depth);
  bool ok = json::sax_parse(text.begin(), text.end(), &sax, json::input_format_t::json, true);
  if (!ok) {
    std::string err = sax.error().empty() ? "invalid JSON" : sax.error();
    return Status::InvalidArgument(err);
  }
  return out;
}

std::string JsonTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer: return "integer";
    case json::value_t::number_unsigned: return "unsigned integer";
    case json::value_t::number_float: return "number";
    default: return "value";
  }
}

const char* ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kString: return "a string";
    case ParamType::kUnsigned: return "an unsigned integer";
    case ParamType::kUnsigned32: return "an unsigned 32-bit integer";
    case ParamType::kInteger: return "an integer";
    case ParamType::kInt32: return "a 32-bit integer";
    case ParamType::kBoolean: return "a boolean (true or false)";
    case ParamType::kNumber: return "a number";
    case ParamType::kStringArray: return "an array of strings";
    case ParamType::kStringMap: return "an object of strings";
    case ParamType::kObject: return "an object";
    case ParamType::kAny: return "any value";
  }
  return "a value";
}

namespace {

template <typename T>
constexpr ParamType kTypeOf = ParamType::kAny;
template <> constexpr ParamType kTypeOf<std::string> = ParamType::kString;
template <> constexpr ParamType kTypeOf<uint64_t> = ParamType::kUnsigned;
template <> constexpr ParamType kTypeOf<uint32_t> = ParamType::kUnsigned32;
template <> constexpr ParamType kTypeOf<int64_t> = ParamType::kInteger;
template <> constexpr ParamType kTypeOf<int> = ParamType::kInt32;
template <> constexpr ParamType kTypeOf<bool> = ParamType::kBoolean;
template <> constexpr ParamType kTypeOf<double> = ParamType::kNumber;
template <> constexpr ParamType kTypeOf<std::vector<std::string>> = ParamType::kStringArray;
template <> constexpr ParamType kTypeOf<std::map<std::string, std::string>> = ParamType::kStringMap;

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

JsonReader::JsonReader(const json& obj, std::string what)
    : obj_(&obj), empty_(json::object()), what_(std::move(what)) {
  if (obj.is_null()) {
    obj_ = &empty_;
  } else if (!obj.is_object()) {
    obj_ = &empty_;
    Fail(what_ + ": expected an object, got " + JsonTypeName(obj));
  }
}

JsonReader::JsonReader(const json& obj, const Params* declared, std::string owner)
    : JsonReader(obj, "params") {
  declared_ = declared;
  owner_ = std::move(owner);
}

void JsonReader::Fail(std::string message, Code code) {
  if (status_.ok()) status_ = Status(code, std::move(message));
}

void JsonReader::Bug(std::string message) {
  if (bug_.ok())
    bug_ = Status::Internal("method '" + owner_ + "' " + message +
                            "; its params declaration (Method::params) and its handler's reads must agree");
}

void JsonReader::WrongType(const std::string& key, const char* expected, const json& got) {
  std::string shown = Excerpt(DumpJson(got), 40);
  Fail(what_ + "." + key + ": expected " + expected + ", got " + JsonTypeName(got) + " " + shown);
}

const Param* JsonReader::Declared(const std::string& key, ParamType type, bool required_read) {
  if (declared_ == nullptr) return nullptr;
  auto it = std::find_if(declared_->begin(), declared_->end(), [&](const Param& p) { return p.name == key; });
  if (it == declared_->end()) return Bug("reads " + what_ + "." + key + ", which it does not declare"), nullptr;
  // A json read takes any value; declared kObject, an object (Read).
  if (it->type != type && !(type == ParamType::kAny && it->type == ParamType::kObject))
    return Bug("reads " + what_ + "." + key + " as " + ParamTypeName(type) + " but declares it " +
               ParamTypeName(it->type)),
           nullptr;
  if (required_read && !it->required)
    return Bug("reads " + what_ + "." + key + " as required but declares it optional"), nullptr;
  return &*it;
}

namespace {

// Unsigned integers in [0, max]; JSON numbers that are negative or have a
// fraction are type errors, not silently converted.
bool AsUnsigned(const json& v, uint64_t max, uint64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > max) return false;
    *out = u;
    return true;
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i < 0 || static_cast<uint64_t>(i) > max) return false;
    *out = static_cast<uint64_t>(i);
    return true;
  }
  return false;
}

}  // namespace

template <>
bool JsonReader::Convert(const std::string& key, const json& v, std::string* out) {
  if (!v.is_string()) return WrongType(key, ParamTypeName(ParamType::kString), v), false;
  *out = v.get<std::string>();
  return true;
}

template <>
bool JsonReader::Convert(const std::string& key, const json& v, uint64_t* out) {
  if (!AsUnsigned(v, std::numeric_limits<uint64_t>::max(), out))
    return WrongType(key, ParamTypeName(ParamType::kUnsigned), v), false;
  return true;
}

template <>
bool JsonReader::Convert(const std::string& key, const json& v, uint32_t* out) {
  uint64_t u = 0;
  if (!AsUnsigned(v, std::numeric_limits<uint32_t>::max(), &u))
    return WrongType(key, ParamTypeName(ParamType::kUnsigned32), v), false;
  *out = static_cast<uint32_t>(u);
  return true;
}

template <>
bool JsonReader::Convert(const std::string& key, const json& v, int64_t* out) {
  if (v.is_number_unsigned() && v.get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max())) {
    *out = static_cast<int64_t>(v.get<uint64_t>());
    return true;
  }
  if (!v.is_number_integer() || v.is_number_unsigned())
    return WrongType(key, ParamTypeName(ParamType::kInteger), v), false;
  *out = v.get<int64_t>();
  return true;
}

template <>
bool JsonReader::Convert(const std::string& key, const json& v, int* out) {
  bool ok = v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT_MAX));
  int64_t i = ok ? v.get<int64_t>() : 0;
  if (!ok || i < std::numeric_limits<int>::min() || i > std::numeric_limits<int>::max())
    return WrongType(key, ParamTypeName(ParamType::kInt32), v), false;
  *out = static_cast<int>(i);
  return true;
}

template <>
bool JsonReader::Convert(const std::string& key, const json& v, bool* out) {
  if (!v.is_boolean()) return WrongType(key, ParamTypeName(ParamType::kBoolean), v), false;
  *out = v.get<bool>();
  return true;
}

template <>
bool JsonReader::Convert(const std::string& key, const json& v, double* out) {
  if (!v.is_number()) return WrongType(key, ParamTypeName(ParamType::kNumber), v), false;
  *out = v.get<double>();
  return true;
}

template <>
bool JsonReader::Convert(const std::string& key, const json& v, std::vector<std::string>* out) {
  bool ok = v.is_array();
  if (ok)
    for (const auto& e : v) ok = ok && e.is_string();
  if (!ok) return WrongType(key, ParamTypeName(ParamType::kStringArray), v), false;
  out->clear();
  for (const auto& e : v) out->push_back(e.get<std::string>());
  return true;
}

template <>
bool JsonReader::Convert(const std::string& key, const json& v, std::map<std::string, std::string>* out) {
  bool ok = v.is_object();
  if (ok)
    for (const auto& [k, e] : v.items()) ok = ok && e.is_string();
  if (!ok) return WrongType(key, ParamTypeName(ParamType::kStringMap), v), false;
  out->clear();
  for (const auto& [k, e] : v.items()) (*out)[k] = e.get<std::string>();
  return true;
}

template <>
bool JsonReader::Convert(const std::string&, const json& v, json* out) {
  *out = v;
  return true;
}

template <typename T>
bool JsonReader::Optional(const std::string& key, T* out) {
  return Read(key, out, /*required=*/false);
}

template <typename T>
bool JsonReader::Required(const std::string& key, T* out) {
  return Read(key, out, /*required=*/true);
}

template <typename T>
bool JsonReader::Read(const std::string& key, T* out, bool required) {
  const Param* p = Declared(key, kTypeOf<T>, required);
  known_.insert(key);
  auto it = obj_->find(key);
  if (it == obj_->end()) {
    if (required || (p != nullptr && p->required)) {
      Fail(what_ + ": missing required key " + Quote(key));
    } else if (p != nullptr && !p->default_value.is_null()) {
      // CheckParams made sure it converts; a failure would name the key.
      Convert(key, p->default_value, out);
    }
    return false;
  }
  if (!Convert(key, *it, out)) return false;
  if (p != nullptr && p->type == ParamType::kObject && !it->is_object())
    return WrongType(key, ParamTypeName(ParamType::kObject), *it), false;
  if (p == nullptr || p->one_of.empty()) return true;
  auto allowed = [&](const std::string& v, const std::string& where) {
    if (std::find(p->one_of.begin(), p->one_of.end(), v) != p->one_of.end()) return true;
    Fail(what_ + "." + where + ": expected one of " + Joined(p->one_of) + ", got " + Quote(v));
    return false;
  };
  if constexpr (std::is_same_v<T, std::string>) return allowed(*out, key);
  if constexpr (std::is_same_v<T, std::vector<std::string>>)
    for (size_t i = 0; i < out->size(); ++i)
      if (!allowed((*out)[i], key + "[" + std::to_string(i) + "]")) return false;
  return true;
}

#define PMEMD_JSON_READER_TYPE(T)                                  \
  template bool JsonReader::Optional<T>(const std::string&, T*); \
  template bool JsonReader::Required<T>(const std::string&, T*);
PMEMD_JSON_READER_TYPE(std::string)
PMEMD_JSON_READER_TYPE(uint64_t)
PMEMD_JSON_READER_TYPE(uint32_t)
PMEMD_JSON_READER_TYPE(int64_t)
PMEMD_JSON_READER_TYPE(int)
PMEMD_JSON_READER_TYPE(bool)
PMEMD_JSON_READER_TYPE(double)
PMEMD_JSON_READER_TYPE(std::vector<std::string>)
using StringMap = std::map<std::string, std::string>;
PMEMD_JSON_READER_TYPE(StringMap)
PMEMD_JSON_READER_TYPE(json)
#undef PMEMD_JSON_READER_TYPE

void JsonReader::Allow(const std::string& key) {
  if (declared_ != nullptr &&
      std::none_of(declared_->begin(), declared_->end(), [&](const Param& p) { return p.name == key; }))
    Bug("allows " + what_ + "." + key + ", which it does not declare");
  known_.insert(key);
}

void JsonReader::Refuse(const std::string& key, const std::string& why) {
  if (declared_ != nullptr &&
      std::any_of(declared_->begin(), declared_->end(), [&](const Param& p) { return p.name == key; }))
    Bug("refuses " + what_ + "." + key + ", which it declares");
  if (obj_->contains(key)) Fail(what_ + "." + key + " " + why);
}

Status JsonReader::Finish() {
  finished_ = true;
  if (declared_ != nullptr)
    for (const Param& p : *declared_)
      if (!known_.count(p.name)) Bug("declares " + what_ + "." + p.name + " but never reads it");
  if (!bug_.ok()) return bug_;
  if (!status_.ok()) return status_;
  for (auto it = obj_->begin(); it != obj_->end(); ++it) {
    if (known_.count(it.key())) continue;
    std::string known;
    for (const auto& k : known_) known += (known.empty() ? "" : ", ") + k;
    return Status::InvalidArgument(what_ + ": unknown key " + Quote(it.key()) +
                                   (known.empty() ? "; this takes no keys" : "; known keys: " + known));
  }
  return Status::Ok();
}

Status CheckParams(const Params& params) {
  std::set<std::string> names;
  for (const Param& p : params) {
    if (p.name.empty()) return Status::Internal("a declared param has no name");
    if (!names.insert(p.name).second) return Status::Internal("param '" + p.name + "' is declared twice");
    if (!p.one_of.empty() && p.type != ParamType::kString && p.type != ParamType::kStringArray)
      return Status::Internal("param '" + p.name + "' has one_of but is neither a string nor an array of strings");
    if (!p.object_schema.is_null() && p.type != ParamType::kObject)
      return Status::Internal("param '" + p.name + "' has an object_schema but is not an object");
    if (p.default_value.is_null()) continue;
    if (p.required) return Status::Internal("param '" + p.name + "' is required and has a default");
    // The default must be what the reader itself would accept for the key.
    Params one = {p};
    one[0].default_value = nullptr;
    json obj = {{p.name, p.default_value}};
    JsonReader r(obj, &one, "default of " + p.name);
    switch (p.type) {
      case ParamType::kString: { std::string v; r.Optional(p.name, &v); break; }
      case ParamType::kUnsigned: { uint64_t v; r.Optional(p.name, &v); break; }
      case ParamType::kUnsigned32: { uint32_t v; r.Optional(p.name, &v); break; }
      case ParamType::kInteger: { int64_t v; r.Optional(p.name, &v); break; }
      case ParamType::kInt32: { int v; r.Optional(p.name, &v); break; }
      case ParamType::kBoolean: { bool v; r.Optional(p.name, &v); break; }
      case ParamType::kNumber: { double v; r.Optional(p.name, &v); break; }
      case ParamType::kStringArray: { std::vector<std::string> v; r.Optional(p.name, &v); break; }
      case ParamType::kStringMap: { StringMap v; r.Optional(p.name, &v); break; }
      case ParamType::kObject:
      case ParamType::kAny: { json v; r.Optional(p.name, &v); break; }
    }
    Status s = r.Finish();
    if (!s.ok()) return Status::Internal("the default of param '" + p.name + "' is not valid: " + s.message());
  }
  return Status::Ok();
}

}  // namespace pmemd
