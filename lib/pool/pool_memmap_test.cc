// Where a pool's metadata array lives (memmap dev | mem), and the seal that
// lets a dev pool's attach after a clean detach reuse the array as it is.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "format.h"
#include "pool_test_util.h"

namespace pmemd {
namespace {

using namespace pooltest;  // NOLINT
namespace pf = pool_format;

constexpr uint64_t kPoolBytes = 64 * kM;

PoolFormatOptions WithMemmap(PoolMemmap m) {
  PoolFormatOptions o = SmallPool();
  o.memmap = m;
  return o;
}

// Some blocks online, leases in several of them (one across two).
void Populate(Pool& p) {
  ASSERT_TRUE(p.OnlineBlocks(0, 6).ok());
  ASSERT_TRUE(p.OnlineBlocks(20, 4).ok());
  ASSERT_TRUE(p.CreateLease(Spec("a", 3 * kK4)).ok());
  ASSERT_TRUE(p.CreateLease(Spec("b", 2 * kM, 2 * kM)).ok());
  ASSERT_TRUE(p.CreateLease(Spec("c", 3 * kM)).ok());
  ASSERT_TRUE(p.DeleteLease("a").ok());
}

pf::Header ReadHeaderA(const PoolFile& f) {
  pf::Header h{};
  int fd = ::open(f.path().c_str(), O_RDONLY);
  EXPECT_EQ(::pread(fd, &h, sizeof h, pf::kHeaderAOffset), static_cast<ssize_t>(sizeof h));
  ::close(fd);
  return h;
}

void WriteHeaders(const PoolFile& f, pf::Header h) {
  h.checksum = pf::Checksum(&h, offsetof(pf::Header, checksum));
  int fd = ::open(f.path().c_str(), O_WRONLY);
  ASSERT_EQ(::pwrite(fd, &h, sizeof h, pf::kHeaderAOffset), static_cast<ssize_t>(sizeof h));
  ASSERT_EQ(::pwrite(fd, &h, sizeof h, pf::kHeaderBOffset), static_cast<ssize_t>(sizeof h));
  ::close(fd);
}

TEST(PoolMemmapTest, DevKeepsTheArrayOnTheMediaAndACleanDetachLetsTheNextAttachReuseIt) {
  PoolFile f(kPoolBytes);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());  // dev is the default
  Snapshot want;
  {
    auto p = MustAttach(f);
    PoolStatus s = p->Describe();
    EXPECT_EQ(s.memmap, PoolMemmap::kDev);
    EXPECT_EQ(s.format_version, kPoolFormatVersion);
    EXPECT_EQ(s.memmap_size, 2 * kM);  // 16384 pages x 64 bytes, 2 MiB aligned
    EXPECT_EQ(s.memmap_offset % (2 * kM), 0u);
    EXPECT_GE(s.data_offset, s.memmap_offset + s.memmap_size);
    EXPECT_EQ(s.memmap_init, "built");
    // The descriptors are the mapping's bytes, not memory of the daemon's.
    EXPECT_FALSE(p->memmap().Stats().fresh_memory);
    Populate(*p);
    EXPECT_TRUE(p->VerifyMemmap().ok());
    want = Snap(*p);
  }
  for (int round = 0; round < 2; ++round) {
    auto p = MustAttach(f);
    EXPECT_EQ(p->Describe().memmap_init, "reused") << "round " << round;
    EXPECT_TRUE(p->memmap().Stats().adopted);
    EXPECT_TRUE(Snap(*p) == want);
    Status v = p->VerifyMemmap();
    EXPECT_TRUE(v.ok()) << v.ToString();
    CheckInvariants(*p);
    // Changes after a reused attach are sealed at the next detach too.
    ASSERT_TRUE(p->CreateLease(Spec("r" + std::to_string(round), 5 * kK4)).ok());
    ASSERT_TRUE(p->OfflineBlocks(22, 2).ok());
    ASSERT_TRUE(p->OnlineBlocks(22, 1).ok());
    want = Snap(*p);
  }
  auto p = MustAttach(f);
  EXPECT_EQ(p->Describe().memmap_init, "reused");
  EXPECT_TRUE(p->VerifyMemmap().ok());
}

TEST(PoolMemmapTest, VerifyNamesTheFirstDescriptorThatDiffersFromARebuild) {
  PoolFile f(kPoolBytes);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  auto p = MustAttach(f);
  Populate(*p);
  ASSERT_TRUE(p->VerifyMemmap().ok());
  const uint64_t pfn = p->ListLeases()[0].offset / kK4 + 1;
  p->memmap().Get(pfn)->SetOwner(12345);  // what a lost or stray store would leave
  Status v = p->VerifyMemmap();
  EXPECT_EQ(v.code(), Code::kCorruption);
  EXPECT_NE(v.message().find("page " + std::to_string(pfn)), std::string::npos) << v.message();
  EXPECT_NE(v.message().find("word 2"), std::string::npos) << v.message();
}

// The seal vouches for the array only as it was at that very detach: a
// crash, new bad pages or a repaired header each make the next attach
// build it again.
TEST(PoolMemmapTest, AnythingButACleanDetachRebuildsTheArray) {
  PoolFile f(kPoolBytes);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  {
    auto p = MustAttach(f);
    Populate(*p);
  }
  {  // a crash (no detach) after a reused attach and a change
    FaultHooks h;
    auto p = MustAttach(f, &h);
    ASSERT_EQ(p->Describe().memmap_init, "reused");
    h.crash_at = h.steps + 1;
    (void)p->CreateLease(Spec("x", kK4));
  }
  {
    auto p = MustAttach(f);
    EXPECT_EQ(p->Describe().memmap_init, "built");
    EXPECT_TRUE(p->VerifyMemmap().ok());
  }
  {  // a crash right after an attach that reused it: the attach consumed the seal
    uint64_t attach_info = 0;
    {
      FaultHooks h;
      auto p = MustAttach(f, &h);
      ASSERT_EQ(p->Describe().memmap_init, "reused");
      auto it = std::find(h.names.begin(), h.names.end(), "attach-info");
      ASSERT_NE(it, h.names.end());
      ASSERT_NE(std::find(h.names.begin(), it, "memmap-unseal"), it) << "unsealed before it is used";
      attach_info = static_cast<uint64_t>(it - h.names.begin()) + 1;
    }  // a clean detach: sealed again
    FaultHooks h;
    h.crash_at = attach_info;
    EXPECT_FALSE(Pool::Attach(f.backing(), Opts(&h)).ok());
  }
  EXPECT_EQ(MustAttach(f)->Describe().memmap_init, "built");
  // New bad pages since the detach.
  {
    PoolOptions o = Opts();
    o.badblocks = []() -> Result<std::vector<std::pair<uint64_t, uint64_t>>> {
      return std::vector<std::pair<uint64_t, uint64_t>>{{30 * kM, kK4}};
    };
    auto p = Pool::Attach(f.backing(), o);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ((*p)->Describe().memmap_init, "built");
    EXPECT_TRUE((*p)->VerifyMemmap().ok());
  }
  // Damaged header copy A: repaired, and the array rebuilt.
  ASSERT_EQ(MustAttach(f)->Describe().memmap_init, "built");  // the bad page is gone again
  f.Poke(pf::kHeaderAOffset + 100, f.Peek(pf::kHeaderAOffset + 100) ^ 0xff);
  EXPECT_EQ(MustAttach(f)->Describe().memmap_init, "built");
  // A damaged seal is no seal.
  f.Poke(pf::kSealOffset + 8, f.Peek(pf::kSealOffset + 8) ^ 1);
  EXPECT_EQ(MustAttach(f)->Describe().memmap_init, "built");
  // The array's ends changed behind the pool's back.
  f.Poke(ReadHeaderA(f).memmap_offset + 8, 0x55);
  EXPECT_EQ(MustAttach(f)->Describe().memmap_init, "built");
  EXPECT_EQ(MustAttach(f)->Describe().memmap_init, "reused");
}

TEST(PoolMemmapTest, MemKeepsTheArrayInDramAndBuildsItAtEveryAttach) {
  PoolFile f(kPoolBytes);
  ASSERT_TRUE(Pool::Format(f.backing(), WithMemmap(PoolMemmap::kMem)).ok());
  for (int round = 0; round < 2; ++round) {
    auto p = MustAttach(f);
    PoolStatus s = p->Describe();
    EXPECT_EQ(s.memmap, PoolMemmap::kMem);
    EXPECT_EQ(s.memmap_offset, 0u);
    EXPECT_EQ(s.memmap_size, kPoolBytes / 64);
    EXPECT_EQ(s.memmap_init, "built");
    EXPECT_TRUE(p->memmap().Stats().fresh_memory);
    if (round == 0) Populate(*p);
    EXPECT_TRUE(p->VerifyMemmap().ok());
  }
  // A mem pool has room for one more block than a dev pool of that size.
  PoolFile g(kPoolBytes);
  ASSERT_TRUE(Pool::Format(g.backing(), SmallPool()).ok());
  EXPECT_EQ(MustAttach(f)->Describe().blocks_total, MustAttach(g)->Describe().blocks_total + 1);
}

// The pool manager's budget needs the placement and size before it attaches.
TEST(PoolMemmapTest, ReadInfoGivesNamePlacementAndSizeWithoutAttaching) {
  PoolFile mem(kPoolBytes), dev(kPoolBytes);
  ASSERT_TRUE(Pool::Format(mem.backing(), WithMemmap(PoolMemmap::kMem)).ok());
  ASSERT_TRUE(Pool::Format(dev.backing(), WithMemmap(PoolMemmap::kDev)).ok());
  auto m = Pool::ReadInfo(mem.backing());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, SmallPool().name);
  EXPECT_EQ(m->memmap, PoolMemmap::kMem);
  EXPECT_EQ(m->pool_size, kPoolBytes);
  EXPECT_EQ(PoolMemmapBytes(m->pool_size), MustAttach(mem)->Describe().memmap_size);
  auto d = Pool::ReadInfo(dev.backing());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->memmap, PoolMemmap::kDev);
  EXPECT_EQ(d->pool_size, kPoolBytes);
  {
    auto p = MustAttach(dev);  // and it reads an attached pool too (no lock taken)
    EXPECT_EQ(Pool::ReadInfo(dev.backing())->name, SmallPool().name);
  }
}

