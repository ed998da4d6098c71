#include "platform/device_users.h"
#include "support/temp_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace pmemd {
namespace {

dev_t RdevOf(const char* path) {
  struct stat st{};
  EXPECT_EQ(::stat(path, &st), 0) << path;
  return st.st_rdev;
}

// A child that holds /dev/full open (a device nothing else on a test
// machine keeps open) until killed.
TEST(DeviceUsersTest, FindsAProcessHoldingTheDeviceOpenAndNamesIt) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fd = ::open("/dev/full", O_WRONLY);
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();
    (void)fd;
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  std::vector<DeviceUser> users = CharDeviceUsers(RdevOf("/dev/full"));
  Status busy = CheckCharDeviceUnused(RdevOf("/dev/full"), "full", "disable full");
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  bool found = false;
  for (const auto& u : users)
    if (u.pid == child) {
      found = true;
      EXPECT_EQ(u.how, "open");
      EXPECT_FALSE(u.comm.empty());
    }
  EXPECT_TRUE(found) << DescribeUsers(users);
  EXPECT_EQ(busy.code(), Code::kBusy);
  EXPECT_EQ(busy.sys_errno(), EBUSY);
  EXPECT_NE(busy.message().find("pid " + std::to_string(child) + " ("), std::string::npos) << busy.message();
  EXPECT_NE(busy.message().find("fuser -v /dev/full"), std::string::npos) << busy.message();
}

// Mappings are matched by what the mapped path is (stat), not by its name;
// this process itself is never counted (pmemd's own pools have their own
// in-use check).
TEST(DeviceUsersTest, FindsMappingsOfTheDeviceInMapsAndSkipsItself) {
  pmemd::testing::TempDir tmp("pmemd-users");
  const std::string root = tmp.path();
  auto fake = [&](const std::string& pid, const std::string& comm, const std::string& maps) {
    std::filesystem::create_directories(root + "/" + pid + "/fd");
    std::ofstream(root + "/" + pid + "/comm") << comm << "\n";
    std::ofstream(root + "/" + pid + "/maps") << maps;
  };
  fake("4242", "qemu", "7f0000000000-7f0000200000 rw-s 00000000 00:05 12   /dev/full\n");
  fake("4243", "bash", "55d000000000-55d000001000 r--p 00000000 fe:01 99   /usr/bin/bash\n");
  fake("4244", "gone", "7f0000000000-7f0000200000 rw-s 00000000 00:05 12   /dev/full (deleted)\n");
  fake(std::to_string(::getpid()), "self", "7f0000000000-7f0000200000 rw-s 00000000 00:05 12   /dev/full\n");
  fake("self", "x", "");  // not a pid
  std::vector<DeviceUser> users = CharDeviceUsers(RdevOf("/dev/full"), root);
  ASSERT_EQ(users.size(), 1u) << DescribeUsers(users);
  EXPECT_EQ(users[0].pid, 4242);
  EXPECT_EQ(users[0].comm, "qemu");
  EXPECT_EQ(users[0].how, "mapped");
  EXPECT_EQ(DescribeUsers(users), "pid 4242 (qemu: mapped)");
}

TEST(DeviceUsersTest, ADeviceNobodyHoldsIsFree) {
  EXPECT_TRUE(CharDeviceUsers(makedev(4095, 4095)).empty());
  EXPECT_TRUE(CheckCharDeviceUnused(makedev(4095, 4095), "dax9.9", "disable namespace9.9").ok());
}

}  // namespace
}  // namespace pmemd
