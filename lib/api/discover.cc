// rpc.discover: the OpenRPC 1.2 document, generated from the registry. Each
// method's params are its Method::params, the declaration its handler's
// JsonReader enforces (json_reader.h), so the document is the validation.
#include <string>

#include "pmemd/json_schema.h"
#include "pmemd/rpc.h"

namespace pmemd {

using nlohmann::json;

namespace {

// The OpenRPC version the document follows (the openrpc field).
constexpr const char* kOpenRpcVersion = "1.2.6";

// One entry per application error (every Code but kOk), keyed by its
// data.code name, for methods to refer to.
json ErrorComponents() {
  json errors = json::object();
  for (int c = static_cast<int>(Code::kOk) + 1; c <= static_cast<int>(kLastCode); ++c) {
    const Code code = static_cast<Code>(c);
    const std::string name(CodeName(code));
    errors[name] = {{"code", RpcErrorCode(code)},
                    {"message", std::string(CodeMeaning(code))},
                    {"data", {{"code", name}}}};
  }
  return errors;
}

json MethodObject(const Method& m, const json& error_names) {
  json params = json::array();
  for (const Param& p : m.params)
    params.push_back({{"name", p.name},
                      {"description", p.description},
                      {"required", p.required},
                      {"schema", schema::OfParam(p)}});
  json errors = json::array();
  for (const auto& name : error_names) errors.push_back({{"$ref", "#/components/errors/" + name.get<std::string>()}});
  return {{"name", m.name},
          {"summary", m.summary},
          {"paramStructure", "by-name"},
          {"params", std::move(params)},
          {"result", {{"name", "result"}, {"schema", m.result}}},
          {"errors", std::move(errors)},
          {"x-access", m.access == Access::kMutate ? "mutate" : "read"}};
}

}  // namespace

json OpenRpcDocument(const Registry& registry) {
  json errors = ErrorComponents();
  // Any method may answer with any of them: the codes say what kind of
  // failure it was, not which method failed.
  json error_names = json::array();
  for (const auto& [name, e] : errors.items()) error_names.push_back(name);
  json methods = json::array();
  for (const Method* m : registry.All()) methods.push_back(MethodObject(*m, error_names));
  return {{"openrpc", kOpenRpcVersion},
          {"info",
           {{"title", "pmemd"},
            {"version", PMEMD_API_VERSION},
            {"description",
             "JSON-RPC 2.0 over pmemd's Unix socket, one request per line (docs/api.md). Params are named; "
             "an unknown or mistyped one is -32602. Every error carries data.code, the name of its kind. "
             "x-access: read methods are open to anyone who can connect, mutate methods to root and the "
             "admin group."}}},
          {"methods", std::move(methods)},
          {"components", {{"errors", std::move(errors)}}}};
}

}  // namespace pmemd
