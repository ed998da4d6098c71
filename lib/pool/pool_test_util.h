// Fixtures shared by the pool tests (pool_test.cc, power_loss_test.cc): a
// pool file in tmpfs, small pool options, hooks that crash or fail on
// demand, snapshots of a pool's acknowledged state, and the scripted
// sequence of operations the crash tests cut at every persist step.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "pmemd/pool.h"
#include "support/temp_dir.h"

namespace pmemd::pooltest {

inline constexpr uint64_t kM = 1ull << 20;
inline constexpr uint64_t kK4 = 4096;

// A pool file in tmpfs when there is one: persist is msync, which costs a
// disk flush on ext4 and nothing on tmpfs.
class PoolFile {
 public:
  explicit PoolFile(uint64_t size) {
    path_ = pmemd::testing::ScratchRoot() + "/pmemd-pool-test-XXXXXX";
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

class FaultHooks : public PoolHooks {
 public:
  uint64_t crash_at = 0;  // 0: never
  uint64_t fail_block = UINT64_MAX;
  uint64_t steps = 0;
  std::vector<std::string> names;
  bool CrashAfterPersist(std::string_view step, uint64_t n) override {
    steps = n;
    names.emplace_back(step);
    return crash_at != 0 && n == crash_at;
  }
  Status BlockFault(uint64_t block, BlockState to) override {
    if (block == fail_block) return Status(Code::kBusy, "injected fault onlining/offlining", EBUSY);
    (void)to;
    return Status::Ok();
  }
};

struct Snapshot {
  std::map<std::string, std::tuple<uint64_t, uint64_t, uint64_t, uint64_t>> leases;  // offset, size, align, id
  std::vector<BlockState> blocks;
  bool operator==(const Snapshot&) const = default;
};

inline Snapshot Snap(const Pool& p) {
  Snapshot s;
  for (const auto& l : p.ListLeases()) s.leases[l.name] = {l.offset, l.size, l.align, l.id};
  for (const auto& b : p.Describe(true).blocks) s.blocks.push_back(b.state);
  return s;
}

inline std::string Show(const Snapshot& s) {
  std::string r = "blocks:";
  for (auto b : s.blocks) r += " " + std::string(BlockStateName(b));
  r += "; leases:";
  for (const auto& [n, e] : s.leases) r += " " + n + "@" + std::to_string(std::get<0>(e));
  return r;
}

// The script: every kind of mutation, a busy offline, an injected failure
// part way through a range, explicit and log-full checkpoints. Each op
// returns its outcome as text ("ok", "busy", "ok: rolled back by busy"...),
// so a run can be checked against the uncrashed one op by op.
using Op = std::function<std::string(Pool&, FaultHooks&)>;
inline std::string Outcome(const Status& s) { return std::string(CodeName(s.code())); }
inline std::string Outcome(const Result<PoolBlockOpResult>& r) {
  if (!r.ok()) return Outcome(r.status());
  return r->rolled_back ? "rolled back by " + Outcome(r->status) : Outcome(r->status);
}
inline std::vector<Op> Script() {
  auto create = [](std::string n, uint64_t size, uint64_t align = kK4) -> Op {
    return [=](Pool& p, FaultHooks&) { return Outcome(p.CreateLease(Spec(n, size, align)).status()); };
  };
  auto del = [](std::string n) -> Op { return [=](Pool& p, FaultHooks&) { return Outcome(p.DeleteLease(n)); }; };
  auto online = [](uint64_t a, uint64_t c, uint64_t fail = UINT64_MAX) -> Op {
    return [=](Pool& p, FaultHooks& h) {
      h.fail_block = fail;
      auto r = p.OnlineBlocks(a, c);
      h.fail_block = UINT64_MAX;
      return Outcome(r);
    };
  };
  auto offline = [](uint64_t a, uint64_t c) -> Op {
    return [=](Pool& p, FaultHooks&) { return Outcome(p.OfflineBlocks(a, c)); };
  };
  std::vector<Op> ops = {online(0, 4),        create("a", 3 * kK4), create("b", 2 * kM, 2 * kM),
                         create("c", 5 * kK4), del("a"),            offline(0, 4),  // busy: rolls back
                         [](Pool& p, FaultHooks&) { return Outcome(p.Checkpoint()); },
                         create("d", kK4),     online(4, 4, 6),     // fails at block 6: rolls back
                         online(4, 2),         del("b"),            offline(1, 3),
                         create("e", 2 * kM, 2 * kM)};
  // Enough small leases to fill the 64 KiB log and force a checkpoint.
  for (int i = 0; i < 120; ++i) ops.push_back(i % 3 == 2 ? del("s" + std::to_string(i - 1)) : create("s" + std::to_string(i), kK4));
  ops.push_back(offline(4, 2));
  ops.push_back(del("c"));
  return ops;
}

}  // namespace pmemd::pooltest
