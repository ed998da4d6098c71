#include "pmemd/log_limiter.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace pmemd {
namespace {

using std::chrono::seconds;

TEST(LogLimiterTest, FirstEventPerKeyIsLoggedThenSuppressedUntilTheIntervalPasses) {
  LogLimiter limiter(seconds(10));
  LogLimiter::Clock::time_point t0{};
  ASSERT_EQ(limiter.Admit(1000, t0), 0u);
  EXPECT_EQ(limiter.Admit(1000, t0 + seconds(1)), std::nullopt);
  EXPECT_EQ(limiter.Admit(1000, t0 + seconds(9)), std::nullopt);
  EXPECT_EQ(limiter.Admit(1000, t0 + seconds(10)), 2u) << "the next line reports what was held back";
  EXPECT_EQ(limiter.Admit(1000, t0 + seconds(11)), std::nullopt);
  EXPECT_EQ(limiter.Admit(1000, t0 + seconds(30)), 1u);
  EXPECT_EQ(limiter.Admit(1000, t0 + seconds(41)), 0u);
}

TEST(LogLimiterTest, KeysAreLimitedIndependently) {
  LogLimiter limiter(seconds(10));
  LogLimiter::Clock::time_point t0{};
  EXPECT_EQ(limiter.Admit(1, t0), 0u);
  EXPECT_EQ(limiter.Admit(2, t0), 0u);
  EXPECT_EQ(limiter.Admit(1, t0), std::nullopt);
  EXPECT_EQ(limiter.Admit(3, t0), 0u);
}

TEST(LogLimiterTest, PruningManyKeysNeverLosesASuppressedCount) {
  LogLimiter limiter(seconds(10));
  LogLimiter::Clock::time_point t0{};
  ASSERT_EQ(limiter.Admit(7, t0), 0u);
  ASSERT_EQ(limiter.Admit(7, t0), std::nullopt);
  for (uint64_t k = 100; k < 3000; ++k) ASSERT_EQ(limiter.Admit(k, t0 + seconds(20)), 0u);
  EXPECT_EQ(limiter.Admit(7, t0 + seconds(20)), 1u);
}

TEST(LogLimiterTest, ConcurrentCallersLogExactlyOncePerKeyAndCountTheRest) {
  LogLimiter limiter(seconds(3600));
  std::atomic<int> logged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (limiter.Admit(42)) ++logged;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(logged.load(), 1);
}

TEST(LogLimiterTest, SuppressedNoteIsEmptyForZeroAndNamesCountAndInterval) {
  EXPECT_EQ(SuppressedNote(0, seconds(10)), "");
  EXPECT_EQ(SuppressedNote(523, seconds(10)), " (523 more like it suppressed in the last 10 s)");
}

}  // namespace
}  // namespace pmemd
