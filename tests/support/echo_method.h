// A method for dispatcher and server tests: answers with the params it was
// given, each of `keys` declared as any value (rpc.h, Method::params), and
// null when it was given none.
#pragma once

#include <string>
#include <vector>

#include "pmemd/json_schema.h"
#include "pmemd/rpc.h"

namespace pmemd {

inline Method EchoMethod(std::string name, std::vector<std::string> keys) {
  Params params;
  for (auto& k : keys) params.push_back({.name = std::move(k), .type = ParamType::kAny, .description = "echoed"});
  return {.name = std::move(name),
          .summary = "Returns its params",
          .access = Access::kRead,
          .params = params,
          .result = schema::Any(),
          .handler = [params](JsonReader& r, const CallContext&) -> Result<nlohmann::json> {
            nlohmann::json out;
            for (const Param& p : params) {
              nlohmann::json v;
              if (r.Optional(p.name, &v)) out[p.name] = v;
            }
            PMEMD_RETURN_IF_ERROR(r.Finish());
            return out;
          }};
}

}  // namespace pmemd
