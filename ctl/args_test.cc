#include "args.h"

#include <gtest/gtest.h>

namespace pmemctl {
namespace {

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
