// pmemctl's generated bash completion (man/docgen.cc) driven as bash drives
// it (COMP_WORDS, COMP_CWORD, then _pmemctl), against a running emulated
// daemon for the live names.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "support/daemon_fixture.h"

namespace pmemd::testing {
namespace {

class CompletionTest : public DaemonFixture {
 protected:
  void SetUp() override {
    Start();
    if (HasFatalFailure()) return;
    for (std::vector<std::string> args :
         {std::vector<std::string>{"create-namespace", "-r0", "-mdevdax", "-s1G"},
          {"create-namespace", "-r0", "-s1G"},
          {"create-pool", "p0", "--path", dir_.path() + "/p0.pool", "--size", "32M", "--block-size", "2M"},
          {"online-blocks", "p0", "all"},
          {"create-lease", "p0", "db", "--size", "8K", "--align", "4K"}}) {
      RunResult r = d_->Ctl(args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }

  // The candidates for the last word of `words` (after "pmemctl --socket S").
  std::vector<std::string> Complete(std::vector<std::string> words) { return Complete(d_->socket(), words, nullptr); }
  std::vector<std::string> Complete(const std::string& socket, std::vector<std::string> words, RunResult* raw) {
    std::vector<std::string> argv = {"/bin/bash", "--norc", "--noprofile", "-c",
                                     "source \"$0\" && COMP_WORDS=(\"$@\") && COMP_CWORD=$(($# - 1)) && _pmemctl && "
                                     "printf '%s\\n' \"${COMPREPLY[@]}\"",
                                     PMEMCTL_COMPLETION, PMEMCTL_BIN, "--socket", socket};
    argv.insert(argv.end(), words.begin(), words.end());
    RunResult r = RunProgram(argv);
    if (raw) *raw = r;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(line);
    std::sort(out.begin(), out.end());
    return out;
  }
  using V = std::vector<std::string>;
};

TEST_F(CompletionTest, CommandsAndOptionsFromTheTable) {
  EXPECT_EQ(Complete({"create-"}), (V{"create-lease", "create-namespace", "create-pool"}));
  EXPECT_EQ(Complete({"--ver"}), (V{"--version"}));
  EXPECT_EQ(Complete({"create-namespace", "--re"}), (V{"--region"}));
  EXPECT_EQ(Complete({"create-namespace", "-r0", "--dr"}), (V{"--dry-run"}));
  EXPECT_EQ(Complete({"create-namespace", "--mode", ""}), (V{"devdax", "fsdax", "raw", "sector"}));
  EXPECT_EQ(Complete({"create-pool", "p1", "--memmap", "m"}), (V{"mem"}));
  EXPECT_EQ(Complete({"online-blocks", "p0", "a"}), (V{"all"}));
}

TEST_F(CompletionTest, LiveNamesFromTheDaemon) {
  EXPECT_EQ(Complete({"destroy-namespace", ""}), (V{"all", "namespace0.0", "namespace0.1"}));
  EXPECT_EQ(Complete({"destroy-namespace", "namespace0.0", "-f", "namespace0."}), (V{"namespace0.0", "namespace0.1"}));
  EXPECT_EQ(Complete({"create-namespace", "-r", ""}), (V{"0", "region0"}));
  EXPECT_EQ(Complete({"create-namespace", "--region", "=", ""}), (V{"0", "region0"}));  // --region=<TAB>
  EXPECT_EQ(Complete({"online-memory", ""}), (V{"dax0.0"}));
  EXPECT_EQ(Complete({"create-pool", "p1", "--device", "d"}), (V{"dax0.0"}));
  EXPECT_EQ(Complete({"list-pools", ""}), (V{"p0"}));
  EXPECT_EQ(Complete({"delete-lease", "p0", ""}), (V{"db"}));
  EXPECT_EQ(Complete({"delete-lease", "--", "p0", "d"}), (V{"db"}));
}

TEST_F(CompletionTest, NoDaemonNoNamesAndNoNoise) {
  RunResult r;
  EXPECT_EQ(Complete(dir_.path() + "/none.sock", {"online-memory", ""}, &r), V{});
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace pmemd::testing
