// Namespace and kmem verbs end to end on the emulated platform: the real
// pmemctl against the real pmemd.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <filesystem>

#include <gtest/gtest.h>

#include "pmemd/fs.h"
#include "support/daemon_fixture.h"

namespace pmemd::testing {
namespace {

using nlohmann::json;
constexpr uint64_t kM = 1ull << 20, kG = 1ull << 30;

class NamespaceTest : public DaemonFixture {
 protected:
  void SetUp() override {
    // Two regions, one label-less.
    WriteConfig({{"emulated", {{"regions", {{{"size", 4 * kG}}, {{"size", kG}, {"labels", false}}}}}}});
    Start();
  }
};

TEST_F(NamespaceTest, CreateListDestroy) {
  json n = Ok({"create-namespace", "--region", "region0", "--mode", "fsdax", "--size", "1G", "--name", "db"});
  EXPECT_EQ(n["dev"], "namespace0.0");
  EXPECT_EQ(n["mode"], "fsdax");
  EXPECT_EQ(n["map"], "dev");
  EXPECT_EQ(n["raw_size"], kG);
  EXPECT_EQ(n["size"], kG - 18 * kM);  // 16 MiB of struct pages + info block, 2 MiB aligned
  EXPECT_EQ(n["blockdev"], "pmem0");
  EXPECT_EQ(n["name"], "db");
  json list = Ok({"list", "-N", "-R", "--region", "region0"});
  ASSERT_EQ(list["namespaces"].size(), 1u);
  EXPECT_EQ(list["regions"][0]["available_size"], 3 * kG);
  RunResult enabled = Fail({"destroy-namespace", "namespace0.0"});
  EXPECT_NE(enabled.err.find("is enabled; disable it first, or pass force"), std::string::npos) << enabled.err;
  Ok({"destroy-namespace", "namespace0.0", "--force"});
  EXPECT_TRUE(Ok({"list", "-N", "--region", "0"})["namespaces"].empty());
}

// A create retried after a lost reply must not leak capacity: the same name
// and request return the namespace made the first time ("created": false);
// a request that differs is already_exists naming each difference and
// changes nothing (issue 12 item 2).
TEST_F(NamespaceTest, ACreateRetriedByNameReturnsTheSameNamespace) {
  const std::vector<std::string> create = {"create-namespace", "-r", "0", "-m", "devdax", "-s", "1G", "--name", "vm1"};
  json first = Ok(create);
  EXPECT_EQ(first["created"], true);
  json again = Ok(create);
  EXPECT_EQ(again["created"], false);
  EXPECT_EQ(again["dev"], first["dev"]);
  EXPECT_EQ(again["uuid"], first["uuid"]);
  std::vector<std::string> dry = create;
  dry.push_back("--dry-run");
  json plan = Ok(dry);
  EXPECT_EQ(plan["created"], false);
  EXPECT_EQ(plan["namespace"]["dev"], first["dev"]);

  RunResult differs = Fail({"create-namespace", "-r", "0", "-m", "fsdax", "-s", "2G", "--name", "vm1", "--json"});
  const std::string said = differs.out + differs.err;
  EXPECT_NE(said.find("namespace 'vm1' (namespace0.0) already exists with different parameters"), std::string::npos)
      << said;
  EXPECT_NE(said.find("size: asked 2147483648, has 1073741824"), std::string::npos) << said;
  EXPECT_NE(said.find("mode: asked 'fsdax', has 'devdax'"), std::string::npos) << said;
  json list = Ok({"list", "-N", "-r", "0"});
  EXPECT_EQ(list["namespaces"].size(), 1u) << list.dump();
}

TEST_F(NamespaceTest, DryRunPlanEqualsWhatIsCreated) {
  json plan = Ok({"create-namespace", "-r", "0", "-m", "devdax", "-s", "2G", "-a", "1G", "--dry-run"});
  ASSERT_TRUE(plan["dry_run"].get<bool>());
  EXPECT_TRUE(Ok({"list", "-N", "-r", "0"})["namespaces"].empty()) << "a dry run changes nothing";
  json n = Ok({"create-namespace", "-r", "0", "-m", "devdax", "-s", "2G", "-a", "1G"});
  // The kernel's rule, not pmemd's: 8 KiB + 64 B for each of the 524286
  // pages after it is 32 MiB and a little, and the data starts at the next
  // 1 GiB boundary, so 1 GiB of the 2 is usable.
  EXPECT_EQ(n["size"], kG);
  EXPECT_EQ(plan["plan"]["size"], n["size"]);
  EXPECT_EQ(plan["plan"]["raw_size"], n["raw_size"]);
  EXPECT_EQ(plan["plan"]["dev"], n["dev"]);
  EXPECT_EQ(plan["plan"]["metadata_size"].get<uint64_t>() + n["size"].get<uint64_t>(), 2 * kG);
  EXPECT_EQ(n["chardev"], "dax0.0");
}

TEST_F(NamespaceTest, BadSizesAndNamesAreExplained) {
  RunResult unaligned = Fail({"create-namespace", "-r", "0", "-s", "100M"});
  EXPECT_NE(unaligned.err.find("not a multiple of 16777216 (16M)"), std::string::npos) << unaligned.err;
  EXPECT_NE(unaligned.err.find("use 100663296 or 117440512"), std::string::npos);
  RunResult big = Fail({"create-namespace", "-r", "0", "-s", "8G"});
  EXPECT_NE(big.err.find("ask for at most 4294967296"), std::string::npos) << big.err;
  RunResult region = Fail({"create-namespace", "-r", "region7"});
  EXPECT_NE(region.err.find("known regions: region0, region1"), std::string::npos) << region.err;
  RunResult ns = Fail({"destroy-namespace", "namespace9.9", "-f"});
  EXPECT_NE(ns.err.find("namespace 'namespace9.9' does not exist"), std::string::npos);
  RunResult usage = Fail({"create-namespace", "-r", "0", "-s", "lots"}, 2);
  EXPECT_NE(usage.err.find("e.g. 4G"), std::string::npos);
  EXPECT_TRUE(Ok({"list", "-N", "--region", "0"})["namespaces"].empty());
}

TEST_F(NamespaceTest, AUuidListShowsIsAlreadyExistsEvenInADryRun) {
  json n = Ok({"create-namespace", "-r", "0", "-m", "fsdax", "-s", "1G"});
  json listed = Ok({"list", "-N", "--region", "0"})["namespaces"][0];
  ASSERT_NE(listed["uuid"], listed["raw_uuid"]) << listed.dump();  // the info block's own, as on the kernel
  for (const std::string key : {"uuid", "raw_uuid"}) {
    std::string u = listed[key].get<std::string>();
    RunResult dry = Fail({"create-namespace", "-r", "0", "-m", "devdax", "-s", "1G", "-u", u, "--dry-run"});
    EXPECT_NE(dry.err.find("is already used by namespace0.0"), std::string::npos) << key << ": " << dry.err;
    EXPECT_NE(dry.err.find("namespace0.0"), std::string::npos) << dry.err;
  }
}

TEST_F(NamespaceTest, ReconfigureNeedsForceAndLabelLessRegionsReconfigureInPlace) {
  Ok({"create-namespace", "-r", "0", "-m", "fsdax", "-s", "1G"});
  RunResult noforce = Fail({"reconfigure-namespace", "namespace0.0", "--mode", "devdax"});
  EXPECT_NE(noforce.err.find("destroys the data on it; pass force"), std::string::npos);
  json r = Ok({"reconfigure-namespace", "namespace0.0", "--mode", "devdax", "--force"});
  EXPECT_EQ(r["mode"], "devdax");
  // region1 has no labels: one namespace, raw at first, changed in place.
  json list = Ok({"list", "-N", "--region", "1"});
  ASSERT_EQ(list["namespaces"].size(), 1u);
  EXPECT_EQ(list["namespaces"][0]["mode"], "raw");
  RunResult create = Fail({"create-namespace", "-r", "1"});
  EXPECT_NE(create.err.find("has no labels"), std::string::npos);
  json fsdax = Ok({"reconfigure-namespace", "namespace1.0", "--mode", "fsdax", "--map", "mem", "-f"});
  EXPECT_EQ(fsdax["mode"], "fsdax");
  EXPECT_EQ(fsdax["size"], kG - 2 * kM);
}

TEST_F(NamespaceTest, KmemCycleWithBusyBlockRollsBack) {
  Ok({"create-namespace", "-r", "0", "-m", "devdax", "-s", "2G"});
  json dev = Ok({"reconfigure-device", "dax0.0", "--mode", "system-ram"});
  EXPECT_EQ(dev["mode"], "system-ram");
  uint64_t total = dev["total_memblocks"];
  EXPECT_EQ(total, 15u);  // 2 GiB less 34 MiB of metadata holds 15 whole 128 MiB blocks
  EXPECT_EQ(dev["online_memblocks"], total);
  json blocks = Ok({"list", "-M"})["memory_blocks"];
  ASSERT_EQ(blocks.size(), total);
  uint64_t third = blocks[2]["id"];
  // A block with unmovable pages: offlining fails, the first two come back.
  Ok({"inject-error", "--memory-block", std::to_string(third), "--busy-attempts", "1000"});
  RunResult busy = Fail({"offline-memory", "dax0.0"});
  EXPECT_NE(busy.err.find("memory block " + std::to_string(third) + " of dax0.0 is busy"), std::string::npos)
      << busy.err;
  EXPECT_NE(busy.err.find("were put back"), std::string::npos) << busy.err;
  for (const auto& b : Ok({"list", "-M"})["memory_blocks"]) EXPECT_EQ(b["state"], "online");
  // Devdax needs the memory offline first.
  RunResult back = Fail({"reconfigure-device", "dax0.0", "--mode", "devdax"});
  EXPECT_NE(back.err.find("offline-memory dax0.0 first"), std::string::npos);
  // Busy for two tries only: the retry with backoff gets through.
  Ok({"inject-error", "--memory-block", std::to_string(third), "--busy-attempts", "2"});
  json off = Ok({"offline-memory", "dax0.0"});
  EXPECT_EQ(off["blocks"].size(), total);
  for (const auto& b : Ok({"list", "-M"})["memory_blocks"]) EXPECT_EQ(b["state"], "offline");
  EXPECT_EQ(Ok({"reconfigure-device", "dax0.0", "--mode", "devdax"})["mode"], "devdax");
  EXPECT_TRUE(Ok({"list", "-M"})["memory_blocks"].empty());
}

// pmemd killed inside offline-memory (by construction: it kills itself as
// the third block starts going offline), then restarted: the journaled
// intent is reconciled and the memory is online again, as on the real
// kernel (tests/vm/scenarios/pmemd_restart.sh).
TEST_F(NamespaceTest, KilledInsideOfflineMemoryTheMemoryIsOnlineAgainAfterRestart) {
  Ok({"create-namespace", "-r", "0", "-m", "devdax", "-s", "2G"});
  Ok({"reconfigure-device", "dax0.0", "--mode", "system-ram"});
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  Start({"PMEMD_TEST_CRASH_AT_EVENT=memory_block:going-offline:3"});
  if (HasFatalFailure()) return;
  RunResult r = d_->Ctl({"offline-memory", "dax0.0"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_EQ(d_->Signal(0 /* reap only */, 10), -SIGKILL) << d_->Log();
  Start();
  json dev = Ok({"list", "-X"})["devices"][0];
  EXPECT_EQ(dev["mode"], "system-ram");
  EXPECT_EQ(dev["online_memblocks"], dev["total_memblocks"]) << dev;
  for (const auto& b : Ok({"list", "-M"})["memory_blocks"]) EXPECT_EQ(b["state"], "online") << b;
}

// A block whose offline never finishes (the emulated twin of pages pinned
// in it): offline-memory answers busy at its 2 s deadline with the memory
// online again; SIGTERM in the middle of one stops pmemd promptly, and the
// next start finds the memory online and no intent left.
TEST_F(NamespaceTest, StuckBlockOfflineAnswersBusyInTimeAndSigtermStopsPromptly) {
  Ok({"create-namespace", "-r", "0", "-m", "devdax", "-s", "2G"});
  Ok({"reconfigure-device", "dax0.0", "--mode", "system-ram"});
  uint64_t third = Ok({"list", "-M"})["memory_blocks"][2]["id"];
  Ok({"inject-error", "--memory-block", std::to_string(third), "--stuck"});
  auto t0 = std::chrono::steady_clock::now();
  RunResult busy = Fail({"offline-memory", "dax0.0"});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::milliseconds(4000));
  EXPECT_NE(busy.err.find("memory block " + std::to_string(third) + " of dax0.0 did not go offline within 2000 ms"),
            std::string::npos)
      << busy.err;
  for (const auto& b : Ok({"list", "-M"})["memory_blocks"]) EXPECT_EQ(b["state"], "online") << b;

  // SIGTERM while the walk waits in the stuck block.
  pid_t ctl = ::fork();
  if (ctl == 0) {
    d_->Ctl({"offline-memory", "dax0.0"});
    ::_exit(0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(d_->Signal(SIGTERM, 10), 0) << d_->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(4000));
  int st = 0;
  ::waitpid(ctl, &st, 0);
  Start();
  for (const auto& b : Ok({"list", "-M"})["memory_blocks"]) EXPECT_EQ(b["state"], "online") << b;
  Result<std::string> journal = ReadFile(dir_.path() + "/state/intents.json");
  if (journal.ok()) {
    EXPECT_TRUE(json::parse(*journal)["intents"].empty()) << *journal;
  }
}

TEST_F(NamespaceTest, NamespacesSurviveRestart) {
  Ok({"create-namespace", "-r", "0", "-m", "fsdax", "-s", "1G", "-n", "a"});
  Ok({"create-namespace", "-r", "0", "-m", "devdax", "-s", "1G", "-n", "b"});
  json before = Ok({"list", "-N", "-R", "-X"});
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  Start();
  EXPECT_EQ(Ok({"list", "-N", "-R", "-X"}), before);
}

TEST_F(NamespaceTest, MutationsNeedTheAdminGroup) {
  // A daemon whose admin group the caller is not in.
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  json cfg = {{"admin_group", "0"}, {"socket_group", "65534"},
              {"emulated", {{"regions", {{{"size", 4 * kG}}, {{"size", kG}, {"labels", false}}}}}}};
  // nobody must be able to reach the socket's directory.
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  ASSERT_TRUE(WriteFileAtomic(config_, cfg.dump()).ok());
  Start();
  std::vector<std::string> prefix;
  if (::geteuid() == 0) {
    // Root may always mutate: ask as nobody instead (in the socket's group).
    if (!std::filesystem::exists("/usr/bin/setpriv")) GTEST_SKIP() << "setpriv (util-linux) is needed as root";
    prefix = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  }
  // A copy nobody can run even when the build tree is under a private home.
  std::string ctl = dir_.path() + "/pmemctl";
  std::filesystem::copy_file(PMEMCTL_BIN, ctl);
  std::filesystem::permissions(ctl, std::filesystem::perms(0755));
  auto as_caller = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = prefix;
    argv.insert(argv.end(), {ctl, "--socket", d_->socket()});
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv);
  };
  RunResult read = as_caller({"list", "--json"});
  EXPECT_EQ(read.exit_code, 0) << read.err;
  RunResult write = as_caller({"create-namespace", "-r", "0", "-s", "1G"});
  EXPECT_EQ(write.exit_code, 1);
  EXPECT_NE(write.err.find("changes state and uid"), std::string::npos) << write.err;
  EXPECT_NE(d_->Log().find("refused 'create-namespace' to uid"), std::string::npos);
}

}  // namespace
}  // namespace pmemd::testing
