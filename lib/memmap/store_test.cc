#include "memmap/store.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "pmemd/memmap_store.h"

namespace pmemd {
namespace {

struct alignas(64) Line {
  std::uint64_t w[8];
};

const StoreWidth kWidths[] = {StoreWidth::kPortable, StoreWidth::kSse2, StoreWidth::kAvx2,
                              StoreWidth::kAvx512};

TEST(StoreWidthTest, NamesRoundTripAndUnknownIsExplained) {
  for (StoreWidth w : {StoreWidth::kAuto, StoreWidth::kPortable, StoreWidth::kSse2,
                       StoreWidth::kAvx2, StoreWidth::kAvx512}) {
    auto parsed = ParseStoreWidth(StoreWidthName(w));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, w);
  }
  auto bad = ParseStoreWidth("avx1024");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown store width 'avx1024'; expected one of: auto, portable, sse2, avx2, avx512");
}

TEST(StoreWidthTest, DetectionPicksASupportedConcreteWidth) {
  StoreWidth w = DetectStoreWidth();
  EXPECT_NE(w, StoreWidth::kAuto);
  EXPECT_TRUE(StoreWidthSupported(w));
  auto resolved = ResolveStoreWidth(StoreWidth::kAuto);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(*resolved, w);
#if defined(__x86_64__)
  EXPECT_TRUE(StoreWidthSupported(StoreWidth::kSse2));  // part of x86-64
#endif
}

// One test per store width, so that a width the CPU lacks shows up as a
// skipped test (scripts/skip-allowlist) rather than passing having done
// nothing.
class EveryWidth : public ::testing::TestWithParam<StoreWidth> {
 protected:
  void SetUp() override {
    if (!StoreWidthSupported(GetParam()))
      GTEST_SKIP() << "this CPU has no " << StoreWidthName(GetParam()) << " stores";
  }
};

TEST_P(EveryWidth, StreamFillFillsExactlyTheRange) {
  const StoreWidth w = GetParam();
  std::vector<Line> buf(13);
  std::memset(buf.data(), 0, buf.size() * sizeof(Line));
  ASSERT_TRUE(StreamFill(&buf[1], 11 * 64, 0x0123456789abcdefULL, w).ok());
  for (std::size_t i = 0; i < buf.size(); ++i) {
    for (std::uint64_t word : buf[i].w) {
      ASSERT_EQ(word, (i == 0 || i == 12) ? 0u : 0x0123456789abcdefULL) << StoreWidthName(w);
    }
  }
}

TEST(StreamFillTest, RejectsMisalignedOrPartialLines) {
  std::vector<Line> buf(2);
  Status s = StreamFill(reinterpret_cast<char*>(buf.data()) + 8, 64, 1);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("64-byte aligned"), std::string::npos);
  EXPECT_EQ(StreamFill(buf.data(), 65, 1).code(), Code::kInvalidArgument);
  EXPECT_TRUE(StreamFill(buf.data(), 0, 1).ok());
}

TEST_P(EveryWidth, DescriptorFillAdvancesIndexAndPfnOnly) {
  const std::uint64_t first[8] = {0xf1, 0xf2, 0xf3, 0xf4, 100, 0xf6, 0xf7, 5000};
  const StoreWidth w = GetParam();
  const auto& ops = memmap_internal::GetStoreOps(w);
  EXPECT_EQ(ops.width, w);
  EXPECT_EQ(ops.streaming, w != StoreWidth::kPortable);
  std::vector<Line> buf(9);
  std::memset(buf.data(), 0, buf.size() * sizeof(Line));
  ops.fill_desc(buf.data(), 7, first);
  ops.fence();
  for (std::uint64_t i = 0; i < 7; ++i) {
    const std::uint64_t expect[8] = {0xf1, 0xf2, 0xf3, 0xf4, 100 + i, 0xf6, 0xf7, 5000 + i};
    ASSERT_EQ(0, std::memcmp(buf[i].w, expect, 64)) << StoreWidthName(w) << " line " << i;
  }
  EXPECT_EQ(buf[7].w[0], 0u);
}

INSTANTIATE_TEST_SUITE_P(StoreWidths, EveryWidth, ::testing::ValuesIn(kWidths),
                         [](const ::testing::TestParamInfo<StoreWidth>& i) {
                           return std::string(StoreWidthName(i.param));
                         });

}  // namespace
}  // namespace pmemd
