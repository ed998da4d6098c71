#include "pmemd/emulated_platform.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "platform/kernel_oracle_testing.h"
#include "platform/label_store.h"
#include "pmemd/fs.h"
#include "pmemd/owner.h"
#include "support/temp_dir.h"

namespace pmemd {
namespace {

class EmulatedPlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.regions = {EmulatedRegionConfig{.size = 1ull << 30}, EmulatedRegionConfig{.size = 512ull << 20}};
  }
  pmemd::testing::TempDir tmp_{"pmemd-emul-test"};
  const std::string dir_ = tmp_.path();
  EmulatedConfig config_;
};

TEST_F(EmulatedPlatformTest, FreshRegionsAreEmptyAndSparse) {
  auto p = NewEmulatedPlatform(config_, dir_, nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Kind(), "emulated");
  auto inv = (*p)->List();
  ASSERT_TRUE(inv.ok());
  ASSERT_EQ(inv->regions.size(), 2u);
  EXPECT_EQ(inv->regions[0].dev, "region0");
  EXPECT_EQ(inv->regions[0].size, 1ull << 30);
  EXPECT_EQ(inv->regions[0].available_size, 1ull << 30);
  EXPECT_EQ(inv->regions[0].max_available_extent, 1ull << 30);
  EXPECT_EQ(inv->regions[0].align, 16ull << 20);
  EXPECT_EQ(inv->regions[1].size, 512ull << 20);
  EXPECT_EQ(inv->dimms.size(), 2u);
  EXPECT_EQ(inv->buses.size(), 1u);
  EXPECT_TRUE(inv->namespaces.empty());
  struct stat st{};
  ASSERT_EQ(::stat((dir_ + "/emulated/region0.img").c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), 1ull << 30);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 1ull << 20) << "region file should be sparse";
}

