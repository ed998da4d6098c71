#include "pmemd/fs.h"
#include "support/temp_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace pmemd {
namespace {

class FsTest : public ::testing::Test {
 protected:
  pmemd::testing::TempDir tmp_{"pmemd-fs-test"};
  const std::string dir_ = tmp_.path();
};

TEST_F(FsTest, WriteFileAtomicReplacesAndLeavesNoTemporary) {
  std::string path = dir_ + "/labels.json";
  ASSERT_TRUE(WriteFileAtomic(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "second, longer").ok());
  auto r = ReadFile(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "second, longer");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

// The write of the new contents fails on the very file that holds the old
// ones (a file-size limit makes write() fail with EFBIG): the old contents
// must survive, and no temporary file is left behind.
TEST_F(FsTest, WriteFileAtomicFailureKeepsOldContents) {
  std::string path = dir_ + "/f";
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  struct rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  Status s = WriteFileAtomic(path, std::string(8192, 'n'));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.sys_errno(), EFBIG) << s.ToString();
  EXPECT_EQ(*ReadFile(path), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), std::filesystem::directory_iterator()), 1);
}

// Issue 9, defect 7: a planted ".intents.json.tmp.<pid>" symlink made root
// write through it. The temporary name is unpredictable and never followed.
TEST_F(FsTest, WriteFileAtomicNeverWritesThroughAPlantedTemporary) {
  std::string victim = dir_ + "/victim";
  ASSERT_TRUE(WriteFileAtomic(victim, "precious").ok());
  for (const char* name : {"/.state.json.tmp", "/.state.json.tmp.0"})
    ASSERT_EQ(::symlink(victim.c_str(), (dir_ + name).c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), (dir_ + "/.state.json.tmp." + std::to_string(::getpid())).c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/state.json", "new").ok());
  EXPECT_EQ(*ReadFile(victim), "precious");
  EXPECT_EQ(*ReadFile(dir_ + "/state.json"), "new");
  // A symlink at the target is replaced, not followed.
  ASSERT_EQ(::symlink(victim.c_str(), (dir_ + "/link.json").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/link.json", "replaced").ok());
  EXPECT_EQ(*ReadFile(victim), "precious");
  EXPECT_FALSE(std::filesystem::is_symlink(dir_ + "/link.json"));
}

TEST_F(FsTest, PrivateDirMustBeOwnedAndWritableOnlyByPmemd) {
  EXPECT_TRUE(CheckPrivateDir(dir_).ok());
  ASSERT_EQ(::chmod(dir_.c_str(), 01777), 0);
  Status s = CheckPrivateDir(dir_);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("chmod go-w " + dir_), std::string::npos) << s.message();
  ASSERT_EQ(::chmod(dir_.c_str(), 0770), 0);
  EXPECT_FALSE(CheckPrivateDir(dir_).ok());
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  EXPECT_TRUE(CheckPrivateDir(dir_).ok());
  ASSERT_EQ(::symlink(dir_.c_str(), (dir_ + "/link").c_str()), 0);
  EXPECT_EQ(CheckPrivateDir(dir_ + "/link").code(), Code::kFailedPrecondition);
  if (::geteuid() == 0) {
    ASSERT_EQ(::mkdir((dir_ + "/theirs").c_str(), 0700), 0);
    ASSERT_EQ(::chown((dir_ + "/theirs").c_str(), 65534, 65534), 0);
    s = CheckPrivateDir(dir_ + "/theirs");
    EXPECT_NE(s.message().find("owned by uid 65534"), std::string::npos) << s.message();
  }
}

// OpenAs needs root to take another uid; as an ordinary user it can only be
// the user itself, which the second half covers.
TEST_F(FsTest, OpenAsOpensWithTheCallersRightsNotPmemds) {
  const Credentials self{::geteuid(), ::getegid()};
  auto fd = OpenAs(self, dir_ + "/mine", O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  struct stat st{};
  ASSERT_EQ(::fstat(fd->get(), &st), 0);
  EXPECT_EQ(st.st_uid, self.uid);
  EXPECT_EQ(OpenAs(self, dir_ + "/mine", O_RDWR | O_CREAT | O_EXCL).status().sys_errno(), EEXIST);
  EXPECT_EQ(OpenAs(self, std::string("a\0b", 3), O_RDONLY).status().code(), Code::kInvalidArgument);
  if (::geteuid() != 0) return;
  const Credentials nobody{65534, 65534};
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  // A root-only file and directory stay closed to nobody...
  auto denied = OpenAs(nobody, dir_ + "/mine", O_RDWR);
  EXPECT_EQ(denied.status().sys_errno(), EACCES) << denied.status().ToString();
  EXPECT_EQ(OpenAs(nobody, dir_ + "/new", O_RDWR | O_CREAT | O_EXCL).status().sys_errno(), EACCES);
  // ...while a directory nobody may write gets a file nobody owns.
  std::string open_dir = dir_ + "/open";
  ASSERT_EQ(::mkdir(open_dir.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(open_dir.c_str(), 0777), 0);
  auto made = OpenAs(nobody, open_dir + "/f", O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_EQ(::fstat(made->get(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
}

TEST_F(FsTest, ReadFileMissingIsNotFound) {
  auto r = ReadFile(dir_ + "/missing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("missing"), std::string::npos);
}

TEST_F(FsTest, MakeDirsCreatesNestedAndRejectsFiles) {
  std::string nested = dir_ + "/a/b/c";
  ASSERT_TRUE(MakeDirs(nested).ok());
  EXPECT_TRUE(std::filesystem::is_directory(nested));
  EXPECT_TRUE(MakeDirs(nested).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/file", "x").ok());
  EXPECT_FALSE(MakeDirs(dir_ + "/file").ok());
}

TEST_F(FsTest, ReadSysfsTrimsNewline) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/state", "online\n").ok());
  EXPECT_EQ(*ReadSysfs(dir_ + "/state"), "online");
}

}  // namespace
}  // namespace pmemd
