#include "pmemd/json_reader.h"

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

JsonReader::JsonReader(const json& obj, std::string what)
    : obj_(&obj), empty_(json::object()), what_(std::move(what)) {
  if (obj.is_null()) {
    obj_ = &empty_;
  } else if (!obj.is_object()) {
    obj_ = &empty_;
    Fail(what_ + ": expected an object, got " + JsonTypeName(obj));
  }
}

void JsonReader::Fail(std::string message, Code code) {
  if (status_.ok()) status_ = Status(code, std::move(message));
}

void JsonReader::WrongType(const std::string& key, const char* expected, const json& got) {
  std::string shown = Excerpt(DumpJson(got), 40);
  Fail(what_ + "." + key + ": expected " + expected + ", got " + JsonTypeName(got) + " " + shown);
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
bool JsonReader::Optional(const std::string& key, std::string* out) {
  known_.insert(key);
  auto it = obj_->find(key);
  if (it == obj_->end()) return false;
  if (!it->is_string()) return WrongType(key, "a string", *it), false;
  *out = it->get<std::string>();
  return true;
}

template <>
bool JsonReader::Optional(const std::string& key, uint64_t* out) {
  known_.insert(key);
  auto it = obj_->find(key);
  if (it == obj_->end()) return false;
  if (!AsUnsigned(*it, std::numeric_limits<uint64_t>::max(), out))
    return WrongType(key, "an unsigned integer", *it), false;
  return true;
}

template <>
bool JsonReader::Optional(const std::string& key, uint32_t* out) {
  known_.insert(key);
  auto it = obj_->find(key);
  if (it == obj_->end()) return false;
  uint64_t u = 0;
  if (!AsUnsigned(*it, std::numeric_limits<uint32_t>::max(), &u))
    return WrongType(key, "an unsigned 32-bit integer", *it), false;
  *out = static_cast<uint32_t>(u);
  return true;
}

template <>
bool JsonReader::Optional(const std::string& key, int64_t* out) {
  known_.insert(key);
  auto it = obj_->find(key);
  if (it == obj_->end()) return false;
  if (it->is_number_unsigned() && it->get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max())) {
    *out = static_cast<int64_t>(it->get<uint64_t>());
    return true;
  }
  if (!it->is_number_integer()) return WrongType(key, "an integer", *it), false;
  *out = it->get<int64_t>();
  return true;
}

template <>
bool JsonReader::Optional(const std::string& key, int* out) {
  int64_t v = 0;
  if (!Optional(key, &v)) return false;
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    return WrongType(key, "a 32-bit integer", (*obj_)[key]), false;
  *out = static_cast<int>(v);
  return true;
}

template <>
bool JsonReader::Optional(const std::string& key, bool* out) {
  known_.insert(key);
  auto it = obj_->find(key);
  if (it == obj_->end()) return false;
  if (!it->is_boolean()) return WrongType(key, "a boolean (true or false)", *it), false;
  *out = it->get<bool>();
  return true;
}

template <>
bool JsonReader::Optional(const std::string& key, double* out) {
  known_.insert(key);
  auto it = obj_->find(key);
  if (it == obj_->end()) return false;
  if (!it->is_number()) return WrongType(key, "a number", *it), false;
  *out = it->get<double>();
  return true;
}

template <>
bool JsonReader::Optional(const std::string& key, std::vector<std::string>* out) {
  known_.insert(key);
  auto it = obj_->find(key);
  if (it == obj_->end()) return false;
  bool ok = it->is_array();
  if (ok)
    for (const auto& e : *it) ok = ok && e.is_string();
  if (!ok) return WrongType(key, "an array of strings", *it), false;
  out->clear();
  for (const auto& e : *it) out->push_back(e.get<std::string>());
  return true;
}

template <>
bool JsonReader::Optional(const std::string& key, json* out) {
  known_.insert(key);
  auto it = obj_->find(key);
  if (it == obj_->end()) return false;
  *out = *it;
  return true;
}

Status JsonReader::Finish() {
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

}  // namespace pmemd
