// Pools end to end on the emulated platform: the real pmemctl against the
// real pmemd; pools on a dax device and on a file; restart; a second
// daemon; bad input.
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "pmemd/client.h"
#include "format.h"
#include "pmemd/fs.h"
#include "pool_cli_fixture.h"

namespace pmemd::testing {
namespace {

using nlohmann::json;

TEST_F(PoolCliTest, DevicePoolLeasesSurviveRestartAndProtectTheDevice) {
  Ok({"create-namespace", "-r", "0", "-m", "devdax", "-s", "1G"});
  json pool = Ok({"create-pool", "p0", "--device", "dax0.0", "--block-size", "16M"});
  EXPECT_EQ(pool["name"], "p0");
  EXPECT_EQ(pool["device"], "dax0.0");
  EXPECT_EQ(pool["namespace"], "namespace0.0");
  EXPECT_EQ(pool["blocks_online"], 0);
  EXPECT_EQ(pool["granularity"], "page");
  // The array on the device (the default), built eagerly there.
  EXPECT_EQ(pool["memmap"], "dev");
  EXPECT_EQ(pool["memmap_size"], 16 * kM);  // 1 GiB / 64
  EXPECT_EQ(pool["memmap_init"], "built");
  EXPECT_EQ(pool["init_strategy"], "template-stream");
  json online = Ok({"online-blocks", "p0", "0-7"});
  ASSERT_EQ(online["blocks"].size(), 8u);
  EXPECT_EQ(online["blocks"][7]["to"], "online");
  json lease = Ok({"create-lease", "p0", "db", "--size", "4M", "--owner", "vm1", "--label", "app=pg", "--label", "tier=1"});
  EXPECT_EQ(lease["size"], 4 * kM);
  EXPECT_EQ(lease["align"], 2 * kM);
  EXPECT_EQ(lease["labels"]["app"], "pg");
  EXPECT_EQ(lease["path"], scratch_ + "/region0.img");
  EXPECT_EQ(lease["offset"].get<uint64_t>() % (2 * kM), 0u);
  // The same request again is the same lease; other parameters are refused.
  EXPECT_EQ(Ok({"create-lease", "p0", "db", "--size", "4M", "--owner", "vm1", "--label", "app=pg", "--label", "tier=1"})["offset"],
            lease["offset"]);
  RunResult other = Fail({"create-lease", "p0", "db", "--size", "8M"});
  EXPECT_NE(other.err.find("different parameters"), std::string::npos) << other.err;

  RunResult busy = Fail({"offline-blocks", "p0", "0-7"});
  EXPECT_NE(busy.err.find("holds lease 'db'"), std::string::npos) << busy.err;
  EXPECT_NE(busy.err.find("nothing changed"), std::string::npos);
  EXPECT_EQ(Ok({"list-pools", "p0"})["pools"][0]["blocks_online"], 8);
  RunResult destroy = Fail({"destroy-namespace", "namespace0.0", "-f"});
  EXPECT_NE(destroy.err.find("holds attached pool 'p0'"), std::string::npos) << destroy.err;
  RunResult kmem = Fail({"reconfigure-device", "dax0.0", "--mode", "system-ram"});
  EXPECT_NE(kmem.err.find("holds attached pool 'p0'"), std::string::npos) << kmem.err;

  // A restart brings the pool back with the same lease at the same place.
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  Start();
  json leases = Ok({"list-leases", "p0"});
  ASSERT_EQ(leases["leases"].size(), 1u);
  EXPECT_EQ(leases["leases"][0]["offset"], lease["offset"]);
  EXPECT_EQ(leases["leases"][0]["owner"], "vm1");
  json pools = Ok({"list-pools", "--blocks"});
  ASSERT_EQ(pools["pools"].size(), 1u);
  EXPECT_EQ(pools["pools"][0]["blocks"][0]["state"], "online");
  EXPECT_EQ(pools["pools"][0]["capacity"]["leased_size"], 4 * kM);

  Ok({"delete-lease", "p0", "db"});
  json off = Ok({"offline-blocks", "p0", "0-7"});
  EXPECT_EQ(off["blocks"][0]["to"], "offline");
  Ok({"detach-pool", "p0"});
  Ok({"destroy-namespace", "namespace0.0", "-f"});
  EXPECT_TRUE(Ok({"list-pools"})["pools"].empty());
}

TEST_F(PoolCliTest, BadInputIsExplained) {
  const std::string file = scratch_ + "/p1.pool";
  Ok({"create-pool", "p1", "--path", file, "--size", "64M", "--block-size", "2M"});
  Ok({"online-blocks", "p1"});
  RunResult zero = Fail({"create-lease", "p1", "z", "--size", "0"});
  EXPECT_NE(zero.err.find("size 0"), std::string::npos) << zero.err;
  RunResult unaligned = Fail({"create-lease", "p1", "u", "--size", "3M", "--align", "2M"});
  EXPECT_NE(unaligned.err.find("is not a multiple of the alignment 2097152"), std::string::npos) << unaligned.err;
  RunResult big = Fail({"create-lease", "p1", "b", "--size", "1G"});
  EXPECT_NE(big.err.find("larger than pool p1"), std::string::npos) << big.err;
  RunResult pool = Fail({"create-lease", "nope", "x", "--size", "4K"});
  EXPECT_NE(pool.err.find("pool 'nope' does not exist; attached pools: p1"), std::string::npos) << pool.err;
  RunResult lease = Fail({"delete-lease", "p1", "ghost"});
  EXPECT_NE(lease.err.find("has no lease 'ghost'"), std::string::npos) << lease.err;
  RunResult range = Fail({"online-blocks", "p1", "5-900"});
  EXPECT_NE(range.err.find("has blocks 0-"), std::string::npos) << range.err;
  Fail({"create-lease", "p1", "x"}, 2);  // no --size: usage
  RunResult again = Fail({"create-pool", "p2", "--path", file, "--size", "64M", "--block-size", "2M"});
  EXPECT_NE(again.err.find("holds attached pool 'p1'"), std::string::npos) << again.err;
  // A file that is not a pool, and one whose header is damaged.
  const std::string junk = scratch_ + "/junk";
  ASSERT_TRUE(WriteFileAtomic(junk, std::string(64 * 1024, 'x')).ok());
  RunResult notpool = Fail({"attach-pool", "--path", junk});
  EXPECT_NE(notpool.err.find("is not a pmemd pool"), std::string::npos) << notpool.err;
  RunResult relative = Fail({"attach-pool", "--path", "relative/file"});
  EXPECT_NE(relative.err.find("not absolute"), std::string::npos) << relative.err;
  EXPECT_TRUE(Ok({"list-leases", "p1"})["leases"].empty());
}

TEST_F(PoolCliTest, SecondDaemonCannotAttachAnAttachedPool) {
  const std::string file = scratch_ + "/shared.pool";
  Ok({"create-pool", "shared", "--path", file, "--size", "32M", "--block-size", "2M"});
  TempDir other;
  DaemonProcess d2(other.path() + "/s.sock", other.path() + "/state", {"--config", config_});
  ASSERT_TRUE(d2.Start()) << d2.Log();
  RunResult r = d2.Ctl({"attach-pool", "--path", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is attached by another process (pid " + std::to_string(d_->pid()) + ")"), std::string::npos)
      << r.err;
  // Once detached here, the other daemon may take it.
  Ok({"detach-pool", "shared"});
  r = d2.Ctl({"attach-pool", "--json", "--path", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.Json()["name"], "shared");
}

TEST_F(PoolCliTest, InjectedBadMediaStaysPoisoned) {
  Ok({"create-namespace", "-r", "0", "-m", "devdax", "-s", "512M"});
  json pool = Ok({"create-pool", "bb", "--device", "dax0.0", "--block-size", "2M"});
  // The pool's first block starts at offset + data_offset in the region file.
  const uint64_t first_block = pool["offset"].get<uint64_t>() + pool["data_offset"].get<uint64_t>();
  Ok({"inject-error", "--region", "region0", "--offset", std::to_string(first_block + 5 * 4096), "--length", "512"});
  Ok({"online-blocks", "bb", "0"});
  json p = Ok({"list-pools", "bb", "--blocks"})["pools"][0];
  EXPECT_EQ(p["badblock_count"], 1);
  EXPECT_EQ(p["capacity"]["poisoned_size"], 4096);
  EXPECT_EQ(p["blocks"][0]["poisoned_pages"], 1);
  EXPECT_EQ(p["capacity"]["available_size"], 2 * kM - 4096);
  RunResult full = Fail({"create-lease", "bb", "whole", "--size", "2M"});
  EXPECT_NE(full.err.find("no free extent"), std::string::npos) << full.err;
}

TEST_F(PoolCliTest, APoolThatCannotComeBackIsListedUnavailable) {
  const std::string file = scratch_ + "/gone.pool";
  Ok({"create-pool", "gone", "--path", file, "--size", "32M", "--block-size", "2M"});
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  std::filesystem::remove(file);
  Start();
  json p = Ok({"list-pools"})["pools"];
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0]["state"], "unavailable");
  EXPECT_NE(p[0]["error"].get<std::string>().find("No such file"), std::string::npos) << p[0];
  RunResult use = Fail({"create-lease", "gone", "x", "--size", "4K"});
  EXPECT_NE(use.err.find("could not be attached at start-up"), std::string::npos) << use.err;
  Ok({"detach-pool", "gone"});
  EXPECT_TRUE(Ok({"list-pools"})["pools"].empty());
}

// memmap_budget: the DRAM that mem pools' metadata arrays (64 bytes per
// 4 KiB page) may take together. A 32 MiB mem pool's array is 512 KiB.
TEST_F(PoolCliTest, MemPoolsStayWithinTheMemmapBudgetAndDevPoolsCostNoneOfIt) {
  constexpr uint64_t kK = 1024;
  auto restart_with_budget = [&](const std::string& budget) {
    EXPECT_EQ(d_->Signal(SIGTERM), 0);
    json cfg = json::parse(*ReadFile(config_));
    cfg["memmap_budget"] = budget;
    ASSERT_TRUE(WriteFileAtomic(config_, cfg.dump()).ok());
    Start();
  };
  auto budget = [&] {
    json v = Ok({"version"});
    return std::pair{v["memmap_budget"].get<uint64_t>(), v["memmap_budget_used"].get<uint64_t>()};
  };
  restart_with_budget("1M");
  EXPECT_EQ(budget(), std::pair(1 * kM, uint64_t{0}));
  const std::string a = scratch_ + "/a.pool", b = scratch_ + "/b.pool", c = scratch_ + "/c.pool";
  Ok({"create-pool", "m1", "--path", a, "--size", "32M", "--block-size", "2M", "--memmap", "mem"});
  EXPECT_EQ(budget(), std::pair(1 * kM, 512 * kK));

  // A mem pool whose array would pass what is left: no_space, before any file is made.
  auto client = Client::Connect(d_->socket());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto refused = client->Call("create-pool", {{"name", "m2"}, {"path", b}, {"size", 64 * kM},
                                              {"block_size", 2 * kM}, {"memmap", "mem"}});
  ASSERT_EQ(refused.status().code(), Code::kNoSpace) << refused.status().ToString();
  const std::string why = refused.status().message();
  EXPECT_NE(why.find("pool 'm2' keeps its metadata array in DRAM (memmap mem): it needs 1048576 bytes (64 per "
                     "4 KiB page of its 67108864 bytes)"),
            std::string::npos) << why;
  EXPECT_NE(why.find("only 524288 of the memmap_budget of 1048576 bytes are left"), std::string::npos) << why;
  EXPECT_NE(why.find("--memmap dev"), std::string::npos) << why;
  EXPECT_FALSE(std::filesystem::exists(b)) << "a refused create-pool makes no file";

  // The same pool with its array on its own media costs none of the budget.
  json dev = Ok({"create-pool", "d1", "--path", b, "--size", "64M", "--block-size", "2M", "--memmap", "dev"});
  EXPECT_EQ(dev["memmap"], "dev");
  EXPECT_EQ(budget(), std::pair(1 * kM, 512 * kK));

  // Detaching returns a pool's share; attach-pool reads the placement from
  // the header and refuses a mem pool that does not fit before mapping it.
  Ok({"detach-pool", "m1"});
  EXPECT_EQ(budget().second, 0u);
  Ok({"create-pool", "m3", "--path", c, "--size", "48M", "--block-size", "2M", "--memmap", "mem"});
  EXPECT_EQ(budget().second, 768 * kK);
  RunResult attach = Fail({"attach-pool", "--path", a});
  EXPECT_NE(attach.err.find("pool 'm1' keeps its metadata array in DRAM (memmap mem): it needs 524288 bytes"),
            std::string::npos) << attach.err;
  EXPECT_NE(attach.err.find("only 262144 of the memmap_budget of 1048576 bytes are left (786432 taken by attached "
                            "mem pools)"),
            std::string::npos) << attach.err;
  EXPECT_NE(attach.err.find("--memmap dev"), std::string::npos) << attach.err;
  EXPECT_EQ(Ok({"list-pools"})["pools"].size(), 2u);

  // A smaller budget at the next start: the recorded mem pool that no longer
  // fits is listed unavailable with the reason; the daemon serves, the dev
  // pool is back.
  restart_with_budget("256K");
  json pools = Ok({"list-pools"})["pools"];
  ASSERT_EQ(pools.size(), 2u) << pools;
  EXPECT_EQ(pools[0]["name"], "d1");
  EXPECT_EQ(pools[0]["state"], "attached");
  EXPECT_EQ(pools[1]["name"], "m3");
  EXPECT_EQ(pools[1]["state"], "unavailable");
  EXPECT_NE(pools[1]["error"].get<std::string>().find("only 262144 of the memmap_budget of 262144 bytes are left"),
            std::string::npos) << pools[1];
  EXPECT_NE(pools[1]["error"].get<std::string>().find("it needs 786432 bytes"), std::string::npos) << pools[1];
  EXPECT_EQ(budget(), std::pair(256 * kK, uint64_t{0}));
  RunResult human = d_->Ctl({"--human", "version"});
  EXPECT_NE(human.out.find("memmap budget 0 B of 256.00 KiB used by mem pools"), std::string::npos) << human.out;
  // Raising it again brings the pool back.
  restart_with_budget("1M");
  EXPECT_EQ(Ok({"list-pools", "m3"})["pools"][0]["state"], "attached");
  EXPECT_EQ(budget().second, 768 * kK);
}

TEST_F(PoolCliTest, HumanOutput) {
  const std::string file = scratch_ + "/h.pool";
  RunResult c = d_->Ctl({"--human", "create-pool", "h", "--path", file, "--size", "32M", "--block-size", "2M"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("POOL"), std::string::npos);
  RunResult on = d_->Ctl({"--human", "online-blocks", "h", "0-1"});
  EXPECT_NE(on.out.find("2 of 2 blocks changed"), std::string::npos) << on.out;
  RunResult l = d_->Ctl({"--human", "create-lease", "h", "l", "--size", "8K", "--align", "4K"});
  EXPECT_NE(l.out.find("map 8192 bytes of " + file), std::string::npos) << l.out;
  RunResult ls = d_->Ctl({"--human", "list-leases"});
  EXPECT_NE(ls.out.find("LEASE"), std::string::npos) << ls.out;
}

// ---- Issue 9: pmemd writes only what is its own --------------------------

std::string Contents(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : "<" + r.status().message() + ">";
}

TEST_F(PoolCliTest, CreatePoolNeverOverwritesAFileItDidNotMake) {
  const std::string victim = scratch_ + "/passwd";
  const std::string text(100000, 'p');
  ASSERT_TRUE(WriteFileAtomic(victim, text).ok());
  for (std::vector<std::string> extra : {std::vector<std::string>{}, {"--force"}, {"--size", "64M"},
                                         {"--size", "64M", "--force"}}) {
    std::vector<std::string> args = {"create-pool", "v", "--path", victim, "--block-size", "2M"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Fail(args);
    EXPECT_NE(r.err.find("is not a pmemd pool"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("never overwrites a file it did not make"), std::string::npos) << r.err;
  }
  EXPECT_EQ(Contents(victim), text);
  // Nor the daemon's own state, nor the emulated region's backing file.
  const std::string region = scratch_ + "/region0.img";
  const auto region_size = std::filesystem::file_size(region);
  Fail({"create-pool", "r", "--path", region, "--size", "64M", "--block-size", "2M", "--force"});
  EXPECT_EQ(std::filesystem::file_size(region), region_size);
}

TEST_F(PoolCliTest, CreatePoolDoesNotFollowSymlinks) {
  const std::string victim = scratch_ + "/victim";
  ASSERT_TRUE(WriteFileAtomic(victim, "precious").ok());
  ASSERT_EQ(::symlink(victim.c_str(), (scratch_ + "/link").c_str()), 0);
  RunResult r = Fail({"create-pool", "l", "--path", scratch_ + "/link", "--size", "64M", "--block-size", "2M"});
  EXPECT_NE(r.err.find("is a symbolic link"), std::string::npos) << r.err;
  EXPECT_EQ(Contents(victim), "precious");
  // A dangling link does not create its target.
  ASSERT_EQ(::symlink((scratch_ + "/target").c_str(), (scratch_ + "/dangling").c_str()), 0);
  Fail({"create-pool", "d", "--path", scratch_ + "/dangling", "--size", "64M", "--block-size", "2M"});
  EXPECT_FALSE(std::filesystem::exists(scratch_ + "/target"));
}

TEST_F(PoolCliTest, ARejectedCreateChangesNoFile) {
  const std::string existing = scratch_ + "/existing";
  ASSERT_TRUE(WriteFileAtomic(existing, std::string(100000, 'e')).ok());
  const std::string fresh = scratch_ + "/fresh.pool";
  for (const std::string& path : {existing, fresh}) {
    Fail({"create-pool", "bad name!", "--path", path, "--size", "64M", "--block-size", "2M"});
    Fail({"create-pool", "b", "--path", path, "--size", "64M", "--block-size", "3M"});
    Fail({"create-pool", "b", "--path", path, "--size", "4K", "--block-size", "2M"});
    RunResult memmap = Fail({"create-pool", "b", "--path", path, "--size", "64M", "--block-size", "2M", "--memmap", "pmem"});
    EXPECT_NE(memmap.err.find("params.memmap: expected one of dev, mem, got 'pmem'"), std::string::npos) << memmap.err;
    // Room for one block with the array in DRAM, not with it on the media.
    RunResult small = Fail({"create-pool", "b", "--path", path, "--size", "5M", "--block-size", "2M"});
    EXPECT_NE(small.err.find("use memmap mem"), std::string::npos) << small.err;
  }
  EXPECT_EQ(std::filesystem::file_size(existing), 100000u);
  EXPECT_FALSE(std::filesystem::exists(fresh));
  auto c = Client::Connect(d_->socket());
  ASSERT_TRUE(c.ok());
  // Sizes no file can have, and a path with a NUL in it.
  for (uint64_t size : {1ull << 63, ~0ull, 4096ull * 3})
    EXPECT_FALSE(c->Call("create-pool", {{"name", "b"}, {"path", fresh}, {"size", size}, {"block_size", 2 * kM}}).ok());
  EXPECT_FALSE(std::filesystem::exists(fresh));
  auto nul = c->Call("create-pool", {{"name", "n"}, {"path", scratch_ + "/nul" + std::string(1, '\0') + ".img"},
                                     {"size", 64 * kM}, {"block_size", 2 * kM}});
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.status().code(), Code::kInvalidArgument) << nul.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(scratch_ + "/nul"));
}

TEST_F(PoolCliTest, ForceOnAnotherSpellingOfAnAttachedPoolIsBusyAndChangesNothing) {
  const std::string file = scratch_ + "/p1.img";
  Ok({"create-pool", "p1", "--path", file, "--size", "64M", "--block-size", "2M"});
  Ok({"online-blocks", "p1"});
  for (const std::string& spelling : {"/" + file, scratch_ + "/./p1.img", scratch_ + "/../" +
                                                   std::filesystem::path(scratch_).filename().string() + "/p1.img"}) {
    RunResult r = Fail({"create-pool", "p2", "--path", spelling, "--size", "32M", "--block-size", "2M", "--force"});
    EXPECT_NE(r.err.find("holds attached pool 'p1'"), std::string::npos) << spelling << ": " << r.err;
  }
  EXPECT_EQ(std::filesystem::file_size(file), 64 * kM);
  Ok({"create-lease", "p1", "still", "--size", "4K", "--align", "4K"});  // once died with SIGBUS
}

TEST_F(PoolCliTest, ARetriedCreateAfterAKillBeforeTheRecordAttachesThePool) {
  const std::string file = scratch_ + "/k.pool";
  Ok({"create-pool", "k", "--path", file, "--size", "32M", "--block-size", "2M"});
  // As if pmemd died after formatting, before recording: the file holds the
  // pool, pools.json does not.
  d_->Kill();
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/state/pools.json", R"({"version":1,"pools":[]})", 0600).ok());
  Start();
  EXPECT_TRUE(Ok({"list-pools"})["pools"].empty());
  json again = Ok({"create-pool", "k", "--path", file, "--size", "32M", "--block-size", "2M"});
  EXPECT_EQ(again["name"], "k");
  // Different geometry is not a retry.
  RunResult other = Fail({"create-pool", "k2", "--path", file, "--size", "32M", "--block-size", "4M"});
  EXPECT_NE(other.err.find("holds attached pool 'k'"), std::string::npos) << other.err;
  // The same name with another geometry names each difference (pmemd/retry.h).
  RunResult differs = Fail({"create-pool", "k", "--path", file, "--size", "32M", "--block-size", "4M"});
  const std::string said = differs.out + differs.err;
  EXPECT_NE(said.find("pool 'k' already exists with different parameters (block_size: asked 4194304, has 2097152)"),
            std::string::npos)
      << said;
}

// pools.json that cannot be written: nothing may change that the record
// does not show (a non-empty directory in its place makes the rename fail,
// even for root).
TEST_F(PoolCliTest, WhenThePoolRecordCannotBeWrittenNothingChanges) {
  const std::string file = scratch_ + "/d.pool";
  Ok({"create-pool", "d", "--path", file, "--size", "32M", "--block-size", "2M"});
  const std::string record = dir_.path() + "/state/pools.json";
  std::filesystem::remove(record);
  std::filesystem::create_directories(record + "/blocked");
  RunResult det = Fail({"detach-pool", "d"});
  EXPECT_NE(det.err.find("stays attached"), std::string::npos) << det.err;
  EXPECT_EQ(Ok({"list-pools"})["pools"].size(), 1u);
  RunResult cr = Fail({"create-pool", "e", "--path", scratch_ + "/e.pool", "--size", "32M", "--block-size", "2M"});
  EXPECT_NE(cr.err.find("the new file was removed"), std::string::npos) << cr.err;
  EXPECT_FALSE(std::filesystem::exists(scratch_ + "/e.pool"));
  EXPECT_EQ(cr.err.find("permission_denied"), std::string::npos) << cr.err;
  std::filesystem::remove_all(record);
  Ok({"detach-pool", "d"});
  EXPECT_TRUE(Ok({"list-pools"})["pools"].empty());
}

// An admin-group member who is not root gets pmemd to open files only with
// its own rights: a root-only file stays closed, a root-only directory
// gets no new file, and a file it may create is its own.
TEST_F(PoolCliTest, ANonRootAdminCannotMakePmemdWriteWhereItCouldNot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run pmemctl as another user";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/setpriv")) << "setpriv (util-linux) is needed";
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  std::filesystem::permissions(scratch_, std::filesystem::perms(0755));
  const std::string ctl = dir_.path() + "/pmemctl";
  std::filesystem::copy_file(PMEMCTL_BIN, ctl);
  std::filesystem::permissions(ctl, std::filesystem::perms(0755));
  // nobody, with the admin group (the test's gid) as its primary group.
  auto as_admin = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=" + std::to_string(::getgid()),
                                     "--clear-groups", ctl, "--socket", d_->socket()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv);
  };
  const std::string secret = scratch_ + "/secret";
  ASSERT_TRUE(WriteFileAtomic(secret, "root only", 0600).ok());
  RunResult r = as_admin({"create-pool", "s", "--path", secret, "--size", "64M", "--block-size", "2M", "--force"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(Contents(secret), "root only");
  r = as_admin({"create-pool", "n", "--path", scratch_ + "/new.pool", "--size", "32M", "--block-size", "2M"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("by uid 65534"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(scratch_ + "/new.pool"));
  const std::string open_dir = scratch_ + "/open";
  std::filesystem::create_directories(open_dir);
  std::filesystem::permissions(open_dir, std::filesystem::perms::all);
  r = as_admin({"create-pool", "mine", "--path", open_dir + "/mine.pool", "--size", "32M", "--block-size", "2M"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st{};
  ASSERT_EQ(::stat((open_dir + "/mine.pool").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  // It comes back after a restart, opened with the same rights.
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  Start();
  EXPECT_EQ(Ok({"list-pools", "mine"})["pools"][0]["state"], "attached");
}

// Issue 9, defect 7: a deleted pool file kept being handed to clients.
TEST_F(PoolCliTest, APoolWhoseFileWasRemovedIsDegradedAndHandsOutNoLease) {
  const std::string file = scratch_ + "/r.pool";
  Ok({"create-pool", "r", "--path", file, "--size", "32M", "--block-size", "2M"});
  Ok({"online-blocks", "r"});
  Ok({"create-lease", "r", "db", "--size", "8K", "--align", "4K"});
  std::filesystem::remove(file);
  RunResult get = Fail({"get-lease", "r", "db"});
  EXPECT_NE(get.err.find(file + " was removed"), std::string::npos) << get.err;
  Fail({"create-lease", "r", "more", "--size", "4K", "--align", "4K"});
  json p = Ok({"list-pools"})["pools"][0];
  EXPECT_EQ(p["state"], "degraded");
  EXPECT_NE(p["error"].get<std::string>().find("detach-pool r"), std::string::npos) << p;
  EXPECT_TRUE(Ok({"list-leases"})["leases"][0].contains("error"));
  // A new file under the old name is not the pool either.
  ASSERT_TRUE(WriteFileAtomic(file, "impostor").ok());
  RunResult again = Fail({"get-lease", "r", "db"});
  EXPECT_NE(again.err.find("now names another file"), std::string::npos) << again.err;
  Ok({"detach-pool", "r"});
  EXPECT_EQ(Contents(file), "impostor");
}

// ---- Untrusted media (issue 9) ---------------------------------------------------

TEST_F(PoolCliTest, APoolFileTruncatedTo4KiBIsListedUnavailableAndTheDaemonServes) {
  const std::string file = scratch_ + "/t.pool";
  Ok({"create-pool", "t", "--path", file, "--size", "32M", "--block-size", "2M"});
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  std::filesystem::resize_file(file, 4096);
  Start();  // crashed with SIGSEGV on every start before
  json p = Ok({"list-pools"})["pools"];
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0]["state"], "unavailable");
  EXPECT_NE(p[0]["error"].get<std::string>().find("holds 4096 bytes, fewer than the 12288"), std::string::npos) << p[0];
  Ok({"create-pool", "other", "--path", scratch_ + "/o.pool", "--size", "32M", "--block-size", "2M"});
  Ok({"detach-pool", "t"});
  EXPECT_EQ(Ok({"list-pools"})["pools"].size(), 1u);
}

TEST_F(PoolCliTest, TruncatingAnAttachedPoolFailsThatPoolAndTheDaemonLives) {
  const std::string file = scratch_ + "/cut.pool";
  for (uint64_t size : {8192ull, 4096ull, 12288ull, 65536ull, 0ull}) {
    SCOPED_TRACE("truncated to " + std::to_string(size));
    Ok({"create-pool", "cut", "--path", file, "--size", "32M", "--block-size", "2M"});
    Ok({"online-blocks", "cut", "0-1"});
    Ok({"create-lease", "cut", "l", "--size", "8K", "--align", "4K"});
    std::filesystem::resize_file(file, size);
    RunResult r = Fail({"create-lease", "cut", "m", "--size", "4K", "--align", "4K"});
    EXPECT_NE(r.err.find("pool cut's media is no longer accessible"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("detach-pool cut"), std::string::npos) << r.err;
    ASSERT_TRUE(d_->running()) << d_->Log();
    json p = Ok({"list-pools", "cut"})["pools"][0];
    EXPECT_EQ(p["state"], "failed");
    EXPECT_EQ(p["leases"], 1);
    Ok({"detach-pool", "cut"});
    EXPECT_TRUE(Ok({"list-pools"})["pools"].empty());
    std::filesystem::remove(file);
  }
}

TEST_F(PoolCliTest, APoolWhoseNameIsNotUtf8IsRefusedAndListPoolsStillWorks) {
  const std::string file = scratch_ + "/n.pool";
  Ok({"create-pool", "n", "--path", file, "--size", "32M", "--block-size", "2M"});
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  // Both header copies get the name "n\xff" with good checksums, as a
  // hostile user could write them.
  namespace pf = pool_format;
  int fd = ::open(file.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  pf::Header h;
  ASSERT_EQ(::pread(fd, &h, sizeof h, 0), static_cast<ssize_t>(sizeof h));
  std::memcpy(h.name, "n\xff", 3);
  h.checksum = pf::Checksum(&h, offsetof(pf::Header, checksum));
  ASSERT_EQ(::pwrite(fd, &h, sizeof h, pf::kHeaderAOffset), static_cast<ssize_t>(sizeof h));
  ASSERT_EQ(::pwrite(fd, &h, sizeof h, pf::kHeaderBOffset), static_cast<ssize_t>(sizeof h));
  ::close(fd);
  Start();
  json p = Ok({"list-pools"})["pools"];
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0]["state"], "unavailable");
  EXPECT_NE(p[0]["error"].get<std::string>().find("pool name"), std::string::npos) << p[0];
  Ok({"detach-pool", "n"});
  RunResult r = Fail({"attach-pool", "--path", file});
  EXPECT_NE(r.err.find("the pool name in the header"), std::string::npos) << r.err;
  EXPECT_TRUE(Ok({"list-pools"})["pools"].empty());
  ASSERT_TRUE(d_->running());
}

TEST_F(PoolCliTest, CreatePoolOnAFullFileSystemIsNoSpaceAndTheDaemonLives) {
  // pmemd must see a small file system: this test process moves to a
  // private mount namespace (root only) with a 1 MiB tmpfs, and the daemon,
  // started again, inherits it.
  d_.reset();
  if (::geteuid() != 0 || ::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    GTEST_SKIP() << "needs root to mount a small tmpfs in a private mount namespace";
  const std::string small = scratch_ + "/small";
  std::filesystem::create_directories(small);
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
  Start();
  // A sparse 64 MiB file: ftruncate succeeds, the ~3 MiB of metadata (4096
  // lease slots, a 1 MiB log) do not fit. It died with SIGBUS here before.
  const std::string file = small + "/full.pool";
  RunResult r = Fail({"create-pool", "full", "--path", file, "--size", "64M", "--block-size", "2M"});
  EXPECT_NE(r.err.find("needs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  ASSERT_TRUE(d_->running()) << d_->Log();
  EXPECT_TRUE(Ok({"list-pools"})["pools"].empty());
  d_.reset();
  ::umount2(small.c_str(), MNT_DETACH);
}

// Issue 13: an operation on many blocks logs one line at info, not two per
// block (2,047 blocks once made 4,094 info lines, past journald's limit).
TEST_F(PoolCliTest, ManyBlocksAreOneInfoLine) {
  Ok({"create-pool", "many", "--path", scratch_ + "/many.pool", "--size", "128M", "--block-size", "2M"});
  json r = Ok({"online-blocks", "many"});
  ASSERT_GT(r["blocks"].size(), 50u);
  const std::string log = d_->Log();
  size_t per_block = 0;
  for (size_t at = 0; (at = log.find("pool_block", at)) != std::string::npos; ++at) ++per_block;
  EXPECT_EQ(per_block, 0u) << log;
  const std::string n = std::to_string(r["blocks"].size());
  EXPECT_NE(log.find("online-blocks 0-" + std::to_string(r["blocks"].size() - 1) + ": " + n + " blocks onlined"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace pmemd::testing
