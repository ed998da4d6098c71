// Fuzzes the request path: a JSON-RPC line (or batch) into the dispatcher of
// a whole daemon (emulated platform, pools, every method), from root and
// from an ordinary user. Invariants: never a crash or a sanitizer report;
// the answer is empty (notifications) or one line of valid UTF-8 JSON.
//
// Pool files may only be created in the scratch directory: every "path"
// value in a request that parses is rewritten to a name there.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "pmemd/config.h"
#include "pmemd/daemon.h"
#include "pmemd/json_reader.h"
#include "pmemd/rpc.h"
#include "pmemd/text.h"

namespace {

using nlohmann::json;

std::unique_ptr<pmemd::Daemon> daemon_;
std::string scratch_;

void ConfinePaths(json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "path" && it->is_string())
        *it = scratch_ + "/pool" + std::to_string(std::hash<std::string>{}(it->get<std::string>()) % 4);
      else
        ConfinePaths(*it);
    }
  } else if (j.is_array()) {
    for (auto& e : j) ConfinePaths(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  pmemd::fuzz::Quiet();
  scratch_ = pmemd::fuzz::ScratchDir("rpc");
  pmemd::Config c = pmemd::DefaultConfig();
  c.socket_path = scratch_ + "/pmemd.sock";
  c.state_dir = scratch_ + "/state";
  c.platform = "emulated";
  c.emulated.regions = {pmemd::EmulatedRegionConfig{.size = 512ull << 20}};
  auto d = pmemd::Daemon::Create(c);
  if (!d.ok()) pmemd::fuzz::Fail(d.status().ToString().c_str());
  daemon_ = std::move(*d);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the caller; the rest is the line.
  pmemd::CallContext ctx;
  ctx.peer = (data[0] & 1) ? pmemd::PeerCred{true, 1, 0, 0} : pmemd::PeerCred{true, 2, 65534, 65534};
  std::string line(reinterpret_cast<const char*>(data + 1), size - 1);
  if (line.find("path") != std::string::npos) {
    auto parsed = pmemd::ParseJson(line);
    if (parsed.ok()) {
      ConfinePaths(*parsed);
      line = pmemd::DumpJson(*parsed);
    } else if (ctx.peer.uid == 0) {
      return 0;  // unparsed text with a path in it never reaches a handler anyway
    }
  }
  std::string out = daemon_->dispatcher().HandleLine(line, ctx);
  if (out.empty()) return 0;
  if (!pmemd::IsValidUtf8(out)) pmemd::fuzz::Fail("reply is not valid UTF-8");
  if (out.find('\n') != std::string::npos) pmemd::fuzz::Fail("reply spans lines");
  if (!pmemd::ParseJson(out, 1000).ok()) pmemd::fuzz::Fail("reply is not JSON");
  return 0;
}
