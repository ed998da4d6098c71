// The generated pages hold every command, option and key of the tables
// they come from (the build renders them; man_renders_* checks groff).
#include "man/docgen.h"

#include <gtest/gtest.h>

#include "ctl/cli.h"
#include "pmemd/config_schema.h"
#include "pmemd/daemon.h"

namespace pmemd::docgen {
namespace {

// How a literal looks in roff source: minus signs as \-.
std::string Roff(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

void ExpectOptions(const std::string& page, const std::vector<OptionSpec>& options, const std::string& where) {
  for (const auto& o : options) {
    if (o.hidden) continue;
    EXPECT_NE(page.find("\\fB" + Roff(std::string("--") + o.long_name) + "\\fR"), std::string::npos)
        << where << " --" << o.long_name;
    if (o.short_name) {
      EXPECT_NE(page.find("\\fB" + Roff(std::string("-") + o.short_name) + "\\fR, \\fB" +
                          Roff(std::string("--") + o.long_name)),
                std::string::npos)
          << where << " -" << o.short_name;
    }
  }
}

TEST(DocgenTest, PmemctlPageHoldsEveryCommandOptionAndExitCode) {
  const std::string page = PmemctlManPage();
  ExpectOptions(page, pmemctl::GlobalOptionSpecs(), "global");
  for (const auto& c : pmemctl::Commands()) {
    EXPECT_NE(page.find(".SS " + Roff(c.name) + "\n"), std::string::npos) << c.name;
    // The command's own section holds its options.
    size_t at = page.find(".SS " + Roff(c.name) + "\n");
    size_t end = page.find(".SS ", at + 1);
    ExpectOptions(page.substr(at, end - at), c.options, c.name);
    for (const auto& t : c.targets) EXPECT_NE(page.find(std::string("\\fI") + t.name), std::string::npos) << t.name;
  }
  ExpectOptions(page, pmemctl::CommonOptions(), "common");
  for (const auto& e : pmemctl::kExitCodes)
    EXPECT_NE(page.find(".TP\n\\fB" + std::to_string(e.code) + "\\fR\n" + e.meaning), std::string::npos) << e.code;
  for (const char* section : {".SH EXIT STATUS", ".SH FILES", ".SH EXAMPLES", ".SH ENVIRONMENT"})
    EXPECT_NE(page.find(section), std::string::npos) << section;
  EXPECT_EQ(page.find("complete\\-names"), std::string::npos) << "hidden options stay out";
}

TEST(DocgenTest, PmemdPageHoldsEveryOptionAndConfigPageEveryKey) {
  ExpectOptions(PmemdManPage(), DaemonOptions(), "pmemd");
  const std::string config = ConfigManPage();
  for (const auto& k : ConfigKeys())
    EXPECT_NE(config.find(".TP\n\\fB" + Roff(k.key) + "\\fR"), std::string::npos) << k.key;
}

TEST(DocgenTest, CompletionKnowsEveryCommandAndLongOption) {
  const std::string bash = PmemctlCompletion();
  for (const auto& c : pmemctl::Commands()) {
    EXPECT_NE(bash.find(std::string("\t") + c.name + ") echo"), std::string::npos) << c.name;
    for (const auto& o : c.AllOptions())
      EXPECT_NE(bash.find(std::string("--") + o.long_name), std::string::npos) << c.name << " --" << o.long_name;
  }
  EXPECT_NE(bash.find("complete -F _pmemctl pmemctl"), std::string::npos);
}

}  // namespace
}  // namespace pmemd::docgen
