// StreamFixture: an integration test with its own pmemd on the emulated
// platform (one 8 GiB region unless StartWith's `extra` config says
// otherwise), driven through lib/client: calls, and the event stream
// (docs/events.md).
//
//   class HealthTest : public StreamFixture { void SetUp() override { StartWith({...}); } };
//   Client sub = Connect(); sub.Subscribe(...);
//   ReadUntil(sub, [](const json& n) { return Is(n, "dimm", "nmem0", "ok"); });
#pragma once

#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pmemd/client.h"
#include "pmemd/fs.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace pmemd::testing {

class StreamFixture : public ::testing::Test {
 protected:
  static constexpr int kWaitMs = 30'000;  // a bound for a broken daemon, never a synchronization

  void StartWith(nlohmann::json extra = nlohmann::json::object()) {
    config_ = dir_.path() + "/pmemd.json";
    nlohmann::json cfg = {{"admin_group", std::to_string(::getgid())},
                {"emulated", {{"regions", {{{"size", 8ull << 30}}}}}}};
    cfg.update(extra);
    ASSERT_TRUE(WriteFileAtomic(config_, cfg.dump()).ok());
    d_ = std::make_unique<DaemonProcess>(dir_.path() + "/s.sock", dir_.path() + "/state",
                                         std::vector<std::string>{"--config", config_});
    ASSERT_TRUE(d_->Start()) << d_->Log();
  }
  Client Connect() {
    auto c = Client::Connect(d_->socket());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
  nlohmann::json Call(Client& c, const std::string& method, const nlohmann::json& params = nlohmann::json::object()) {
    auto r = c.Call(method, params);
    EXPECT_TRUE(r.ok()) << method << ": " << r.status().ToString();
    return r.ok() ? *r : nlohmann::json();
  }
  // Reads notifications until one satisfies `until`; returns them all.
  std::vector<nlohmann::json> ReadUntil(Client& c, const std::function<bool(const nlohmann::json&)>& until) {
    std::vector<nlohmann::json> seen;
    Status s = c.ReadNotifications(
        [&](const nlohmann::json& n) {
          seen.push_back(n);
          return !until(n);
        },
        kWaitMs);
    EXPECT_TRUE(s.ok()) << s.ToString() << " after " << seen.size() << " notifications";
    return seen;
  }
  static bool Is(const nlohmann::json& n, const std::string& kind, const std::string& object, const std::string& to) {
    return n.value("method", "") == "event" && n["params"]["kind"] == kind && n["params"]["object"] == object &&
           n["params"]["to"] == to;
  }

  TempDir dir_;
  std::string config_;
  std::unique_ptr<DaemonProcess> d_;
};

}  // namespace pmemd::testing
