// DIMM health and bad blocks end to end (docs/health.md): the real pmemd on
// the emulated platform, injected health and bad blocks through the socket,
// seen as events, in list, in metrics, in pmemctl and in the daemon's log.
#include "support/stream_fixture.h"

namespace pmemd::testing {
namespace {

using nlohmann::json;
constexpr uint64_t kG = 1ull << 30;

class HealthTest : public StreamFixture {
 protected:
  void SetUp() override {
    // region1 is label-less: its DIMM models one without SMART (QEMU's NVDIMM).
    StartWith({{"health_interval_ms", 100},
               {"emulated", {{"regions", {{{"size", 8 * kG}}, {{"size", kG}, {"labels", false}}}}}}});
  }
  Client Subscribe(const std::string& kind) {
    Client sub = Connect();
    auto reply = sub.Subscribe({{"kinds", {kind}}});
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return sub;
  }
  // The params of the next event on `sub` about `object`.
  json NextEvent(Client& sub, const std::string& object) {
    std::vector<json> seen = ReadUntil(sub, [&](const json& n) {
      return n.value("method", "") == "event" && n["params"]["object"] == object;
    });
    return seen.empty() ? json() : seen.back()["params"];
  }
};

TEST_F(HealthTest, AnInjectedTemperaturePastItsThresholdIsAnEventListFieldsGaugesAndAWarning) {
  Client sub = Subscribe("dimm");
  Client admin = Connect();
  json injected = Call(admin, "inject-error", {{"dimm", "nmem0"}, {"temperature_millicelsius", 88'000}});
  EXPECT_EQ(injected["health"]["alarm_temperature"], true);

  json e = NextEvent(sub, "nmem0");
  EXPECT_EQ(e["kind"], "dimm");
  EXPECT_EQ(e["from"], "ok");
  EXPECT_EQ(e["to"], "ok");
  EXPECT_EQ(e["detail"]["alarms"], json({"media_temperature"}));
  EXPECT_EQ(e["detail"]["changed"], json({"alarms"}));

  // The monitor's reading is in place before its event goes out.
  json list = Call(admin, "list", {{"health", true}});
  ASSERT_EQ(list["dimms"].size(), 2u) << list.dump();
  const json& h = list["dimms"][0]["health"];
  EXPECT_EQ(h["health_state"], "ok");
  EXPECT_EQ(h["temperature_millicelsius"], 88'000);
  EXPECT_EQ(h["temperature_threshold_millicelsius"], 85'000);
  EXPECT_EQ(h["alarm_temperature"], true);
  EXPECT_EQ(h["alarm_enabled_media_temperature"], true);
  EXPECT_EQ(h["spares_percentage"], 100);
  EXPECT_EQ(h["shutdown_state"], "clean");
  EXPECT_EQ(h["shutdown_count"], 0);
  EXPECT_FALSE(list["dimms"][1].contains("health")) << "nmem1 has no SMART: " << list.dump();
  json plain = Call(admin, "list", {{"dimms", true}});
  EXPECT_EQ(plain["dimms"][0]["health"], json({{"health_state", "ok"}})) << "without health, only the state";

  const std::string text = Call(admin, "metrics")["text"];
  EXPECT_NE(text.find("pmemd_dimm_temperature_celsius{dimm=\"nmem0\"} 88\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pmemd_dimm_alarm{dimm=\"nmem0\",alarm=\"media_temperature\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("pmemd_dimm_health_state{dimm=\"nmem0\",state=\"ok\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("pmemd_dimm_health_supported{dimm=\"nmem1\"} 0\n"), std::string::npos);

  const std::string log = d_->Log();
  const size_t at = log.find("nmem0: media temperature alarm: 88 C (threshold 85 C)");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string line = log.substr(log.rfind('\n', at) + 1, log.find('\n', at) - log.rfind('\n', at) - 1);
  EXPECT_NE(line.find("warn"), std::string::npos) << line;

  // pmemctl list -DH: the same fields, and the human table names the alarm.
  RunResult r = d_->Ctl({"list", "-DH", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.Json()["dimms"][0]["health"]["temperature_millicelsius"], 88'000);
  r = d_->Ctl({"list", "-DH", "--human"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("media-temperature"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unsupported"), std::string::npos) << r.out;

  // Back below the threshold with pmemctl, in degrees: the alarm clears.
  r = d_->Ctl({"inject-error", "--dimm", "nmem0", "--temperature", "40.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  e = NextEvent(sub, "nmem0");
  EXPECT_EQ(e["detail"]["alarms"], json::array());
  EXPECT_EQ(e["detail"]["health"]["temperature_millicelsius"], 40'500);
}

TEST_F(HealthTest, BadInjectionsSayWhatWouldBeRight) {
  Client admin = Connect();
  auto r = admin.Call("inject-error", {{"dimm", "nmem0"}, {"spares_percentage", 120}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("give 0 to 100"), std::string::npos) << r.status().ToString();
  r = admin.Call("inject-error", {{"dimm", "nmem0"}, {"alarm_spares", true}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("the firmware's to set"), std::string::npos) << r.status().ToString();
  r = admin.Call("inject-error", {{"dimm", "nmem1"}, {"health_state", "fatal"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnsupported) << r.status().ToString();
  r = admin.Call("inject-error", {{"dimm", "nmem0"}, {"temprature_millicelsius", 1}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("temprature_millicelsius"), std::string::npos) << r.status().ToString();
  // inject-error's forms share one declaration of params: each refuses the others'.
  r = admin.Call("inject-error", {{"region", "region0"}, {"length", 512}, {"health_state", "fatal"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("inject-error with region does not take health fields; ", 0), 0u)
      << r.status().ToString();
  r = admin.Call("inject-error", {{"dimm", "nmem0"}, {"stuck", true}, {"offset", 0}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("inject-error with dimm does not take stuck, offset; ", 0), 0u)
      << r.status().ToString();
  r = admin.Call("inject-error", {{"dimm", "nmem0"}, {"memory_block", 1}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("takes one of memory_block"), std::string::npos) << r.status().ToString();
}

TEST_F(HealthTest, AStateChangeIsAnEventFromTheOldStateToTheNew) {
  Client sub = Subscribe("dimm");
  Client admin = Connect();
  Call(admin, "inject-error", {{"dimm", "nmem0"}, {"health_state", "critical"}, {"shutdown_count", 1},
                               {"shutdown_state", "dirty"}});
  json e = NextEvent(sub, "nmem0");
  EXPECT_EQ(e["from"], "ok");
  EXPECT_EQ(e["to"], "critical");
  EXPECT_EQ(e["detail"]["changed"], json({"health_state", "shutdown_count", "shutdown_state"}));
  Call(admin, "inject-error", {{"dimm", "nmem0"}, {"clear", true}});
  e = NextEvent(sub, "nmem0");
  EXPECT_EQ(e["from"], "critical");
  EXPECT_EQ(e["to"], "ok");
}

TEST_F(HealthTest, BadBlocksInjectedAndClearedAreEventsForTheRegionAndItsNamespace) {
  Client admin = Connect();
  Call(admin, "create-namespace", {{"region", "0"}, {"mode", "fsdax"}, {"size", kG}});
  Client sub = Subscribe("badblocks");
  Call(admin, "inject-error", {{"region", "region0"}, {"offset", 1 << 20}, {"length", 4096}});
  json e = NextEvent(sub, "region0");
  EXPECT_EQ(e["from"], "0");
  EXPECT_EQ(e["to"], "8");
  EXPECT_EQ(e["detail"]["badblocks"], json::parse(R"([{"offset":2048,"length":8}])"));
  const std::string text = Call(admin, "metrics")["text"];
  EXPECT_NE(text.find("pmemd_region_badblocks_bytes{region=\"region0\"} 4096\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pmemd_namespace_badblocks_bytes{namespace=\"namespace0.0\",region=\"region0\"} 4096\n"),
            std::string::npos);
  Call(admin, "inject-error", {{"region", "region0"}, {"offset", 1 << 20}, {"length", 4096}, {"clear", true}});
  e = NextEvent(sub, "namespace0.0");
  EXPECT_EQ(e["from"], "8");
  EXPECT_EQ(e["to"], "0");
  EXPECT_EQ(e["detail"]["region"], "region0");
}

}  // namespace
}  // namespace pmemd::testing
