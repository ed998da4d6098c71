// The fixture of the pool integration tests (pool_test.cc, lease_test.cc):
// a daemon on the emulated platform with one 2 GiB region, its files in
// tmpfs when there is one.
#pragma once

#include <cstdint>
#include <string>

#include "support/daemon_fixture.h"

namespace pmemd::testing {

inline constexpr uint64_t kM = 1ull << 20, kG = 1ull << 30;

class PoolCliTest : public DaemonFixture {
 protected:
  void SetUp() override {
    WriteConfig({{"emulated", {{"regions", {{{"size", 2 * kG}, {"file", scratch_ + "/region0.img"}}}}}}});
    Start();
  }
  void TearDown() override { d_.reset(); }  // before scratch_ goes

  // Region and pool files in tmpfs when there is one: the pool persists
  // with msync, which is a disk flush on ext4.
  TempDir scratch_dir_{"pmemd-pool-it", ScratchRoot()};
  const std::string scratch_ = scratch_dir_.path();
};

}  // namespace pmemd::testing
