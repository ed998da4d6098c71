// Human rendering for pmemctl: sizes with units, aligned tables. The JSON
// from the daemon is the model; this is only a view of it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pmemctl {

// 8589934592 -> "8.00 GiB"; exact multiples of smaller units keep precision.
std::string HumanSize(uint64_t bytes);

// A text table: header row, then rows; columns padded to the widest cell.
std::string Table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// The `list` answer as sections of tables.
std::string RenderList(const nlohmann::json& list);
std::string RenderVersion(const nlohmann::json& version);

}  // namespace pmemctl
