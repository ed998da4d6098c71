#include "platform/namespace_rules.h"

#include <gtest/gtest.h>

namespace pmemd {
namespace {

constexpr uint64_t kM = 1ull << 20, kG = 1ull << 30;

TEST(NamespaceRulesTest, DefaultsFollowNdctl) {
  NamespaceSpec s;
  ASSERT_TRUE(NormalizeSpec(&s).ok());
  EXPECT_EQ(s.map, "dev");
  EXPECT_EQ(s.align, 2 * kM);
  EXPECT_EQ(s.sector_size, 512u);
  NamespaceSpec d{.mode = "devdax"};
  ASSERT_TRUE(NormalizeSpec(&d).ok());
  EXPECT_FALSE(d.sector_size);
  NamespaceSpec b{.mode = "sector"};
  ASSERT_TRUE(NormalizeSpec(&b).ok());
  EXPECT_EQ(b.sector_size, 4096u);
  EXPECT_FALSE(b.map);
}

TEST(NamespaceRulesTest, BadCombinationsNameTheFix) {
  NamespaceSpec s{.mode = "fdsax"};
  EXPECT_NE(NormalizeSpec(&s).message().find("use fsdax, devdax, sector or raw"), std::string::npos);
  s = {.mode = "devdax", .align = 3 * kM};
  EXPECT_NE(NormalizeSpec(&s).message().find("2097152 (2M)"), std::string::npos);
  s = {.mode = "raw", .align = 2 * kM};
  EXPECT_NE(NormalizeSpec(&s).message().find("align applies to fsdax and devdax"), std::string::npos);
  s = {.mode = "sector", .sector_size = 1000};
  EXPECT_FALSE(NormalizeSpec(&s).ok());
  s = {.mode = "fsdax", .map = "disk"};
  EXPECT_FALSE(NormalizeSpec(&s).ok());
  s = {.uuid = "not-a-uuid"};
  EXPECT_NE(NormalizeSpec(&s).message().find("not a uuid"), std::string::npos);
  s = {.name = std::string(64, 'n')};
  EXPECT_NE(NormalizeSpec(&s).message().find("at most 63"), std::string::npos);
  s = {.size = 0};
  EXPECT_FALSE(NormalizeSpec(&s).ok());
}

TEST(NamespaceRulesTest, PfnReservationMatchesTheKernelFormula) {
  // 1 GiB map=dev, 2 MiB align: 8 KiB + 64 B x 262142 pages = 16785408,
  // rounded up to 2 MiB: 18 MiB.
  EXPECT_EQ(PfnReservation(kG, 2 * kM, "dev"), 18 * kM);
  // map=mem keeps only the info block, aligned.
  EXPECT_EQ(PfnReservation(kG, 2 * kM, "mem"), 2 * kM);
  EXPECT_EQ(PfnReservation(kG, 4096, "mem"), 8192u);
  EXPECT_EQ(PfnReservation(kG, kG, "dev"), kG);
  NamespaceSpec s{.mode = "fsdax"};
  ASSERT_TRUE(NormalizeSpec(&s).ok());
  EXPECT_EQ(UsableSize(s, 4 * kG), 4 * kG - PfnReservation(4 * kG, 2 * kM, "dev"));
  // The reservation is 1/64 of the namespace, give or take alignment.
  EXPECT_NEAR(static_cast<double>(PfnReservation(64 * kG, 2 * kM, "dev")), 64.0 * kG / 64, 2.0 * kM);
}

TEST(NamespaceRulesTest, BttLeavesMostOfTheSpace) {
  uint64_t u = BttUsableSize(kG, 4096);
  EXPECT_LT(u, kG);
  EXPECT_GT(u, kG - 8 * kM);
  EXPECT_EQ(u % 4096, 0u);
  EXPECT_LT(BttUsableSize(kG, 512), u + 1);
}

TEST(NamespaceRulesTest, ChooseExtentFirstFitAndLargest) {
  std::vector<std::pair<uint64_t, uint64_t>> free = {{0, 256 * kM}, {512 * kM, 512 * kM}};
  auto a = ChooseExtent(free, 4 * kG, 128 * kM, 16 * kM, 16 * kM, "region0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->offset, 0u);
  auto b = ChooseExtent(free, 4 * kG, 300 * kM + 4 * kM, 16 * kM, 16 * kM, "region0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->offset, 512 * kM);
  auto c = ChooseExtent(free, 4 * kG, std::nullopt, 16 * kM, 16 * kM, "region0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->offset, 512 * kM);
  EXPECT_EQ(c->size, 512 * kM);
}

TEST(NamespaceRulesTest, ChooseExtentExplainsMisalignedAndTooBig) {
  std::vector<std::pair<uint64_t, uint64_t>> free = {{0, kG}};
  auto a = ChooseExtent(free, 4 * kG, 100 * kM, 16 * kM, 16 * kM, "region0");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("not a multiple of 16777216 (16M)"), std::string::npos);
  EXPECT_NE(a.status().message().find("use 100663296 or 117440512"), std::string::npos) << a.status().message();
  auto b = ChooseExtent(free, 4 * kG, 2 * kG, 16 * kM, 16 * kM, "region0");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Code::kNoSpace);
  EXPECT_NE(b.status().message().find("ask for at most 1073741824"), std::string::npos) << b.status().message();
}

TEST(NamespaceRulesTest, OneGigAlignmentNeedsAnAlignedStart) {
  // Free [256M, 1G+256M) of a region at physical 4G: only [1G, 1G+256M) is
  // 1G-aligned, too small for 1G.
  std::vector<std::pair<uint64_t, uint64_t>> free = {{256 * kM, kG}};
  auto a = ChooseExtent(free, 4 * kG, kG, kG, kG, "region0");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("boundary"), std::string::npos);
  free = {{256 * kM, 2 * kG}};
  auto b = ChooseExtent(free, 4 * kG, kG, kG, kG, "region0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->offset, kG);
}

TEST(NamespaceRulesTest, UuidsAreVersion4AndValidated) {
  std::string u = NewUuid();
  EXPECT_TRUE(IsUuid(u)) << u;
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(NewUuid(), u);
  EXPECT_FALSE(IsUuid("0123"));
  EXPECT_FALSE(IsUuid("01234567-89ab-cdef-0123-456789abcdeg"));
}

}  // namespace
}  // namespace pmemd
