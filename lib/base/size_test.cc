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

}  // namespace
}  // namespace pmemd
