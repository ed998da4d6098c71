#include "pmemd/progress.h"

#include <vector>

#include <gtest/gtest.h>

namespace pmemd {
namespace {

// The `done` values the limiter admits from 0, 1, ..., total of one stage.
std::vector<uint64_t> AdmittedOfWalk(ProgressLimiter& limiter, std::string_view stage, uint64_t total) {
  std::vector<uint64_t> out;
  for (uint64_t d = 0; d <= total; ++d)
    if (limiter.Admit({stage, d, total, "blocks"})) out.push_back(d);
  return out;
}

TEST(ProgressLimiterTest, AWalkOfTenThousandIsCutToOneReportPerPercentEndingAtTotal) {
  ProgressLimiter limiter(100);
  std::vector<uint64_t> got = AdmittedOfWalk(limiter, "online", 10000);
  ASSERT_EQ(got.size(), 101u) << "the first, then one per 100 blocks";
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], i * 100);
  EXPECT_EQ(got.back(), 10000u);
}

TEST(ProgressLimiterTest, TheCompletingReportIsAlwaysAdmittedEvenInsideAStride) {
  ProgressLimiter limiter(100);
  ASSERT_TRUE(limiter.Admit({"online", 0, 1050, "blocks"}));
  ASSERT_TRUE(limiter.Admit({"online", 1045, 1050, "blocks"}));
  EXPECT_FALSE(limiter.Admit({"online", 1049, 1050, "blocks"})) << "4 past the last, the stride is 10";
  EXPECT_TRUE(limiter.Admit({"online", 1050, 1050, "blocks"})) << "done == total ends the stage";
}

TEST(ProgressLimiterTest, SmallTotalsReportEveryStep) {
  ProgressLimiter limiter(100);
  std::vector<uint64_t> got = AdmittedOfWalk(limiter, "online", 5);
  EXPECT_EQ(got, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
}

TEST(ProgressLimiterTest, RepeatsAndStepsBackAreHeldBack) {
  ProgressLimiter limiter(2);
  ASSERT_TRUE(limiter.Admit({"render", 0, 10, "blocks"}));
  ASSERT_TRUE(limiter.Admit({"render", 5, 10, "blocks"}));
  EXPECT_FALSE(limiter.Admit({"render", 5, 10, "blocks"}));
  EXPECT_FALSE(limiter.Admit({"render", 3, 10, "blocks"}));
  EXPECT_TRUE(limiter.Admit({"render", 10, 10, "blocks"}));
  EXPECT_FALSE(limiter.Admit({"render", 10, 10, "blocks"})) << "the end is sent once";
}

TEST(ProgressLimiterTest, ANewStageStartsAfresh) {
  ProgressLimiter limiter(100);
  AdmittedOfWalk(limiter, "isolate", 1000);
  EXPECT_TRUE(limiter.Admit({"offline", 0, 1000, "blocks"})) << "the first report of the next stage";
  EXPECT_FALSE(limiter.Admit({"offline", 1, 1000, "blocks"}));
  EXPECT_TRUE(limiter.Admit({"offline", 10, 1000, "blocks"}));
}

TEST(ProgressLimiterTest, ReportProgressCallsOnlyASetFunction) {
  std::vector<ProgressStep> seen;
  ReportProgress({}, "online", 1, 2, "blocks");  // nobody listens: nothing happens
  ReportProgress([&](const ProgressStep& s) { seen.push_back(s); }, "online", 1, 2, "blocks");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].stage, "online");
  EXPECT_EQ(seen[0].done, 1u);
  EXPECT_EQ(seen[0].total, 2u);
  EXPECT_EQ(seen[0].unit, "blocks");
}

}  // namespace
}  // namespace pmemd