TEST_F(EmulatedPlatformTest, LabelsOnDiskAppearAsNamespacesAndShrinkAvailable) {
  ASSERT_TRUE(MakeDirs(dir_ + "/emulated").ok());
  {
    auto store = LabelStore::Load(dir_ + "/emulated/labels.json");
    ASSERT_TRUE(store.ok());
    Label a{.uuid = "u-a", .region = "region0", .id = 0, .mode = "fsdax", .map = "dev",
            .offset = 0, .raw_size = 256ull << 20, .align = 2u << 20, .sector_size = 512};
    Label b{.uuid = "u-b", .name = "db", .region = "region0", .id = 1, .mode = "devdax", .map = "dev",
            .offset = 512ull << 20, .raw_size = 128ull << 20, .align = 2u << 20};
    ASSERT_TRUE(store->Replace({a, b}).ok());
  }
  // The region's file, as the run that made the labels left it.
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/emulated/region0.img", "", 0600).ok());
  std::filesystem::resize_file(dir_ + "/emulated/region0.img", 1ull << 30);
  auto p = NewEmulatedPlatform(config_, dir_, nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto inv = (*p)->List();
  ASSERT_TRUE(inv.ok());
  ASSERT_EQ(inv->namespaces.size(), 2u);
  EXPECT_EQ(inv->namespaces[0].dev, "namespace0.0");
  EXPECT_EQ(inv->namespaces[0].blockdev, "pmem0");
  EXPECT_EQ(inv->namespaces[1].dev, "namespace0.1");
  EXPECT_EQ(inv->namespaces[1].chardev, "dax0.1");
  EXPECT_EQ(inv->namespaces[1].name, "db");
  EXPECT_EQ(inv->regions[0].available_size, (1ull << 30) - (384ull << 20));
  // Free extents: [256M, 512M) and [640M, 1G): the larger is 384 MiB.
  EXPECT_EQ(inv->regions[0].max_available_extent, 384ull << 20);
}

TEST_F(EmulatedPlatformTest, PlansAndCreatedNamespacesHaveTheSizesTheKernelGives) {
  auto p = NewEmulatedPlatform(config_, dir_, nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  namespace ko = kernel_oracle;
  constexpr uint64_t kM = 1ull << 20;
  // Each at the start of region0 (physical 4 GiB); expected sizes from the
  // kernel's formulas (kernel_oracle_testing.h), not from the platform's rules.
  struct Case {
    NamespaceSpec spec;
    uint64_t kernel_size;
  } cases[] = {
      {{.region = "region0", .mode = "fsdax", .size = 512 * kM}, *ko::PfnUsable(4ull << 30, 512 * kM, 2 * kM, true)},
      {{.region = "region0", .mode = "devdax", .size = 256 * kM, .align = 4096, .map = "mem"},
       *ko::PfnUsable(4ull << 30, 256 * kM, 4096, false)},
      {{.region = "region0", .mode = "sector", .size = 256 * kM, .sector_size = 512}, ko::BttUsable(256 * kM, 512)},
      {{.region = "region0", .mode = "raw", .size = 272 * kM}, 272 * kM},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec.mode);
    auto plan = (*p)->PlanCreateNamespace(c.spec);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    EXPECT_EQ(plan->size, c.kernel_size);
    EXPECT_EQ(plan->metadata_size, *c.spec.size - c.kernel_size);
    auto ns = (*p)->CreateNamespace(c.spec);
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    EXPECT_EQ(ns->size, c.kernel_size);
    ASSERT_TRUE((*p)->DestroyNamespace(ns->dev, true).ok());
  }
}

TEST_F(EmulatedPlatformTest, CorruptLabelStoreIsRefusedNamingTheFile) {
  ASSERT_TRUE(MakeDirs(dir_ + "/emulated").ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/emulated/labels.json", "{\"format\": \"pmemd-emu").ok());
  auto p = NewEmulatedPlatform(config_, dir_, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kCorruption);
  EXPECT_NE(p.status().message().find("labels.json"), std::string::npos);
}

TEST_F(EmulatedPlatformTest, NewerLabelVersionIsUnsupported) {
  ASSERT_TRUE(MakeDirs(dir_ + "/emulated").ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/emulated/labels.json",
                              R"({"format":"pmemd-emulated-labels","version":9,"labels":[]})").ok());
  auto p = NewEmulatedPlatform(config_, dir_, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kUnsupported);
  EXPECT_NE(p.status().message().find("upgrade pmemd"), std::string::npos);
}

TEST_F(EmulatedPlatformTest, UnalignedRegionSizeIsRefused) {
  config_.regions[0].size = (1ull << 30) + 4096;
  auto p = NewEmulatedPlatform(config_, dir_, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kInvalidArgument);
  EXPECT_NE(p.status().message().find("multiple of 16777216"), std::string::npos);
}

