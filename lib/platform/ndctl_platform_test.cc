#include "pmemd/ndctl_platform.h"
#include "support/temp_dir.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace pmemd {
namespace {

namespace fs = std::filesystem;

bool IsDir(const std::string& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// Checks the references between the parts of an inventory.
void ExpectConsistent(const Inventory& inv) {
  std::set<std::string> buses, regions, namespaces, daxes;
  for (auto& b : inv.buses) {
    EXPECT_FALSE(b.dev.empty());
    EXPECT_FALSE(b.provider.empty()) << b.dev;
    EXPECT_TRUE(buses.insert(b.dev).second) << "duplicate bus " << b.dev;
  }
  for (auto& d : inv.dimms) EXPECT_TRUE(buses.count(d.bus)) << d.dev << " on " << d.bus;
  for (auto& r : inv.regions) {
    EXPECT_TRUE(buses.count(r.bus)) << r.dev;
    EXPECT_TRUE(regions.insert(r.dev).second) << "duplicate region " << r.dev;
    EXPECT_LE(r.available_size, r.size) << r.dev;
    EXPECT_LE(r.max_available_extent, r.available_size) << r.dev;
  }
  for (auto& n : inv.namespaces) {
    EXPECT_TRUE(regions.count(n.region)) << n.dev;
    EXPECT_TRUE(namespaces.insert(n.dev).second) << "duplicate namespace " << n.dev;
    EXPECT_GT(n.raw_size, 0u) << n.dev << ": idle seeds must be left out";
    EXPECT_LE(n.size, n.raw_size) << n.dev;
  }
  for (auto& d : inv.dax_devices) {
    EXPECT_TRUE(daxes.insert(d.chardev).second) << "duplicate dax device " << d.chardev;
    if (!d.ns.empty()) {
      EXPECT_TRUE(namespaces.count(d.ns)) << d.chardev;
    }
    EXPECT_TRUE(d.mode == "devdax" || d.mode == "system-ram") << d.chardev << ": " << d.mode;
  }
  for (auto& b : inv.memory_blocks) {
    EXPECT_EQ(b.size, inv.memory_block_size);
    if (!b.dax_device.empty()) {
      EXPECT_TRUE(daxes.count(b.dax_device)) << b.id;
    }
  }
}

// On the real /sys: either libnvdimm is there and the inventory is valid
// (empty on a machine without pmem), or creation says what to load.
TEST(NdctlPlatformTest, RealSysfsGivesInventoryOrSaysWhatToLoad) {
  auto p = NewNdctlPlatform({}, nullptr);
  if (!IsDir("/sys/bus/nd")) {
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), Code::kUnavailable);
    EXPECT_NE(p.status().message().find("/sys/bus/nd"), std::string::npos) << p.status().message();
    EXPECT_NE(p.status().message().find("modprobe nfit"), std::string::npos);
    return;
  }
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Kind(), "ndctl");
  auto inv = (*p)->List();
  ASSERT_TRUE(inv.ok()) << inv.status().ToString();
  ExpectConsistent(*inv);
  if (IsDir("/sys/devices/system/memory")) {
    EXPECT_GT(inv->memory_block_size, 0u);
    EXPECT_FALSE(inv->memory_blocks.empty());
  }
}

class NdctlPlatformFakeRootTest : public ::testing::Test {
 protected:

  void Write(const std::string& rel, const std::string& contents) {
    fs::create_directories(fs::path(root_ + "/" + rel).parent_path());
    std::ofstream f(root_ + "/" + rel);
    f << contents;
  }

  void AddMemoryTree() {
    Write("devices/system/memory/block_size_bytes", "8000000\n");
    Write("devices/system/memory/auto_online_blocks", "offline\n");
    for (int id : {0, 1, 40}) {
      std::string d = "devices/system/memory/memory" + std::to_string(id);
      char phys[16];
      std::snprintf(phys, sizeof phys, "%08x\n", id);
      Write(d + "/phys_index", phys);
      Write(d + "/state", id == 40 ? "offline\n" : "online\n");
      Write(d + "/valid_zones", id == 40 ? "Normal Movable\n" : "Normal\n");
      Write(d + "/removable", "1\n");
    }
  }

  // libndctl reads the real /sys whatever the root; only where the real
  // machine has no nvdimm bus is the ndctl part of the inventory known empty.
  static bool RealMachineHasNoPmem() { return !IsDir("/sys/class/nd") && !IsDir("/sys/bus/nd"); }

