#include "pmemd/json_schema.h"

#include <cstdint>
#include <limits>

namespace pmemd::schema {

using nlohmann::json;

json String() { return {{"type", "string"}}; }
json Unsigned() { return {{"type", "integer"}, {"minimum", 0}}; }
json Integer() { return {{"type", "integer"}}; }
json Boolean() { return {{"type", "boolean"}}; }
json Any() { return json::object(); }
json Enum(std::vector<std::string> values) { return {{"type", "string"}, {"enum", std::move(values)}}; }
json ArrayOf(json items) { return {{"type", "array"}, {"items", std::move(items)}}; }

json Object(const Fields& required, const Fields& optional) {
  json props = json::object(), names = json::array();
  for (const auto& [name, s] : required) {
    props[name] = s;
    names.push_back(name);
  }
  for (const auto& [name, s] : optional) props[name] = s;
  json out = {{"type", "object"}, {"properties", std::move(props)}};
  if (!names.empty()) out["required"] = std::move(names);
  return out;
}

json AnyOf(std::vector<json> shapes) { return {{"anyOf", std::move(shapes)}}; }

namespace {

json Bounded(int64_t min, uint64_t max) { return {{"type", "integer"}, {"minimum", min}, {"maximum", max}}; }

json OfType(ParamType type) {
  switch (type) {
    case ParamType::kString: return String();
    case ParamType::kUnsigned: return Bounded(0, std::numeric_limits<uint64_t>::max());
    case ParamType::kUnsigned32: return Bounded(0, std::numeric_limits<uint32_t>::max());
    case ParamType::kInteger: return Integer();
    case ParamType::kInt32: return Bounded(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
    case ParamType::kBoolean: return Boolean();
    case ParamType::kNumber: return {{"type", "number"}};
    case ParamType::kStringArray: return ArrayOf(String());
    case ParamType::kStringMap: return {{"type", "object"}, {"additionalProperties", String()}};
    case ParamType::kObject: return {{"type", "object"}};
    case ParamType::kAny: return Any();
  }
  return Any();
}

}  // namespace

json OfParam(const Param& p) {
  json s = OfType(p.type);
  if (p.object_schema.is_object()) s.update(p.object_schema);
  if (!p.one_of.empty()) (p.type == ParamType::kStringArray ? s["items"] : s) = Enum(p.one_of);
  if (!p.default_value.is_null()) s["default"] = p.default_value;
  return s;
}

}  // namespace pmemd::schema
