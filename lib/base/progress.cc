#include "pmemd/progress.h"

namespace pmemd {

bool ProgressLimiter::Admit(const ProgressStep& step) {
  if (!started_ || step.stage != stage_ || step.total != total_) {
    // A new stage (or the same one re-counted): its first report goes.
    started_ = true;
    stage_ = std::string(step.stage);
    total_ = step.total;
    last_done_ = step.done;
    return true;
  }
  if (step.done <= last_done_) return false;
  const uint64_t stride = total_ / steps_ == 0 ? 1 : total_ / steps_;
  if (step.done < step.total && step.done - last_done_ < stride) return false;
  last_done_ = step.done;
  return true;
}

}  // namespace pmemd
