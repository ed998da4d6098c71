// The HealthMonitor over the emulated platform: injected health and bad
// blocks become events, the last reading and warnings; the platform's
// notification wakes the watcher without waiting for the interval.
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "pmemd/emulated_platform.h"
#include "pmemd/health.h"
#include "pmemd/log.h"
#include "support/temp_dir.h"

namespace pmemd {
namespace {

constexpr auto kBound = std::chrono::seconds(30);  // a bound for a broken watcher, never a synchronization

class HealthMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EmulatedConfig c;
    c.regions = {EmulatedRegionConfig{.size = 1ull << 30},
                 EmulatedRegionConfig{.size = 512ull << 20, .labels = false}};  // nmem1: no SMART
    auto p = NewEmulatedPlatform(c, tmp_.path(), &bus_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    platform_ = std::move(*p);
    sub_ = bus_.Subscribe([this](const Event& e) {
      MutexLock lock(mu_);
      events_.push_back(e);
      cv_.NotifyAll();
    });
    log_ = GetLogger("health");
    log_->sinks().push_back(std::make_shared<spdlog::sinks::ostream_sink_mt>(captured_));
  }
  void TearDown() override { log_->sinks().pop_back(); }

  std::vector<Event> Events() {
    MutexLock lock(mu_);
    return events_;
  }
  // Waits for an event of `kind`; the bound only stops a broken test.
  std::optional<Event> WaitFor(const std::string& kind) {
    MutexLock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + kBound;
    for (;;) {
      for (const Event& e : events_)
        if (e.kind == kind) return e;
      if (!cv_.WaitUntil(mu_, deadline)) return std::nullopt;
    }
  }
  Status SetTemperature(int64_t mc) {
    return platform_
        ->InjectHealth("nmem0", false,
                       [mc](DimmHealth* h) {
                         h->temperature_mc = mc;
                         return Status::Ok();
                       })
        .status();
  }

  pmemd::testing::TempDir tmp_{"pmemd-health-test"};
  EventBus bus_;
  std::unique_ptr<EmulatedPlatform> platform_;
  EventBus::Subscription sub_;
  Mutex mu_;
  CondVar cv_;
  std::vector<Event> events_ GUARDED_BY(mu_);
  std::ostringstream captured_;
  std::shared_ptr<spdlog::logger> log_;
};

TEST_F(HealthMonitorTest, TheFirstReadingIsThereAtOnceWithUnsupportedDimmsAsNone) {
  HealthMonitor m(platform_.get(), &bus_, {.watch = false});
  HealthReading r = m.Latest();
  EXPECT_EQ(r.polls, 1u);
  ASSERT_EQ(r.dimms.size(), 2u);
  ASSERT_TRUE(r.dimms["nmem0"]);
  EXPECT_EQ(r.dimms["nmem0"]->health_state, "ok");
  EXPECT_EQ(r.dimms["nmem0"]->temperature_mc, 30'000);
  EXPECT_FALSE(r.dimms["nmem1"]) << "a label-less region's DIMM has no SMART";
  EXPECT_TRUE(Events().empty()) << "the first reading publishes nothing";
}

TEST_F(HealthMonitorTest, AThresholdCrossedIsAnEventAWarningAndTheLatestReading) {
  HealthMonitor m(platform_.get(), &bus_, {.watch = false});
  ASSERT_TRUE(SetTemperature(88'000).ok());
  m.Poll();
  std::vector<Event> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, "dimm");
  EXPECT_EQ(ev[0].object, "nmem0");
  EXPECT_EQ(ev[0].detail["alarms"], nlohmann::json({"media_temperature"}));
  EXPECT_EQ(ev[0].detail["health"]["alarm_temperature"], true);
  EXPECT_EQ(m.Latest().dimms["nmem0"]->temperature_mc, 88'000);
  EXPECT_NE(captured_.str().find("[warning] nmem0: media temperature alarm: 88 C (threshold 85 C)"),
            std::string::npos)
      << captured_.str();
  m.Poll();
  EXPECT_EQ(Events().size(), 1u) << "nothing changed: no second event";
}

TEST_F(HealthMonitorTest, BadBlocksAppearingAndClearingAreEventsForTheRegionAndTheNamespaceOverThem) {
  ASSERT_TRUE(platform_->CreateNamespace({.region = "region0", .mode = "fsdax", .size = 256ull << 20}).ok());
  HealthMonitor m(platform_.get(), &bus_, {.watch = false});
  const size_t before = Events().size();
  ASSERT_TRUE(platform_->InjectBadblocks("region0", 1 << 20, 4096, false).ok());
  m.Poll();
  std::vector<Event> ev = Events();
  ev.erase(ev.begin(), ev.begin() + before);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, "badblocks");
  EXPECT_EQ(ev[0].object, "namespace0.0");
  EXPECT_EQ(ev[0].from, "0");
  EXPECT_EQ(ev[0].to, "8");
  EXPECT_EQ(ev[1].object, "region0");
  EXPECT_EQ(ev[1].detail["badblocks"], nlohmann::json::parse(R"([{"offset":2048,"length":8}])"));
  ASSERT_TRUE(platform_->InjectBadblocks("region0", 1 << 20, 4096, true).ok());
  m.Poll();
  ev = Events();
  ASSERT_EQ(ev.size(), before + 4);
  EXPECT_EQ(ev.back().object, "region0");
  EXPECT_EQ(ev.back().from, "8");
  EXPECT_EQ(ev.back().to, "0");
}

TEST_F(HealthMonitorTest, TheWatcherWakesOnThePlatformsNotificationNotTheInterval) {
  HealthMonitor m(platform_.get(), &bus_, {.interval = std::chrono::hours(1)});
  auto h = platform_->InjectHealth("nmem0", false, [](DimmHealth* d) {
    d->health_state = "critical";
    return Status::Ok();
  });
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  std::optional<Event> e = WaitFor("dimm");
  ASSERT_TRUE(e) << "no dimm event although the interval is an hour: the notification did not wake the watcher";
  EXPECT_EQ(e->from, "ok");
  EXPECT_EQ(e->to, "critical");
}

TEST_F(HealthMonitorTest, InjectionsAreCheckedAndKeptAcrossARestart) {
  auto bad = platform_->InjectHealth("nmem0", false, [](DimmHealth* d) {
    d->spares_percentage = 150;
    return Status::Ok();
  });
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(platform_->InjectHealth("nmem1", false, [](DimmHealth*) { return Status::Ok(); }).status().code(),
            Code::kUnsupported);
  EXPECT_EQ(platform_->InjectHealth("nmem7", false, [](DimmHealth*) { return Status::Ok(); }).status().code(),
            Code::kNotFound);
  ASSERT_TRUE(SetTemperature(50'000).ok());
  EmulatedConfig c;
  c.regions = {EmulatedRegionConfig{.size = 1ull << 30},
               EmulatedRegionConfig{.size = 512ull << 20, .labels = false}};
  platform_.reset();
  auto again = NewEmulatedPlatform(c, tmp_.path(), nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto health = (*again)->ReadDimmHealth();
  ASSERT_TRUE(health.ok());
  EXPECT_EQ((*health)["nmem0"]->temperature_mc, 50'000);
  auto cleared = (*again)->InjectHealth("nmem0", true, [](DimmHealth*) { return Status::Ok(); });
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared->temperature_mc, 30'000);
}

}  // namespace
}  // namespace pmemd
