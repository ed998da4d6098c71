#include <gtest/gtest.h>

#include "platform/emulated_layout.h"
#include "pmemd/health.h"

namespace pmemd {
namespace {

using Alarms = std::vector<std::string>;

DimmHealth Healthy() { return emulated::DefaultHealth(); }

TEST(SmartTemperature, SixteenthsOfADegreeBecomeRoundedMillidegreesWithBit15AsTheSign) {
  EXPECT_EQ(SmartTemperatureToMillicelsius(0), 0);
  EXPECT_EQ(SmartTemperatureToMillicelsius(16 * 30), 30'000);
  EXPECT_EQ(SmartTemperatureToMillicelsius(1), 63);  // 62.5 rounds away from zero
  EXPECT_EQ(SmartTemperatureToMillicelsius(2), 125);
  EXPECT_EQ(SmartTemperatureToMillicelsius(0x8000 | (16 * 5 + 8)), -5'500);
  EXPECT_EQ(SmartTemperatureToMillicelsius(0x8001), -63);
  EXPECT_EQ(SmartTemperatureToMillicelsius(0x7fff), 2'047'938);
}

TEST(TrippedAlarms, NoneForAHealthyDimm) { EXPECT_EQ(TrippedAlarms(Healthy()), Alarms{}); }

TEST(TrippedAlarms, ATemperatureTripsAtItsThresholdNotBelow) {
  DimmHealth h = Healthy();
  h.temperature_mc = 84'999;
  EXPECT_EQ(TrippedAlarms(h), Alarms{});
  h.temperature_mc = 85'000;
  EXPECT_EQ(TrippedAlarms(h), Alarms{"media_temperature"});
  h.controller_temperature_mc = 90'000;
  EXPECT_EQ(TrippedAlarms(h), (Alarms{"controller_temperature", "media_temperature"}));
}

TEST(TrippedAlarms, SparesTripAtOrBelowTheirThreshold) {
  DimmHealth h = Healthy();
  h.spares_percentage = 11;
  EXPECT_EQ(TrippedAlarms(h), Alarms{});
  h.spares_percentage = 10;
  EXPECT_EQ(TrippedAlarms(h), Alarms{"spares"});
}

TEST(TrippedAlarms, ADisabledAlarmDoesNotTripOnItsValueButTheFirmwaresFlagStillCounts) {
  DimmHealth h = Healthy();
  h.temperature_mc = 100'000;
  h.alarm_enabled_media_temperature = false;
  EXPECT_EQ(TrippedAlarms(h), Alarms{});
  h.alarm_temperature = true;  // a real DIMM's firmware said so
  EXPECT_EQ(TrippedAlarms(h), Alarms{"media_temperature"});
}

TEST(TrippedAlarms, FirmwareAlarmsFollowTheSameRule) {
  DimmHealth h = Healthy();
  h.spares_percentage = 5;
  h.temperature_mc = 99'000;
  SetFirmwareAlarms(&h);
  EXPECT_EQ(h.alarm_spares, true);
  EXPECT_EQ(h.alarm_temperature, true);
  EXPECT_EQ(h.alarm_controller_temperature, false);
  h.temperature_mc = 20'000;
  SetFirmwareAlarms(&h);
  EXPECT_EQ(h.alarm_temperature, false);
}

TEST(ValidateDimmHealth, NamesTheFieldAndTheRange) {
  EXPECT_TRUE(ValidateDimmHealth(Healthy()).ok());
  DimmHealth h = Healthy();
  h.health_state = "bad";
  EXPECT_NE(ValidateDimmHealth(h).message().find("ok, non-critical, critical or fatal"), std::string::npos);
  h = Healthy();
  h.spares_percentage = 101;
  EXPECT_NE(ValidateDimmHealth(h).message().find("spares_percentage 101"), std::string::npos);
  h = Healthy();
  h.temperature_threshold_mc = 3'000'000;
  EXPECT_NE(ValidateDimmHealth(h).message().find("temperature_threshold_millicelsius"), std::string::npos);
  h = Healthy();
  h.shutdown_state = "maybe";
  EXPECT_NE(ValidateDimmHealth(h).message().find("clean or dirty"), std::string::npos);
}

TEST(DiffDimmHealth, TheFirstReadingPublishesNothingAndWarnsOfWhatIsAlreadyWrong) {
  std::optional<DimmHealth> h = Healthy();
  HealthChange c = DiffDimmHealth("nmem0", nullptr, h);
  EXPECT_FALSE(c.event);
  EXPECT_TRUE(c.warnings.empty());
  h->health_state = "critical";
  h->temperature_mc = 90'000;
  h->shutdown_state = "dirty";
  c = DiffDimmHealth("nmem0", nullptr, h);
  EXPECT_FALSE(c.event);
  ASSERT_EQ(c.warnings.size(), 3u);
  EXPECT_EQ(c.warnings[0], "nmem0: health critical");
  EXPECT_NE(c.warnings[1].find("media temperature alarm: 90 C (threshold 85 C)"), std::string::npos) << c.warnings[1];
  EXPECT_NE(c.warnings[2].find("last shutdown was dirty"), std::string::npos);
}

TEST(DiffDimmHealth, CrossingAThresholdIsAnEventAndAWarningAndComingBackANotice) {
  std::optional<DimmHealth> before = Healthy(), after = Healthy();
  after->temperature_mc = 86'000;
  HealthChange c = DiffDimmHealth("nmem1", &before, after);
  ASSERT_TRUE(c.event);
  EXPECT_EQ(c.event->kind, "dimm");
  EXPECT_EQ(c.event->object, "nmem1");
  EXPECT_EQ(c.event->from, "ok");
  EXPECT_EQ(c.event->to, "ok");
  EXPECT_EQ(c.event->detail["changed"], nlohmann::json({"alarms"}));
  EXPECT_EQ(c.event->detail["alarms"], nlohmann::json({"media_temperature"}));
  EXPECT_EQ(c.event->detail["health"]["temperature_millicelsius"], 86'000);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_TRUE(c.notices.empty());

  HealthChange back = DiffDimmHealth("nmem1", &after, before);
  ASSERT_TRUE(back.event);
  EXPECT_TRUE(back.warnings.empty());
  ASSERT_EQ(back.notices.size(), 1u);
  EXPECT_NE(back.notices[0].find("back within its threshold"), std::string::npos);
}

TEST(DiffDimmHealth, ATemperatureThatMovesWithinBoundsIsNoEvent) {
  std::optional<DimmHealth> before = Healthy(), after = Healthy();
  after->temperature_mc = 41'000;
  after->controller_temperature_mc = 44'500;
  HealthChange c = DiffDimmHealth("nmem0", &before, after);
  EXPECT_FALSE(c.event);
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_TRUE(c.notices.empty());
}

TEST(DiffDimmHealth, AWorseStateWarnsABetterOneIsANotice) {
  std::optional<DimmHealth> ok = Healthy(), crit = Healthy();
  crit->health_state = "critical";
  HealthChange c = DiffDimmHealth("nmem0", &ok, crit);
  ASSERT_TRUE(c.event);
  EXPECT_EQ(c.event->from, "ok");
  EXPECT_EQ(c.event->to, "critical");
  EXPECT_EQ(c.warnings, std::vector<std::string>{"nmem0: health critical (was ok)"});
  c = DiffDimmHealth("nmem0", &crit, ok);
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.notices, std::vector<std::string>{"nmem0: health ok (was critical)"});
}

TEST(DiffDimmHealth, AnUnsafeShutdownWarns) {
  std::optional<DimmHealth> before = Healthy(), after = Healthy();
  after->shutdown_count = 1;
  after->shutdown_state = "dirty";
  HealthChange c = DiffDimmHealth("nmem0", &before, after);
  ASSERT_TRUE(c.event);
  EXPECT_EQ(c.event->detail["changed"], nlohmann::json({"shutdown_count", "shutdown_state"}));
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("unsafe shutdown count rose from 0 to 1"), std::string::npos);
}

TEST(DiffDimmHealth, AFailedCommandIsUnknownAndADimmWithoutSmartIsUnsupported) {
  std::optional<DimmHealth> ok = Healthy(), unknown = DimmHealth{}, none;
  HealthChange c = DiffDimmHealth("nmem0", &ok, unknown);
  ASSERT_TRUE(c.event);
  EXPECT_EQ(c.event->to, "unknown");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("SMART health command failed"), std::string::npos);
  c = DiffDimmHealth("nmem0", &none, none);
  EXPECT_FALSE(c.event);
  c = DiffDimmHealth("nmem0", nullptr, none);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(DiffBadblocks, AppearingAndClearingAreEventsWithTheCountsAsStates) {
  BadblockState none{"region0", 0, {}}, some{"region0", 8, {{16, 8}}};
  HealthChange c = DiffBadblocks("namespace0.0", &none, some, false);
  ASSERT_TRUE(c.event);
  EXPECT_EQ(c.event->kind, "badblocks");
  EXPECT_EQ(c.event->from, "0");
  EXPECT_EQ(c.event->to, "8");
  EXPECT_EQ(c.event->detail["region"], "region0");
  EXPECT_EQ(c.event->detail["badblocks"], nlohmann::json::parse(R"([{"offset":16,"length":8}])"));
  EXPECT_EQ(c.warnings.size(), 1u);
  c = DiffBadblocks("namespace0.0", &some, none, false);
  ASSERT_TRUE(c.event);
  EXPECT_EQ(c.event->to, "0");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.notices.size(), 1u);
  EXPECT_FALSE(DiffBadblocks("region0", &some, some, false).event);
}

TEST(DiffBadblocks, TheFirstReadingWarnsOfBadBlocksWithoutAnEvent) {
  BadblockState some{"region0", 8, {{16, 8}}};
  HealthChange c = DiffBadblocks("region0", nullptr, some, true);
  EXPECT_FALSE(c.event);
  EXPECT_EQ(c.warnings, std::vector<std::string>{"region0 has 8 bad blocks (512-byte sectors)"});
  EXPECT_TRUE(DiffBadblocks("namespace0.3", nullptr, some, false).warnings.empty());
}

}  // namespace
}  // namespace pmemd
