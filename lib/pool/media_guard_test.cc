// MediaGuard: a bus error in a guarded range is returned; any other still
// kills the process as before.
#include "media_guard.h"
#include "support/temp_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace pmemd {
namespace {

constexpr size_t kLen = 4 * 4096;

// A 16 KiB file mapped shared, then truncated to its first page: the other
// three pages fault with SIGBUS (BUS_ADRERR).
class TruncatedMapping {
 public:
  TruncatedMapping() {
    path_ = pmemd::testing::ScratchRoot() + "/pmemd-guard-XXXXXX";
    fd_ = ::mkstemp(path_.data());
    EXPECT_EQ(::ftruncate(fd_, kLen), 0);
    base_ = static_cast<uint8_t*>(::mmap(nullptr, kLen, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0));
    EXPECT_NE(base_, MAP_FAILED);
    std::memset(base_, 0x5a, kLen);
    EXPECT_EQ(::ftruncate(fd_, 4096), 0);
  }
  ~TruncatedMapping() {
    ::munmap(base_, kLen);
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  uint8_t* base() const { return base_; }

 private:
  std::string path_;
  int fd_ = -1;
  uint8_t* base_ = nullptr;
};

TEST(MediaGuardTest, AGuardedAccessPastTheEndOfATruncatedFileReturnsTheFault) {
  TruncatedMapping m;
  uint8_t buf[64];
  auto ok = RunGuarded(m.base(), kLen, [&] { std::memcpy(buf, m.base() + 100, sizeof buf); });
  EXPECT_FALSE(ok.has_value()) << "the page still in the file reads";
  EXPECT_EQ(buf[0], 0x5a);
  auto read = RunGuarded(m.base(), kLen, [&] { std::memcpy(buf, m.base() + 2 * 4096 + 8, sizeof buf); });
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->offset, 2 * 4096 + 8u);
  EXPECT_EQ(read->si_code, BUS_ADRERR);
  EXPECT_NE(std::string(MediaFaultReason(read->si_code)).find("truncated"), std::string::npos);
  auto write = RunGuarded(m.base(), kLen, [&] { std::memset(m.base() + 3 * 4096, 1, 16); });
  ASSERT_TRUE(write.has_value());
  EXPECT_EQ(write->offset, 3 * 4096u);
  // The guard is reusable after a fault, and nests: the inner range that
  // holds the address catches it.
  auto outer = RunGuarded(m.base(), kLen, [&] {
    auto inner = RunGuarded(m.base() + 4096, 4096, [&] { std::memcpy(buf, m.base() + 4096, 8); });
    EXPECT_TRUE(inner.has_value());
  });
  EXPECT_FALSE(outer.has_value());
  auto caught_by_outer = RunGuarded(m.base(), kLen, [&] {
    (void)RunGuarded(m.base(), 4096, [&] { std::memcpy(buf, m.base() + 4096, 8); });
    ADD_FAILURE() << "the jump to the outer guard skips the rest of this body";
  });
  ASSERT_TRUE(caught_by_outer.has_value());
  EXPECT_EQ(caught_by_outer->offset, 4096u);
}

TEST(MediaGuardDeathTest, AFaultOutsideEveryGuardedRangeStillKills) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TruncatedMapping m;
  // Install the handler in this process first, so that the child inherits
  // it and must chain to the default action.
  uint8_t b = 0;
  ASSERT_FALSE(RunGuarded(m.base(), 4096, [&] { b = m.base()[0]; }).has_value());
  volatile uint8_t* p = m.base();
  EXPECT_DEATH({ (void)p[2 * 4096]; }, "");
  // Guarded, but a different range: not caught either.
  EXPECT_DEATH({ (void)RunGuarded(m.base(), 4096, [&] { b = p[3 * 4096]; }); }, "");
  // A SIGBUS sent by kill() is not a media fault. (Each of these dies by
  // SIGBUS, or under AddressSanitizer, whose handler was there first, by
  // its report and abort: either way through the previous handler.)
  EXPECT_DEATH({ (void)RunGuarded(m.base(), kLen, [&] { ::raise(SIGBUS); }); }, "");
}

}  // namespace
}  // namespace pmemd
