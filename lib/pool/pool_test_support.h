// Fixtures shared by the pool tests: a pool file in tmpfs, small pool
// options, and attach helpers.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "pmemd/pool.h"

namespace pmemd::pool_testing {

inline constexpr uint64_t kM = 1ull << 20;
inline constexpr uint64_t kK4 = 4096;

// A pool file in tmpfs when there is one: persist is msync, which costs a
// disk flush on ext4 and nothing on tmpfs.
class PoolFile {
 public:
  explicit PoolFile(uint64_t size) {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path_ = std::string(dir) + "/pmemd-pool-test-XXXXXX";
    int fd = ::mkstemp(path_.data());
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
    ::close(fd);
    size_ = size;
  }
  ~PoolFile() { ::unlink(path_.c_str()); }
  PoolBacking backing() const { return {path_, 0, size_, "", ""}; }
  const std::string& path() const { return path_; }
  void Poke(uint64_t off, uint8_t v) {
    int fd = ::open(path_.c_str(), O_RDWR);
    ASSERT_EQ(::pwrite(fd, &v, 1, static_cast<off_t>(off)), 1);
    ::close(fd);
  }
  uint8_t Peek(uint64_t off) {
    uint8_t v = 0;
    int fd = ::open(path_.c_str(), O_RDONLY);
    EXPECT_EQ(::pread(fd, &v, 1, static_cast<off_t>(off)), 1);
    ::close(fd);
    return v;
  }

 private:
  std::string path_;
  uint64_t size_ = 0;
};

inline PoolFormatOptions SmallPool(std::string name = "p0") {
  PoolFormatOptions o;
  o.name = std::move(name);
  o.block_size = 2 * kM;
  o.max_leases = 64;
  o.log_size = 64 * 1024;
  return o;
}

inline PoolOptions Opts(PoolHooks* hooks = nullptr) {
  PoolOptions o;
  o.strategy = InitStrategy::kTemplate;
  o.memmap_threads = 1;
  o.hooks = hooks;
  return o;
}

inline LeaseSpec Spec(std::string name, uint64_t size, uint64_t align = kK4, std::string owner = "") {
  LeaseSpec s;
  s.name = std::move(name);
  s.size = size;
  s.align = align;
  s.owner = std::move(owner);
  return s;
}

inline std::unique_ptr<Pool> MustAttach(const PoolFile& f, PoolHooks* hooks = nullptr) {
  auto p = Pool::Attach(f.backing(), Opts(hooks));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(*p) : nullptr;
}

// Every lease inside online blocks, no two overlapping, the pages' owners
// agreeing with the leases, and capacity conserved.
inline void CheckInvariants(const Pool& pool) {
  PoolStatus s = pool.Describe(true);
  auto leases = pool.ListLeases();
  std::map<uint64_t, Lease> by_off;
  uint64_t leased = 0;
  for (const auto& l : leases) {
    EXPECT_EQ(l.offset % l.align, 0u) << l.name;
    EXPECT_EQ(l.size % l.align, 0u) << l.name;
    by_off[l.offset] = l;
    leased += l.size;
    auto owner = pool.LeaseOfPage(l.offset / kK4);
    ASSERT_TRUE(owner.has_value()) << l.name;
    EXPECT_EQ(owner->name, l.name);
    auto last = pool.LeaseOfPage((l.offset + l.size) / kK4 - 1);
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->name, l.name);
    for (uint64_t b = (l.offset - s.data_offset) / s.block_size; b * s.block_size + s.data_offset < l.offset + l.size; ++b)
      EXPECT_EQ(s.blocks[b].state, BlockState::kOnline) << l.name << " in block " << b;
  }
  uint64_t end = 0;
  for (const auto& [off, l] : by_off) {
    EXPECT_GE(off, end) << "lease " << l.name << " overlaps its predecessor";
    end = off + l.size;
  }
  EXPECT_EQ(s.capacity.leased_size, leased);
  EXPECT_EQ(s.capacity.available_size + s.capacity.leased_size + s.capacity.poisoned_size, s.capacity.online_size)
      << "capacity not conserved";
}

}  // namespace pmemd::pool_testing
