#include "pmemd/size.h"

#include <gtest/gtest.h>

namespace pmemd {
namespace {

TEST(SizeTest, SizesWithSuffixes) {
  EXPECT_EQ(*ParseSize("4096"), 4096u);
  EXPECT_EQ(*ParseSize("2M"), 2u << 20);
  EXPECT_EQ(*ParseSize("1G"), 1u << 30);
  EXPECT_EQ(*ParseSize("1GiB"), 1u << 30);
  EXPECT_EQ(*ParseSize("16m"), 16u << 20);
  EXPECT_EQ(*ParseSize("2T"), 2ull << 40);
  for (const char* bad : {"", "G", "1.5G", "4X", "-1", "99999999999999999999", "17179869184T"})
    EXPECT_FALSE(ParseSize(bad).ok()) << bad;
  EXPECT_NE(ParseSize("1.5G").status().message().find("e.g. 4G"), std::string::npos);
}

TEST(SizeTest, DecimalsAreDigitsOnlyUpToTheirBound) {
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("65534"), 65534u);
  EXPECT_EQ(ParseDecimal("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseDecimal("18446744073709551616"), std::nullopt);
  EXPECT_EQ(ParseDecimal("4294967295", 0xffffffffu), 0xffffffffu);
  EXPECT_EQ(ParseDecimal("4294967296", 0xffffffffu), std::nullopt);
  EXPECT_EQ(ParseDecimal("86400", 86400), 86400u);
  EXPECT_EQ(ParseDecimal("86401", 86400), std::nullopt);
  EXPECT_EQ(ParseDecimal("7", 5), std::nullopt);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1K", "0x10", "nobody"})
    EXPECT_EQ(ParseDecimal(bad), std::nullopt) << bad;
}

TEST(SizeTest, FormatSizeIsTheExactInverseOfParseSize) {
  EXPECT_EQ(FormatSize(0), "0");
  EXPECT_EQ(FormatSize(4097), "4097");
  EXPECT_EQ(FormatSize(4096), "4K");
  EXPECT_EQ(FormatSize(2u << 20), "2M");
  EXPECT_EQ(FormatSize(1536u << 20), "1536M");
  EXPECT_EQ(FormatSize(3ull << 40), "3T");
  EXPECT_EQ(FormatSize(1ull << 50), "1024T");
  for (uint64_t v : {1ull, 4096ull, 12345ull << 20, 7ull << 30, 5ull << 40})
    EXPECT_EQ(*ParseSize(FormatSize(v)), v) << v;
}

TEST(SizeTest, HumanSizesHaveTwoDecimalsInBinaryUnits) {
  EXPECT_EQ(HumanSize(0), "0 B");
  EXPECT_EQ(HumanSize(512), "512 B");
  EXPECT_EQ(HumanSize(16ull << 20), "16.00 MiB");
  EXPECT_EQ(HumanSize(0x7ffe0000), "2.00 GiB");
  EXPECT_EQ(HumanSize(1536ull << 20), "1.50 GiB");
}

TEST(SizeTest, AlignUpAndDownToAnyNonZeroAlignment) {
  static_assert(AlignUp(0, 4096) == 0 && AlignUp(1, 4096) == 4096 && AlignUp(4096, 4096) == 4096);
  static_assert(AlignDown(8191, 4096) == 4096 && AlignUp(10, 3) == 12 && AlignDown(10, 3) == 9);
  static_assert(IsPow2(1) && IsPow2(2u << 20) && !IsPow2(0) && !IsPow2(3 << 20));
}

}  // namespace
}  // namespace pmemd
