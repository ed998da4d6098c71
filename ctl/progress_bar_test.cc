#include "progress_bar.h"

#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

namespace pmemctl {
namespace {

TEST(ProgressLineTest, ShowsTheShareDoneAsCellsThenTheCounts) {
  EXPECT_EQ(ProgressLine("online-blocks pool0", {"online", 512, 1024, "blocks"}, 10),
            "online-blocks pool0  [#####.....] 512/1024 blocks");
  EXPECT_EQ(ProgressLine("online-blocks pool0", {"online", 0, 1024, "blocks"}, 10),
            "online-blocks pool0  [..........] 0/1024 blocks");
  EXPECT_EQ(ProgressLine("online-blocks pool0", {"online", 1024, 1024, "blocks"}, 10),
            "online-blocks pool0  [##########] 1024/1024 blocks");
}

TEST(ProgressLineTest, AStageThatIsNotTheVerbsOwnIsNamed) {
  EXPECT_EQ(ProgressLine("offline-blocks p0", {"isolate", 1, 4, "blocks"}, 4),
            "offline-blocks p0  [#...] 1/4 blocks (isolate)");
  EXPECT_EQ(ProgressLine("offline-blocks p0", {"offline", 1, 4, "blocks"}, 4),
            "offline-blocks p0  [#...] 1/4 blocks");
  EXPECT_EQ(ProgressLine("attach-pool p0", {"memmap", 0, 8, "pages"}, 4), "attach-pool p0  [....] 0/8 pages (memmap)");
}

TEST(ProgressLineTest, AnEmptyOrOvershootingStageIsAFullBarNeverAnOverflow) {
  EXPECT_EQ(ProgressLine("x", {"s", 0, 0, ""}, 4), "x  [####] 0/0 (s)");
  EXPECT_EQ(ProgressLine("x", {"s", 9, 4, ""}, 4), "x  [####] 9/4 (s)");
}

TEST(ProgressBarTest, RedrawsInPlaceAndLeavesNothingBehind) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = ::open_memstream(&buf, &len);
  ASSERT_NE(out, nullptr);
  {
    ProgressBar bar(out, "online-blocks p0");
    bar.Update({"online", 1, 2, "blocks"});
    bar.Update({"online", 2, 2, "blocks"});
  }
  std::fclose(out);
  const std::string got(buf, len);
  std::free(buf);
  EXPECT_EQ(got, "\r\033[Konline-blocks p0  [##########..........] 1/2 blocks"
                 "\r\033[Konline-blocks p0  [####################] 2/2 blocks"
                 "\r\033[K");
}

TEST(ProgressBarTest, ABarNeverDrawnWritesNothing) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = ::open_memstream(&buf, &len);
  ASSERT_NE(out, nullptr);
  { ProgressBar bar(out, "attach-pool p0"); }
  std::fclose(out);
  EXPECT_EQ(len, 0u);
  std::free(buf);
}

}  // namespace
}  // namespace pmemctl
