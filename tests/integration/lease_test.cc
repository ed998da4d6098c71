// Leases end to end: an unprivileged client maps its lease through the
// descriptor open-lease passes (docs/leases.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <gtest/gtest.h>

#include "pmemd/client.h"
#include "pmemd/fs.h"
#include "pool_cli_fixture.h"

namespace pmemd::testing {
namespace {

using nlohmann::json;

// Issue 12 item 1: a lease reaches an unprivileged client as a descriptor.
// The pool file is root's (0600); its owner uid maps a lease through
// open-lease (docs/examples/lease_client.cc, libpmem2), writes and persists;
// the data is there after a daemon restart; another user is refused and
// logged.
TEST_F(PoolCliTest, ThePoolOwnerMapsALeaseThroughThePassedDescriptor) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run clients as other users";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/setpriv")) << "setpriv (util-linux) is needed";
  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  json cfg = {{"admin_group", std::to_string(::getgid())}, {"socket_group", "65534"},
              {"emulated", {{"regions", {{{"size", 2 * kG}, {"file", scratch_ + "/region0.img"}}}}}}};
  ASSERT_TRUE(WriteFileAtomic(config_, cfg.dump()).ok());
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  Start();
  const std::string file = scratch_ + "/owned.pool";
  auto admin = Client::Connect(d_->socket());
  ASSERT_TRUE(admin.ok());
  json pool = Ok({"create-pool", "t", "--path", file, "--size", "64M", "--block-size", "2M", "--owner-uid", "65534"});
  EXPECT_EQ(pool["owner_uid"], 65534);
  Fail({"create-pool", "u", "--path", file + "2", "--size", "64M", "--owner-uid", "nobody"}, 2);
  ASSERT_TRUE(admin->Call("online-blocks", {{"pool", "t"}}).ok());
  ASSERT_TRUE(admin->Call("create-lease", {{"pool", "t"}, {"name", "vm1"}, {"size", 2 * kM}}).ok());
  struct stat st{};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the client must not be able to open the file itself";

  const std::string probe = dir_.path() + "/lease_client";
  std::filesystem::copy_file(LEASE_CLIENT_BIN, probe);
  std::filesystem::permissions(probe, std::filesystem::perms(0755));
  auto as = [&](int uid, std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=" + std::to_string(uid), "--regid=65534",
                                     "--clear-groups", probe, d_->socket(), "t", "vm1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv);
  };
  RunResult w = as(65534, {"write", "hello from uid 65534"});
  ASSERT_EQ(w.exit_code, 0) << w.out << w.err;
  RunResult other = as(65533, {"read"});
  EXPECT_EQ(other.exit_code, 1) << other.out;
  EXPECT_NE(other.err.find("uid 65533 may not open leases of pool t"), std::string::npos) << other.err;
  EXPECT_NE(d_->Log().find("refused open-lease of pool t to uid 65533"), std::string::npos) << d_->Log();

  EXPECT_EQ(d_->Signal(SIGTERM), 0);
  Start();
  RunResult r = as(65534, {"read"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello from uid 65534\n");
  // The Python example of docs/leases.md does the same with socket.recv_fds.
  const std::string py = dir_.path() + "/open_lease.py";
  std::filesystem::copy_file(std::string(PMEMD_SOURCE_DIR) + "/docs/examples/open_lease.py", py);
  std::filesystem::permissions(py, std::filesystem::perms(0755));
  RunResult pyr = RunProgram({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", py,
                              d_->socket(), "t", "vm1"});
  EXPECT_EQ(pyr.exit_code, 0) << pyr.err;
  EXPECT_EQ(pyr.out, "hello from uid 65534\n");
  // An admin may open it too; a lease that does not exist is not_found.
  std::vector<UniqueFd> fds;
  auto adm = Client::Connect(d_->socket());
  ASSERT_TRUE(adm.ok());
  auto opened = adm->Call("open-lease", {{"pool", "t"}, {"name", "vm1"}}, &fds);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_EQ((*opened)["fd"], 0);
  EXPECT_EQ(::fcntl(fds[0].get(), F_GETFL) & O_ACCMODE, O_RDWR);
  auto missing = adm->Call("open-lease", {{"pool", "t"}, {"name", "nope"}}, &fds);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_TRUE(fds.empty());
}

}  // namespace
}  // namespace pmemd::testing
