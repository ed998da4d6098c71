#include "pmemd/options.h"

#include <gtest/gtest.h>

namespace pmemd {
namespace {

const std::vector<OptionSpec> kSpecs = {
    {'r', "region", "region", ArgKind::kRegion, "the region", "R", {}, true},
    {'s', "size", "size", ArgKind::kSize, "the size"},
    {'m', "mode", "mode", ArgKind::kText, "the mode", "", {"fsdax", "devdax"}},
    {'N', "namespaces", "namespaces", ArgKind::kNone, "namespaces"},
    {'R', "regions", "regions", ArgKind::kNone, "regions"},
    {0, "dry-run", "dry_run", ArgKind::kNone, "plan only"},
    {0, "label", "label", ArgKind::kText, "a label", "K=V"},
    {0, "secret", "secret", ArgKind::kNone, "hidden", "", {}, false, true},
};

ParsedOptions Parse(std::vector<std::string> args, PositionalMode mode = PositionalMode::kAnywhere) {
  auto p = ParseOptions(kSpecs, args, mode);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : ParsedOptions{};
}

std::string Error(std::vector<std::string> args) {
  auto p = ParseOptions(kSpecs, args);
  EXPECT_FALSE(p.ok());
  return p.ok() ? "" : p.status().message();
}

TEST(OptionsTest, EverySpellingOfAValueMeansTheSame) {
  for (std::vector<std::string> args : {std::vector<std::string>{"-r0"}, {"-r", "0"}, {"--region=0"},
                                        {"--region", "0"}}) {
    ParsedOptions p = Parse(args);
    EXPECT_EQ(p.Get("region"), "0") << args[0];
    EXPECT_TRUE(p.positional.empty());
  }
}

TEST(OptionsTest, CombinedShortSwitchesAndAValueAtTheEnd) {
  ParsedOptions p = Parse({"-NRr1", "-s16M"});
  EXPECT_TRUE(p.switches.count("namespaces"));
  EXPECT_TRUE(p.switches.count("regions"));
  EXPECT_EQ(p.Get("region"), "1");
  EXPECT_EQ(p.Get("size"), "16M");
}

TEST(OptionsTest, PositionalsMixWithOptionsInOrderAndDashDashEndsOptions) {
  ParsedOptions p = Parse({"a", "--dry-run", "b", "-s", "1G", "--", "-c", "--size"});
  EXPECT_EQ(p.positional, (std::vector<std::string>{"a", "b", "-c", "--size"}));
  EXPECT_TRUE(p.switches.count("dry_run"));
  EXPECT_EQ(p.Get("size"), "1G");
  EXPECT_EQ(Parse({"-"}).positional, std::vector<std::string>{"-"});
}

TEST(OptionsTest, StopAtFirstLeavesTheRestUntouched) {
  ParsedOptions p = Parse({"-N", "verb", "-R", "--bogus", "x"}, PositionalMode::kStopAtFirst);
  EXPECT_TRUE(p.switches.count("namespaces"));
  EXPECT_FALSE(p.switches.count("regions"));
  EXPECT_EQ(p.positional, (std::vector<std::string>{"verb", "-R", "--bogus", "x"}));
}

TEST(OptionsTest, RepeatedValuesAreKeptInOrder) {
  ParsedOptions p = Parse({"--label", "a=1", "--label=b=2", "-s1M", "-s2M"});
  EXPECT_EQ(p.values["label"], (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(p.Get("size"), "2M");
  EXPECT_EQ(p.Get("absent"), "");
}

TEST(OptionsTest, ErrorsNameTheOptionAsGivenAndWhatItNeeds) {
  EXPECT_EQ(Error({"--bogus"}), "unknown option '--bogus'");
  EXPECT_EQ(Error({"--bogus=1"}), "unknown option '--bogus'");
  EXPECT_EQ(Error({"--reg=0"}), "option '--reg' is ambiguous: --region, --regions");
  EXPECT_EQ(Parse({"--si=1M"}).Get("size"), "1M");  // an unambiguous abbreviation, as getopt_long allows
  EXPECT_EQ(Error({"-x"}), "unknown option '-x'");
  EXPECT_EQ(Error({"-Nx"}), "unknown option '-x'");
  EXPECT_EQ(Error({"--size"}), "option '--size' needs a value (SIZE)");
  EXPECT_EQ(Error({"-s"}), "option '--size' needs a value (SIZE)");
  EXPECT_EQ(Error({"--dry-run=yes"}), "option '--dry-run' takes no value");
  EXPECT_EQ(Error({"--namespaces=1"}), "option '--namespaces' takes no value");
  // Choices are for help and completion; the value's owner checks it.
  EXPECT_EQ(Parse({"--mode=sector"}).Get("mode"), "sector");
  // Parsing twice starts afresh (getopt's state is reset).
  EXPECT_EQ(Parse({"-N"}).switches.size(), 1u);
  EXPECT_EQ(Parse({"-N"}).switches.size(), 1u);
}

TEST(OptionsTest, HelpAndSynopsisShowVisibleOptions) {
  std::string help = OptionHelp(kSpecs);
  EXPECT_NE(help.find("  -r, --region=R"), std::string::npos) << help;
  EXPECT_NE(help.find("      --dry-run"), std::string::npos) << help;
  EXPECT_NE(help.find("--mode=fsdax|devdax"), std::string::npos) << help;
  EXPECT_EQ(help.find("secret"), std::string::npos) << help;
  EXPECT_EQ(OptionSynopsis(kSpecs), "--region R [options]");
}

}  // namespace
}  // namespace pmemd
