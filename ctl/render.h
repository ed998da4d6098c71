// Human rendering for pmemctl: sizes with units, aligned tables. The JSON
// from the daemon is the model; this is only a view of it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/size.h"

namespace pmemctl {

// The member `key` of a daemon's answer, or null when the answer has none
// (or is not an object). Renderers read answers through this, never with
// operator[] on a const json (undefined when the key is missing): an answer
// of the wrong shape then throws json::type_error, which main reports.
const nlohmann::json& Field(const nlohmann::json& j, const char* key);

// 8589934592 -> "8.00 GiB" (pmemd/size.h).
using pmemd::HumanSize;

// A text table: header row, then rows; columns padded to the widest cell.
std::string Table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// The `list` answer as sections of tables.
std::string RenderList(const nlohmann::json& list);
std::string RenderVersion(const nlohmann::json& version);

}  // namespace pmemctl
