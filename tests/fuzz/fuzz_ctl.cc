// Fuzzes pmemctl's argument handling: NUL-separated arguments (the first is
// the verb) run through the real command table and size parser, with the
// daemon replaced by a fake that refuses every call. (The renderers assume
// a well-formed answer: rendering hostile answers is not fuzzed yet, see
// tests/fuzz/README.md.)
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ctl/args.h"
#include "ctl/cli.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  pmemd::fuzz::Quiet();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto args = pmemd::fuzz::SplitAtNul(data, size);
  for (const auto& a : args) (void)pmemctl::ParseSize(a).ok();
  const std::string verb = args.front();
  args.erase(args.begin());
  for (const auto& cmd : pmemctl::Commands()) {
    if (verb != cmd.name) continue;
    pmemctl::Invocation inv;
    inv.global.json = size & 1;  // both renderers
    inv.args = args;
    inv.call = [](const std::string&, const nlohmann::json&) -> pmemd::Result<nlohmann::json> {
      return pmemd::Status::Unavailable("fake daemon: no answer");
    };
    int rc = pmemctl::kExitFailed;
    try {
      rc = cmd.run(inv);
    } catch (const std::exception&) {
      // pmemctl's main turns these into "internal error" and exit 1; what is
      // fuzzed here is that nothing crashes.
    }
    if (rc < -1 || rc > 3) pmemd::fuzz::Fail("exit code out of range");
  }
  return 0;
}
