// apply and export-layout end to end: the real pmemctl against the real
// pmemd on the emulated platform, with docs/examples/layout.json.
#include <signal.h>

#include <gtest/gtest.h>

#include "pmemd/fs.h"
#include "support/daemon_fixture.h"

namespace pmemd::testing {
namespace {

using nlohmann::json;
constexpr uint64_t kG = 1ull << 30;
const std::string kExample = std::string(PMEMD_SOURCE_DIR) + "/docs/examples/layout.json";

class LayoutTest : public DaemonFixture {
 protected:
  void SetUp() override {
    WriteConfig(Machine());
    Start();
  }
  static json Machine() { return {{"emulated", {{"regions", {{{"size", 8 * kG}}}}}}}; }
  // Writes `doc` to a file in the test's directory and returns its path.
  std::string File(const std::string& name, const json& doc) {
    std::string path = dir_ / name;
    EXPECT_TRUE(WriteFileAtomic(path, doc.dump()).ok());
    return path;
  }
};

TEST_F(LayoutTest, TheExampleAppliesAndASecondApplyDoesNothing) {
  json first = Ok({"apply", "-f", kExample});
  EXPECT_EQ(first["dry_run"], false);
  EXPECT_EQ(first["done"], first["steps"].size());
  EXPECT_GE(first["steps"].size(), 7u) << first.dump(2);
  json list = Ok({"list", "-N", "-X"});
  EXPECT_EQ(list["namespaces"].size(), 3u);
  EXPECT_EQ(Ok({"get-lease", "vms", "vm1"})["owner"], "qemu");
  json second = Ok({"apply", "-f", kExample});
  EXPECT_TRUE(second["steps"].empty()) << second.dump(2);
  EXPECT_EQ(second["changed"], false);
  RunResult human = d_->Ctl({"apply", "-f", kExample, "--human"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_EQ(human.out, "nothing to do: the host matches the layout\n");
}

TEST_F(LayoutTest, ADryRunPrintsTheDiffAndChangesNothing) {
  RunResult r = d_->Ctl({"apply", "-f", kExample, "--dry-run", "--human"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("+ create namespace db (in the layout, not on the host: fsdax 2.00 GiB in region0)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("~ reconfigure dax device of namespace extra-ram (to system-ram, online movable)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("+ create lease vms/vm1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dry run: nothing was changed (7 steps)"), std::string::npos) << r.out;
  EXPECT_TRUE(Ok({"list", "-N"})["namespaces"].empty());
  EXPECT_TRUE(Ok({"list-pools"})["pools"].empty());
}

TEST_F(LayoutTest, AnExportAppliesToNothingAndPruneNeedsForce) {
  Ok({"apply", "-f", kExample});
  Ok({"create-namespace", "-r", "0", "-m", "fsdax", "-s", "1G", "--name", "stray"});
  json exported = Ok({"export-layout"});
  EXPECT_EQ(exported["namespaces"].size(), 4u) << exported.dump(2);
  json again = Ok({"apply", "-f", File("exported.json", exported)});
  EXPECT_TRUE(again["steps"].empty()) << again.dump(2);
  // The example leaves "stray" out: pruning it destroys data.
  RunResult refused = Fail({"apply", "-f", kExample, "--prune", "--json"});
  json error = json::parse(refused.out);
  EXPECT_EQ(error["data"]["code"], "failed_precondition") << refused.out;
  ASSERT_EQ(error["data"]["problems"].size(), 1u) << refused.out;
  EXPECT_NE(refused.err.find("destroy-namespace namespace stray (namespace0.3) destroys data"), std::string::npos)
      << refused.err;
  EXPECT_EQ(Ok({"list", "-N"})["namespaces"].size(), 4u);
  json pruned = Ok({"apply", "-f", kExample, "--prune", "--force"});
  ASSERT_EQ(pruned["steps"].size(), 1u) << pruned.dump(2);
  EXPECT_EQ(pruned["steps"][0]["op"], "destroy-namespace");
  EXPECT_EQ(Ok({"list", "-N"})["namespaces"].size(), 3u);
}

TEST_F(LayoutTest, ABadLayoutNamesEveryProblemAndChangesNothing) {
  json doc = {{"namespaces",
               {{{"name", "a"}, {"region", "region0"}, {"size", "9G"}},
                {{"name", "a"}, {"region", "region0"}, {"size", "1G"}, {"colour", "red"}},
                {{"name", "b"}, {"region", "region0"}, {"size", 1000}}}}};
  RunResult r = Fail({"apply", "-f", File("bad.json", doc), "--json"});
  json error = json::parse(r.out);
  EXPECT_EQ(error["data"]["problems"].size(), 2u) << r.out;  // the parse: unknown key, duplicate name
  EXPECT_NE(r.err.find("unknown key 'colour'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("namespace 'a' appears more than once"), std::string::npos) << r.err;
  // Well formed, but it cannot fit or align: both named.
  doc["namespaces"].erase(1);
  r = Fail({"apply", "-f", File("bad.json", doc), "--json"});
  error = json::parse(r.out);
  EXPECT_EQ(error["data"]["problems"].size(), 2u) << r.out;
  EXPECT_NE(r.err.find("namespace 'a'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("namespace 'b'"), std::string::npos) << r.err;
  EXPECT_TRUE(Ok({"list", "-N"})["namespaces"].empty());
  RunResult usage = Fail({"apply"}, 2);
  EXPECT_NE(usage.err.find("-f FILE is required"), std::string::npos) << usage.err;
}

// The systemd use: the host comes up with its pmem configured. A second
// start applies nothing; a layout that cannot apply is logged and the
// daemon serves anyway.
TEST_F(LayoutTest, TheDaemonAppliesItsConfiguredLayoutAtStartUp) {
  d_->Signal(SIGTERM);
  json config = Machine();
  config["layout"] = kExample;
  WriteConfig(config);
  Start();
  EXPECT_EQ(Ok({"list", "-N"})["namespaces"].size(), 3u);
  EXPECT_EQ(Ok({"list-leases"})["leases"].size(), 1u);
  d_->Signal(SIGTERM);
  EXPECT_NE(d_->Log().find("start-up layout " + kExample + " applied: 7 steps"), std::string::npos) << d_->Log();
  Start();
  EXPECT_TRUE(Ok({"apply", "-f", kExample})["steps"].empty());
  d_->Signal(SIGTERM);
  EXPECT_NE(d_->Log().find("the host already matches it"), std::string::npos) << d_->Log();

  config["layout"] = {{"namespaces", {{{"name", "huge"}, {"region", "region0"}, {"size", "64G"}}}}};
  WriteConfig(config);
  Start();
  EXPECT_EQ(Ok({"list", "-N"})["namespaces"].size(), 3u);  // serving, nothing changed
  d_->Signal(SIGTERM);
  EXPECT_NE(d_->Log().find("start-up layout config.layout not applied"), std::string::npos) << d_->Log();
}

}  // namespace
}  // namespace pmemd::testing
