// Problems: every reason a layout cannot be applied, gathered so that one
// error names them all (the apply is refused as a whole, nothing changed).
// Not a public header: lib/layout only.
//
// Thread safety: a plain value.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/status.h"

namespace pmemd {

class Problems {
 public:
  void Add(const Status& s) {
    if (!s.ok()) list_.push_back(s);
  }
  bool empty() const { return list_.empty(); }

  // OK when there is none; else "<summary> (N problems): first; second; ...",
  // with the code they share (invalid_argument when they differ) and detail
  // {"problems": [{"code", "message"}, ...]}.
  Status Fail(const std::string& summary) const {
    if (list_.empty()) return Status::Ok();
    Code code = list_.front().code();
    std::string message = summary + " (" + std::to_string(list_.size()) +
                          (list_.size() == 1 ? " problem): " : " problems): ");
    nlohmann::json problems = nlohmann::json::array();
    for (size_t i = 0; i < list_.size(); ++i) {
      if (list_[i].code() != code) code = Code::kInvalidArgument;
      message += (i ? "; " : "") + list_[i].message();
      problems.push_back({{"code", CodeName(list_[i].code())}, {"message", list_[i].message()}});
    }
    return Status(code, message + "; nothing was changed").WithDetail({{"problems", std::move(problems)}});
  }

 private:
  std::vector<Status> list_;
};

}  // namespace pmemd
