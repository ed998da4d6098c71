// Fuzzes what pmemd reads before it serves: the configuration file (JSON
// overlaid on the defaults, then validated) and the daemon's command line
// (NUL-separated arguments). Invariant: a Status, never a crash.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "pmemd/config.h"
#include "pmemd/daemon.h"
#include "pmemd/json_reader.h"
#include "pmemd/text.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  pmemd::fuzz::Quiet();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto j = pmemd::ParseJson(text);
  if (j.ok()) {
    pmemd::Config c = pmemd::DefaultConfig();
    pmemd::Status s = pmemd::ApplyConfigJson(*j, &c);
    if (s.ok()) s = pmemd::ValidateConfig(c);
    if (!pmemd::IsValidUtf8(pmemd::Excerpt(s.message(), 1 << 20))) pmemd::fuzz::Fail("message");
  }
  auto flags = pmemd::ParseDaemonFlags(pmemd::fuzz::SplitAtNul(data, size));
  (void)flags.ok();
  return 0;
}
