#include "pmemd/fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace pmemd {
namespace {

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pmemd-fs-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
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

TEST_F(FsTest, WriteFileAtomicFailureKeepsOldContents) {
  std::string path = dir_ + "/f";
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  // A directory in the way of the rename target's name makes rename fail.
  std::string blocked = dir_ + "/d";
  ASSERT_EQ(::mkdir(blocked.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((blocked + "/x").c_str(), 0755), 0);
  Status s = WriteFileAtomic(blocked, "new");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(*ReadFile(path), "old");
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