  pmemd::testing::TempDir tmp_{"pmemd-ndctl-platform-test"};
  const std::string root_ = tmp_.path();
};

TEST_F(NdctlPlatformFakeRootTest, MissingNdBusIsUnavailableAndNamesThePath) {
  auto p = NewNdctlPlatform({.sysfs_root = root_}, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kUnavailable);
  EXPECT_NE(p.status().message().find(root_ + "/bus/nd does not exist"), std::string::npos)
      << p.status().message();
  EXPECT_NE(p.status().message().find("modprobe nd_e820"), std::string::npos);
}

TEST_F(NdctlPlatformFakeRootTest, ListsMemoryBlocksOfTheSysfsRoot) {
  fs::create_directories(root_ + "/bus/nd");
  AddMemoryTree();
  auto p = NewNdctlPlatform({.sysfs_root = root_}, nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto inv = (*p)->List();
  ASSERT_TRUE(inv.ok()) << inv.status().ToString();
  ExpectConsistent(*inv);
  EXPECT_EQ(inv->memory_block_size, 128ull << 20);
  EXPECT_EQ(inv->auto_online_blocks, "offline");
  ASSERT_EQ(inv->memory_blocks.size(), 3u);
  EXPECT_EQ(inv->memory_blocks[2].id, 40u);
  EXPECT_EQ(inv->memory_blocks[2].start, 40ull * (128ull << 20));  // phys_index "00000028"
  EXPECT_EQ(inv->memory_blocks[2].state, "offline");
  EXPECT_EQ(inv->memory_blocks[0].zone, "Normal");
  if (RealMachineHasNoPmem()) {
    EXPECT_TRUE(inv->buses.empty());
    EXPECT_TRUE(inv->dimms.empty());
    EXPECT_TRUE(inv->regions.empty());
    EXPECT_TRUE(inv->namespaces.empty());
  }
}

TEST_F(NdctlPlatformFakeRootTest, BrokenMemoryTreeFailsListClearly) {
  fs::create_directories(root_ + "/bus/nd");
  AddMemoryTree();
  fs::remove(root_ + "/devices/system/memory/block_size_bytes");
  auto p = NewNdctlPlatform({.sysfs_root = root_}, nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto inv = (*p)->List();
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.status().code(), Code::kNotFound);
  EXPECT_NE(inv.status().message().find("list memory blocks"), std::string::npos);
  EXPECT_NE(inv.status().message().find("block_size_bytes"), std::string::npos)
      << inv.status().message();
}

TEST_F(NdctlPlatformFakeRootTest, KernelWithoutMemoryHotplugListsNoBlocks) {
  fs::create_directories(root_ + "/bus/nd");
  auto p = NewNdctlPlatform({.sysfs_root = root_}, nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto inv = (*p)->List();
  ASSERT_TRUE(inv.ok()) << inv.status().ToString();
  EXPECT_TRUE(inv->memory_blocks.empty());
  EXPECT_EQ(inv->memory_block_size, 0u);
}

// Each List() is a fresh snapshot: a change in sysfs shows up in the next one.
TEST_F(NdctlPlatformFakeRootTest, EachListIsFresh) {
  fs::create_directories(root_ + "/bus/nd");
  AddMemoryTree();
  auto p = NewNdctlPlatform({.sysfs_root = root_}, nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto first = (*p)->List();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->memory_blocks[2].state, "offline");
  Write("devices/system/memory/memory40/state", "online\n");
  Write("devices/system/memory/memory40/valid_zones", "Movable\n");
  auto second = (*p)->List();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->memory_blocks[2].state, "online");
  EXPECT_EQ(second->memory_blocks[2].zone, "Movable");
}

TEST_F(NdctlPlatformFakeRootTest, ConcurrentListsAgree) {
  fs::create_directories(root_ + "/bus/nd");
  AddMemoryTree();
  auto p = NewNdctlPlatform({.sysfs_root = root_}, nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Platform* platform = p->get();
  constexpr int kThreads = 4, kRounds = 5;
  std::vector<size_t> counts(kThreads * kRounds, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        auto inv = platform->List();
        counts[t * kRounds + i] = inv.ok() ? inv->memory_blocks.size() : 0;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t c : counts) EXPECT_EQ(c, 3u);
}

}  // namespace
}  // namespace pmemd
