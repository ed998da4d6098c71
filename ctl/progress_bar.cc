#include "progress_bar.h"

#include <algorithm>

namespace pmemctl {

namespace {

// Carriage return, then erase to the end of the line (ECMA-48 EL).
constexpr const char* kEraseLine = "\r\033[K";

}  // namespace

std::string ProgressLine(const std::string& label, const pmemd::ProgressStep& step, size_t width) {
  const uint64_t done = std::min(step.done, step.total);
  const size_t filled =
      step.total == 0 ? width : static_cast<size_t>(static_cast<long double>(done) * width / step.total);
  std::string line = label + "  [" + std::string(filled, '#') + std::string(width - filled, '.') + "] " +
                     std::to_string(step.done) + "/" + std::to_string(step.total);
  if (!step.unit.empty()) line += " " + std::string(step.unit);
  // The verb's own stage ("online" of online-blocks) goes without saying.
  const std::string verb = label.substr(0, label.find(' '));
  if (!step.stage.empty() && verb.rfind(std::string(step.stage) + "-", 0) != 0)
    line += " (" + std::string(step.stage) + ")";
  return line;
}

void ProgressBar::Update(const pmemd::ProgressStep& step) {
  std::fprintf(out_, "%s%s", kEraseLine, ProgressLine(label_, step).c_str());
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::Clear() {
  if (!drawn_) return;
  std::fputs(kEraseLine, out_);
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace pmemctl
