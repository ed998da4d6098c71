#include "pmemd/emulated_platform.h"

#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "platform/kernel_oracle_testing.h"
#include "platform/label_store.h"
#include "pmemd/fs.h"

namespace pmemd {
namespace {

class EmulatedPlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pmemd-emul-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.regions = {EmulatedRegionConfig{.size = 1ull << 30}, EmulatedRegionConfig{.size = 512ull << 20}};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
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

}  // namespace
}  // namespace pmemd
