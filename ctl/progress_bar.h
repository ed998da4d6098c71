// The bar pmemctl draws on stderr while a long operation runs, from the
// daemon's progress notifications (docs/api.md):
//
//   online-blocks pool0  [#####.....] 512/1024 blocks
//
// with the stage after it when it is not the verb's own ("isolate" while
// offline-blocks takes the blocks' free extents). Drawn only on a
// terminal and never with --json (main.cc decides); each update rewrites
// the line in place and the bar is erased when the call ends, so what the
// command prints after it is all that stays on the screen.
//
// Thread safety: one ProgressBar per call, used by that call's thread.
#pragma once

#include <cstdio>
#include <string>

#include "pmemd/progress.h"

namespace pmemctl {

// One line of the bar, without control characters: `label`, then `width`
// cells of '#' for what is done and '.' for the rest, then done/total and
// the unit.
std::string ProgressLine(const std::string& label, const pmemd::ProgressStep& step, size_t width = 20);

class ProgressBar {
 public:
  // `out` is borrowed (stderr) and must outlive the bar.
  ProgressBar(std::FILE* out, std::string label) : out_(out), label_(std::move(label)) {}
  ~ProgressBar() { Clear(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Draws `step` over the line drawn before.
  void Update(const pmemd::ProgressStep& step);
  // Erases the line, if one was drawn.
  void Clear();

 private:
  std::FILE* out_;
  std::string label_;
  bool drawn_ = false;
};

}  // namespace pmemctl
