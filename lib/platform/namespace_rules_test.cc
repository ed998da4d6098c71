#include "platform/namespace_rules.h"

#include <gtest/gtest.h>

#include "platform/kernel_oracle_testing.h"

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

// Raw sizes to sweep: multiples of the 16 MiB region alignment from small
// to beyond one BTT arena, with irregular steps.
std::vector<uint64_t> RawSizes() {
  std::vector<uint64_t> v;
  for (uint64_t s = 16 * kM; s <= 4 * kG; s += 16 * kM * 7) v.push_back(s);
  for (uint64_t s : {5 * kG, 64 * kG, 512 * kG, 512 * kG + 16 * kM, 1024 * kG + 32 * kM, 3000 * kG}) v.push_back(s);
  return v;
}

TEST(NamespaceRulesTest, PfnReservationIsWhatTheKernelKeepsBeforeTheData) {
  // Worked by hand from pfn_devs.c: 1 GiB map=dev at 2M: 8 KiB + 64 B x
  // 262142 pages = 16785280, up to 2 MiB: 18 MiB (measured: 1054867456 usable).
  EXPECT_EQ(PfnReservation(kG, 2 * kM, "dev"), 18 * kM);
  // 4K alignment still starts the data on 2 MiB (memremap_compat_align):
  // measured, map=mem over 256 MiB leaves 266338304 bytes.
  EXPECT_EQ(PfnReservation(256 * kM, 4096, "mem"), 256 * kM - 266338304);
  EXPECT_EQ(PfnReservation(kG, kG, "dev"), kG);
  // Everywhere else, the kernel_oracle formula (checked against the fixtures
  // in kernel_sizes_test.cc), at a 1 GiB-aligned physical start as the
  // planner requires for 1G alignment.
  for (uint64_t raw : RawSizes())
    for (uint64_t align : {uint64_t{4096}, 2 * kM, kG})
      for (const char* map : {"dev", "mem"}) {
        if (raw % align) continue;  // the planner asks for whole multiples
        SCOPED_TRACE(std::to_string(raw) + " bytes, align " + std::to_string(align) + ", map=" + map);
        auto usable = kernel_oracle::PfnUsable(4 * kG, raw, align, std::string(map) == "dev");
        NamespaceSpec s{.mode = "fsdax", .align = align, .map = map};
        if (!usable) {
          EXPECT_EQ(UsableSize(s, raw), 0u) << "the kernel refuses this";
          continue;
        }
        EXPECT_EQ(PfnReservation(raw, align, map), raw - *usable);
        EXPECT_EQ(UsableSize(s, raw), *usable);
        s.mode = "devdax";
        EXPECT_EQ(UsableSize(s, raw), *usable);
      }
}

TEST(NamespaceRulesTest, BttUsableSizeIsTheKernelsExternalBlocksTimesTheSectorSize) {
  // Measured on 6.1 (testdata/kernel_sizes_nvdimm_*.json).
  EXPECT_EQ(BttUsableSize(256 * kM, 4096), 267091968u);
  EXPECT_EQ(BttUsableSize(kG, 512), 1065254400u);
  // Several arenas, a last piece too small for one, every sector size: the
  // kernel_oracle formula.
  for (uint64_t raw : RawSizes())
    for (uint32_t sector : {512u, 520u, 528u, 4096u, 4104u, 4160u, 4224u}) {
      SCOPED_TRACE(std::to_string(raw) + " bytes, sector " + std::to_string(sector));
      EXPECT_EQ(BttUsableSize(raw, sector), kernel_oracle::BttUsable(raw, sector));
    }
  NamespaceSpec s{.mode = "sector", .sector_size = 512};
  EXPECT_EQ(UsableSize(s, 2 * kG), 2130672640u);  // measured
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

}  // namespace
}  // namespace pmemd
