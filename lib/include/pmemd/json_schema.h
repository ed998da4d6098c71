// JSON Schema (draft 7) fragments, for the OpenRPC document rpc.discover
// serves: the schema of a declared param (json_reader.h, Param) and small
// builders for the result schemas methods declare beside their renderers.
//
// Result objects are open (no additionalProperties: false): within an API
// major version fields are only added (docs/api.md, Versioning), and a
// client must accept the ones it does not know.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/json_reader.h"

namespace pmemd::schema {

using Fields = std::vector<std::pair<std::string, nlohmann::json>>;

nlohmann::json String();
nlohmann::json Unsigned();  // an integer >= 0: sizes, offsets, ids
nlohmann::json Integer();
nlohmann::json Boolean();
nlohmann::json Any();
nlohmann::json Enum(std::vector<std::string> values);  // one of these strings
nlohmann::json ArrayOf(nlohmann::json items);
// An object that always has `required` and may have `optional`.
nlohmann::json Object(const Fields& required, const Fields& optional = {});
// One of several shapes (e.g. a result and its dry_run plan).
nlohmann::json AnyOf(std::vector<nlohmann::json> shapes);

// A declared param's value: its type, allowed values and default, exactly
// what the JsonReader reading it enforces.
nlohmann::json OfParam(const Param& p);

}  // namespace pmemd::schema