TEST_F(EmulatedPlatformTest, RegionFileOfOtherSizeIsRefused) {
  ASSERT_TRUE(NewEmulatedPlatform(config_, dir_, nullptr).ok());
  config_.regions[0].size = 2ull << 30;
  auto p = NewEmulatedPlatform(config_, dir_, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace pmemd

namespace pmemd {
namespace {

// Issue 9, defect 7: offset + length wrapped past 2^64 and was accepted.
TEST_F(EmulatedPlatformTest, BadblockRangesThatWrapAreRefused) {
  auto p = NewEmulatedPlatform(config_, dir_, nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Status s = (*p)->InjectBadblocks("region0", 512, ~0ull - 511, false);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("ends past the end of region0"), std::string::npos);
  EXPECT_TRUE((*p)->InjectBadblocks("region0", (1ull << 30) - 512, 512, false).ok());
}

// Issue 9, defect 7: a deleted region file came back empty under its
// namespaces.
TEST_F(EmulatedPlatformTest, AMissingRegionFileUnderNamespacesIsRefusedNotRecreated) {
  {
    auto p = NewEmulatedPlatform(config_, dir_, nullptr);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    NamespaceSpec spec;
    spec.region = "region0";
    spec.mode = "fsdax";
    spec.size = 256ull << 20;
    ASSERT_TRUE((*p)->CreateNamespace(spec).ok());
  }
  const std::string img = dir_ + "/emulated/region0.img";
  ASSERT_TRUE(std::filesystem::remove(img));
  auto p = NewEmulatedPlatform(config_, dir_, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(p.status().message().find("namespace0.0"), std::string::npos) << p.status().message();
  EXPECT_FALSE(std::filesystem::exists(img));
  // A region with nothing in it is simply created again.
  ASSERT_TRUE(std::filesystem::remove(dir_ + "/emulated/region1.img"));
  ASSERT_TRUE(std::filesystem::remove(dir_ + "/emulated/labels.json"));
  EXPECT_TRUE(NewEmulatedPlatform(config_, dir_, nullptr).ok());
}

// issue 15 item 4, without a kernel: a block whose offline never finishes
// (pages pinned) makes offline-memory answer busy at the deadline, naming
// the block, with every block online again; meanwhile reads and changes to
// another region go through at once.
TEST_F(EmulatedPlatformTest, StuckBlockOfflineEndsBusyAtTheDeadlineAndBlocksNothingElse) {
  config_.regions = {EmulatedRegionConfig{.size = 2ull << 30}, EmulatedRegionConfig{.size = 512ull << 20}};
  auto p = NewEmulatedPlatform(config_, dir_, nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EmulatedPlatform* emul = p->get();
  auto owner = PlatformOwner::Open(std::move(*p), dir_ + "/intents.json", nullptr);
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  PlatformOwner* o = owner->get();
  ASSERT_TRUE(o->CreateNamespace({.region = "region0", .mode = "devdax", .size = 1ull << 30}).ok());
  ASSERT_TRUE(o->ReconfigureDevice("dax0.0", "system-ram", true, true).ok());
  auto inv = o->List();
  ASSERT_TRUE(inv.ok());
  ASSERT_GE(inv->memory_blocks.size(), 3u);
  uint64_t stuck = inv->memory_blocks[2].id;
  ASSERT_TRUE(emul->InjectStuckBlock(stuck, true).ok());

  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  std::thread offline([&] {
    Result<MemoryOpResult> r = o->OfflineMemory("dax0.0");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->rolled_back);
    const Status& s = r->blocks.back().status;
    EXPECT_EQ(s.code(), Code::kBusy);
    EXPECT_NE(s.message().find("memory block " + std::to_string(stuck) + " of dax0.0 did not go offline within 2000 ms"),
              std::string::npos)
        << s.message();
  });
  // Wait until the walk is inside the stuck block (two blocks offline).
  for (;;) {
    auto l = o->List();
    ASSERT_TRUE(l.ok());
    size_t off = 0;
    for (const auto& b : l->memory_blocks) off += b.state == "offline";
    if (off == 2) break;
    ASSERT_LT(Clock::now() - t0, std::chrono::seconds(2)) << "the walk never reached the stuck block";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto t1 = Clock::now();
  EXPECT_TRUE(o->List().ok());
  EXPECT_TRUE(o->PlanCreateNamespace({.region = "region0", .mode = "fsdax", .size = 256ull << 20}).ok());
  Result<Namespace> other = o->CreateNamespace({.region = "region1", .mode = "fsdax", .size = 256ull << 20});
  EXPECT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_LT(Clock::now() - t1, std::chrono::milliseconds(500)) << "a read or another region waited for the walk";
  offline.join();
  auto took = Clock::now() - t0;
  EXPECT_GE(took, std::chrono::milliseconds(2000));
  EXPECT_LT(took, std::chrono::milliseconds(3500));
  auto after = o->List();
  ASSERT_TRUE(after.ok());
  for (const auto& b : after->memory_blocks) EXPECT_EQ(b.state, "online") << b.id;
  // Unstuck, the same offline goes through.
  ASSERT_TRUE(emul->InjectStuckBlock(stuck, false).ok());
  auto done = o->OfflineMemory("dax0.0");
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done->rolled_back);
}

}  // namespace
}  // namespace pmemd
