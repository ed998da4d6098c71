#include "args.h"

#include <gtest/gtest.h>

namespace pmemctl {
namespace {

TEST(ArgsTest, SizesWithSuffixes) {
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

TEST(ArgsTest, FlagsSwitchesAndPositionals) {
  auto p = ParseArgs({"namespace0.0", "-m", "devdax", "--size=1G", "-f"}, {{"-m", "mode"}, {"--size", "size"}},
                     {{"-f", "force"}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->positional, std::vector<std::string>{"namespace0.0"});
  EXPECT_EQ(p->values["mode"], "devdax");
  EXPECT_EQ(p->values["size"], "1G");
  EXPECT_TRUE(p->switches.count("force"));
  EXPECT_FALSE(ParseArgs({"--bogus"}, {}, {}).ok());
  EXPECT_NE(ParseArgs({"-m"}, {{"-m", "mode"}}, {}).status().message().find("needs a value"), std::string::npos);
}

}  // namespace
}  // namespace pmemctl
