// Progress of a long operation (online-blocks of 10,000 blocks, attaching a
// pool whose metadata array is built afresh), reported by the layer that
// does the work without knowing who listens: the pool and platform layers
// take a ProgressFn and call it as they go; the JSON-RPC dispatcher turns
// the calls into "progress" notifications (docs/api.md) for a caller that
// asked with "progress": true; pmemctl draws a bar from them.
//
// An operation goes through one or more stages in order ("online",
// "isolate" then "offline", "memmap" then "render"); within a stage `done`
// never decreases and ends at `total` when the stage completes. A stage
// that fails part way (a rollback) stops short of `total`.
//
// ProgressLimiter decides which reports are worth sending: deterministic,
// by counts, never by time, so what a test sees does not depend on how
// fast the machine is.
//
// Thread safety: a ProgressFn is called from the thread doing the work, one
// call at a time, possibly with the layer's locks held (a pool's, while it
// walks its blocks): it must be quick, never block on a reader, and never
// call back into the layer. The dispatcher's only queues a line
// (CallContext::notify). A ProgressLimiter is used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace pmemd {

struct ProgressStep {
  std::string_view stage;  // what is being done: "online", "offline", "render", ...
  uint64_t done = 0;       // units finished in this stage, at most `total`
  uint64_t total = 0;      // units the stage has in all
  std::string_view unit;   // "blocks", "pages", "bytes"
};

// Empty: nobody listens, report nothing (callers test it before building a
// step in a loop: `if (progress) progress({...})`).
using ProgressFn = std::function<void(const ProgressStep&)>;

// Calls `fn` when set; for the layers, which report unconditionally.
inline void ReportProgress(const ProgressFn& fn, std::string_view stage, uint64_t done, uint64_t total,
                           std::string_view unit) {
  if (fn) fn(ProgressStep{stage, done, total, unit});
}

// Admits at most about `steps` reports per stage: the first of a stage, each
// that has gone at least total/steps units past the last admitted one, and
// the one that completes the stage (done == total) always. A report that
// goes backwards within a stage, or repeats the last admitted one, is held
// back.
class ProgressLimiter {
 public:
  explicit ProgressLimiter(uint64_t steps = 100) : steps_(steps == 0 ? 1 : steps) {}

  bool Admit(const ProgressStep& step);

 private:
  uint64_t steps_;
  bool started_ = false;
  std::string stage_;
  uint64_t total_ = 0;
  uint64_t last_done_ = 0;
};

}  // namespace pmemd
