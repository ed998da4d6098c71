// Fuzzes pmemctl: NUL-separated arguments (the first is the verb) run
// through the real command table and size parser, with the daemon replaced
// by a fake that answers every call with the JSON after the first "\n\n" in
// the input (or refuses when that does not parse), so that argument
// parsing and both renderers (the input's length picks JSON or human) see
// hostile input. Exceptions are caught as pmemctl's main catches them
// ("internal error", exit 1); what must never happen is a crash.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ctl/args.h"
#include "ctl/cli.h"
#include "fuzz_util.h"
#include "pmemd/json_reader.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  pmemd::fuzz::Quiet();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string all(reinterpret_cast<const char*>(data), size);
  std::string argv_part = all, reply;
  if (auto sep = all.find("\n\n"); sep != std::string::npos) {
    argv_part = all.substr(0, sep);
    reply = all.substr(sep + 2);
  }
  auto args = pmemd::fuzz::SplitAtNul(reinterpret_cast<const uint8_t*>(argv_part.data()), argv_part.size());
  for (const auto& a : args) (void)pmemctl::ParseSize(a).ok();
  const std::string verb = args.front();
  args.erase(args.begin());
  for (const auto& cmd : pmemctl::Commands()) {
    if (verb != cmd.name) continue;
    pmemctl::Invocation inv;
    inv.global.json = size & 1;
    inv.args = args;
    inv.call = [&](const std::string&, const nlohmann::json&) -> pmemd::Result<nlohmann::json> {
      auto j = pmemd::ParseJson(reply);
      if (!j.ok()) return pmemd::Status::Unavailable("fake daemon: no answer");
      return *j;
    };
    int rc = pmemctl::kExitFailed;
    try {
      rc = cmd.Run(inv);
    } catch (const std::exception&) {
    }
    if (rc < -1 || rc > 3) pmemd::fuzz::Fail("exit code out of range");
  }
  return 0;
}