// Version 1 had no placement: its pools attach as mem, leases intact.
TEST(PoolMemmapTest, AVersion1PoolAttachesWithItsArrayInDram) {
  PoolFile f(kPoolBytes);
  ASSERT_TRUE(Pool::Format(f.backing(), WithMemmap(PoolMemmap::kMem)).ok());
  {
    auto p = MustAttach(f);
    Populate(*p);
  }
  pf::Header h = ReadHeaderA(f);
  ASSERT_EQ(h.memmap_mode, pf::kMemmapMem);
  h.format_version = 1;
  WriteHeaders(f, h);
  {
    auto p = MustAttach(f);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->Describe().format_version, 1u);
    EXPECT_EQ(p->Describe().memmap, PoolMemmap::kMem);
    EXPECT_EQ(Pool::ReadInfo(f.backing())->memmap, PoolMemmap::kMem);
    EXPECT_EQ(p->ListLeases().size(), 2u);
    EXPECT_TRUE(p->VerifyMemmap().ok());
  }
  // A version-1 header that claims a memmap area is damage.
  h.memmap_mode = pf::kMemmapDev;
  WriteHeaders(f, h);
  auto bad = Pool::Attach(f.backing(), Opts());
  EXPECT_EQ(bad.status().code(), Code::kCorruption);
  EXPECT_NE(bad.status().message().find("version-1"), std::string::npos) << bad.status().message();
}

TEST(PoolMemmapTest, BadPlacementsAreRefusedSayingWhatWouldFit) {
  EXPECT_EQ(ParsePoolMemmap("dev").value(), PoolMemmap::kDev);
  EXPECT_EQ(ParsePoolMemmap("mem").value(), PoolMemmap::kMem);
  auto bad = ParsePoolMemmap("pmem");
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("neither dev"), std::string::npos);
  // 6 MiB: headers and tables, then one 2 MiB block fit with mem; dev also
  // needs the 2 MiB array area.
  PoolFormatOptions dev = SmallPool();
  Status s = Pool::CheckFormat(5 * kM, dev, "f");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("memmap dev"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("use memmap mem"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("needs at least 6291456"), std::string::npos) << s.message();
  EXPECT_TRUE(Pool::CheckFormat(6 * kM, dev, "f").ok());
  EXPECT_TRUE(Pool::CheckFormat(5 * kM, WithMemmap(PoolMemmap::kMem), "f").ok());
  PoolFormatOptions odd = SmallPool();
  odd.memmap = static_cast<PoolMemmap>(7);
  EXPECT_EQ(Pool::CheckFormat(64 * kM, odd, "f").code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace pmemd
