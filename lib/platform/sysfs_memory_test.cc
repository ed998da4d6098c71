#include "platform/sysfs_memory.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "pmemd/fs.h"
#include "support/temp_dir.h"

namespace pmemd::sysfs {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kBlock = 128ull << 20;  // 0x8000000

// Builds <tmp>/devices/system/memory the way the kernel lays it out.
class SysfsMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mem_ = root_ + "/devices/system/memory";
    fs::create_directories(mem_);
    fs::create_directories(root_ + "/devices/system/node/node0");
    fs::create_directories(root_ + "/devices/system/node/node1");
  }

  void Write(const std::string& path, const std::string& contents) {
    std::ofstream f(path);
    f << contents;
    ASSERT_TRUE(f.good()) << path;
  }

  // memory<id>: phys_index as the kernel prints it (%08lx), node link.
  void AddBlock(uint64_t id, const std::string& state, const std::string& valid_zones, int node,
                const std::string& removable = "1") {
    std::string dir = mem_ + "/memory" + std::to_string(id);
    fs::create_directories(dir);
    char phys[32];
    std::snprintf(phys, sizeof phys, "%08lx\n", static_cast<unsigned long>(id));
    Write(dir + "/phys_index", phys);
    Write(dir + "/state", state + "\n");
    Write(dir + "/valid_zones", valid_zones + "\n");
    Write(dir + "/removable", removable + "\n");
    Write(dir + "/phys_device", "0\n");
    Write(dir + "/uevent", "");
    if (node >= 0)
      fs::create_directory_symlink("../../node/node" + std::to_string(node),
                                   dir + "/node" + std::to_string(node));
  }

  void AddStandardTree() {
    Write(mem_ + "/block_size_bytes", "8000000\n");
    Write(mem_ + "/auto_online_blocks", "online_movable\n");
    // Files that are not blocks.
    Write(mem_ + "/probe", "");
    Write(mem_ + "/soft_offline_page", "");
    Write(mem_ + "/uevent", "");
    fs::create_directories(mem_ + "/power");
    AddBlock(0, "online", "Normal", 0);
    AddBlock(2, "offline", "Normal Movable", 1);
    AddBlock(10, "online", "Movable", 1);
    AddBlock(33, "going-offline", "Movable", 1, "0");
    AddBlock(9, "online", "Normal Movable", -1);  // older kernel: current zone first
  }

  pmemd::testing::TempDir tmp_{"pmemd-sysfs-memory-test"};
  const std::string root_ = tmp_.path();
  std::string mem_;
};

TEST_F(SysfsMemoryTest, ReadsEveryBlockSortedByNumberWithItsState) {
  AddStandardTree();
  auto topo = ReadMemoryTopology(root_);
  ASSERT_TRUE(topo.ok()) << topo.status().ToString();
  EXPECT_EQ(topo->block_size, kBlock);
  EXPECT_EQ(topo->auto_online_blocks, "online_movable");
  ASSERT_EQ(topo->blocks.size(), 5u);

  // Numeric, not lexical, order: memory10 after memory9.
  std::vector<uint64_t> ids;
  for (auto& b : topo->blocks) ids.push_back(b.id);
  EXPECT_EQ(ids, (std::vector<uint64_t>{0, 2, 9, 10, 33}));

  const MemoryBlock& b0 = topo->blocks[0];
  EXPECT_EQ(b0.phys_index, 0u);
  EXPECT_EQ(b0.start, 0u);
  EXPECT_EQ(b0.size, kBlock);
  EXPECT_EQ(b0.state, "online");
  EXPECT_EQ(b0.zone, "Normal");
  EXPECT_EQ(b0.valid_zones, "Normal");
  EXPECT_EQ(b0.node, 0);
  EXPECT_TRUE(b0.removable);
  EXPECT_EQ(b0.dax_device, "");

  const MemoryBlock& b2 = topo->blocks[1];
  EXPECT_EQ(b2.state, "offline");
  EXPECT_EQ(b2.zone, "");  // offline: valid_zones lists options, not a zone
  EXPECT_EQ(b2.valid_zones, "Normal Movable");
  EXPECT_EQ(b2.node, 1);
  EXPECT_EQ(b2.start, 2 * kBlock);

  const MemoryBlock& b9 = topo->blocks[2];
  EXPECT_EQ(b9.zone, "Normal");
  EXPECT_EQ(b9.valid_zones, "Normal Movable");
  EXPECT_FALSE(b9.node.has_value());

  const MemoryBlock& b10 = topo->blocks[3];
  // phys_index is hex: "0000000a" is block 10, at 10 * 128 MiB.
  EXPECT_EQ(b10.phys_index, 10u);
  EXPECT_EQ(b10.start, 10 * kBlock);
  EXPECT_EQ(b10.zone, "Movable");

  const MemoryBlock& b33 = topo->blocks[4];
  // "00000021": decimal 33 in the name, hex in phys_index.
  EXPECT_EQ(b33.phys_index, 33u);
  EXPECT_EQ(b33.start, 33 * kBlock);
  EXPECT_EQ(b33.state, "going-offline");
  EXPECT_EQ(b33.zone, "");
  EXPECT_FALSE(b33.removable);
}

TEST_F(SysfsMemoryTest, MissingBlockSizeIsAClearError) {
  AddBlock(0, "online", "Normal", 0);
  auto topo = ReadMemoryTopology(root_);
  ASSERT_FALSE(topo.ok());
  EXPECT_EQ(topo.status().code(), Code::kNotFound);
  EXPECT_NE(topo.status().message().find(mem_ + "/block_size_bytes"), std::string::npos)
      << topo.status().message();
  EXPECT_NE(topo.status().message().find("CONFIG_MEMORY_HOTPLUG"), std::string::npos);
}

TEST_F(SysfsMemoryTest, MalformedBlockSizeNamesFileAndValue) {
  Write(mem_ + "/block_size_bytes", "lots\n");
  auto topo = ReadMemoryTopology(root_);
  ASSERT_FALSE(topo.ok());
  EXPECT_EQ(topo.status().code(), Code::kIoError);
  EXPECT_NE(topo.status().message().find("block_size_bytes"), std::string::npos);
  EXPECT_NE(topo.status().message().find("'lots"), std::string::npos);

  Write(mem_ + "/block_size_bytes", "0\n");
  topo = ReadMemoryTopology(root_);
  ASSERT_FALSE(topo.ok());
  EXPECT_EQ(topo.status().code(), Code::kIoError);
}

TEST_F(SysfsMemoryTest, MissingAutoOnlinePolicyIsEmptyNotAnError) {
  Write(mem_ + "/block_size_bytes", "40000000\n");  // 1 GiB blocks
  AddBlock(3, "online", "Normal", 0);
  auto topo = ReadMemoryTopology(root_);
  ASSERT_TRUE(topo.ok()) << topo.status().ToString();
  EXPECT_EQ(topo->auto_online_blocks, "");
  EXPECT_EQ(topo->block_size, 1ull << 30);
  ASSERT_EQ(topo->blocks.size(), 1u);
  EXPECT_EQ(topo->blocks[0].start, 3ull << 30);
  EXPECT_EQ(topo->blocks[0].size, 1ull << 30);
}

TEST_F(SysfsMemoryTest, BlockWithoutStateIsAnErrorNamingTheFile) {
  AddStandardTree();
  fs::remove(mem_ + "/memory10/state");
  auto topo = ReadMemoryTopology(root_);
  ASSERT_FALSE(topo.ok());
  EXPECT_NE(topo.status().message().find("memory10/state"), std::string::npos)
      << topo.status().message();
}

TEST_F(SysfsMemoryTest, MalformedPhysIndexIsAnError) {
  AddStandardTree();
  Write(mem_ + "/memory2/phys_index", "xyz\n");
  auto topo = ReadMemoryTopology(root_);
  ASSERT_FALSE(topo.ok());
  EXPECT_EQ(topo.status().code(), Code::kIoError);
  EXPECT_NE(topo.status().message().find("memory2/phys_index"), std::string::npos);
}

TEST_F(SysfsMemoryTest, OptionalAttributesMayBeAbsent) {
  Write(mem_ + "/block_size_bytes", "8000000\n");
  AddBlock(5, "online", "Movable", 0);
  fs::remove(mem_ + "/memory5/valid_zones");
  fs::remove(mem_ + "/memory5/removable");
  auto topo = ReadMemoryTopology(root_);
  ASSERT_TRUE(topo.ok()) << topo.status().ToString();
  ASSERT_EQ(topo->blocks.size(), 1u);
  EXPECT_EQ(topo->blocks[0].zone, "");
  EXPECT_EQ(topo->blocks[0].valid_zones, "");
  EXPECT_TRUE(topo->blocks[0].removable);
}

TEST_F(SysfsMemoryTest, ReadMemoryBlockOfMissingBlockIsNotFound) {
  Write(mem_ + "/block_size_bytes", "8000000\n");
  auto b = ReadMemoryBlock(mem_, 7, kBlock);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Code::kNotFound);
  EXPECT_NE(b.status().message().find("memory7"), std::string::npos);
}

TEST(SysfsZoneTest, ZoneFromValidZones) {
  EXPECT_EQ(ZoneFromValidZones("Movable", "online"), "Movable");
  EXPECT_EQ(ZoneFromValidZones("Normal\n", "online"), "Normal");
  EXPECT_EQ(ZoneFromValidZones("DMA32 Normal Movable", "online"), "DMA32");
  EXPECT_EQ(ZoneFromValidZones("none", "online"), "");
  EXPECT_EQ(ZoneFromValidZones("", "online"), "");
  EXPECT_EQ(ZoneFromValidZones("Normal Movable", "offline"), "");
  EXPECT_EQ(ZoneFromValidZones("Movable", "going-offline"), "");
}

TEST(SysfsHexTest, ParsesKernelHex) {
  EXPECT_EQ(*ParseSysfsHex("8000000", "x"), 0x8000000u);
  EXPECT_EQ(*ParseSysfsHex("0x8000000\n", "x"), 0x8000000u);
  EXPECT_EQ(*ParseSysfsHex("0000000a", "x"), 10u);
  EXPECT_EQ(*ParseSysfsHex("FFFFFFFFFFFFFFFF", "x"), UINT64_MAX);
  EXPECT_FALSE(ParseSysfsHex("", "x").ok());
  EXPECT_FALSE(ParseSysfsHex("0x", "x").ok());
  EXPECT_FALSE(ParseSysfsHex("12 34", "x").ok());
  EXPECT_FALSE(ParseSysfsHex("10000000000000000", "x").ok());  // overflows 64 bits
  auto bad = ParseSysfsHex("g", "/sys/x/phys_index");
  EXPECT_NE(bad.status().message().find("/sys/x/phys_index"), std::string::npos);
}

TEST(SysfsDaxRangeTest, AssignsOwnerOfTheRangeHoldingEachBlockStart) {
  std::vector<MemoryBlock> blocks;
  for (uint64_t id : {31u, 32u, 33u, 39u, 40u, 48u}) {
    MemoryBlock b;
    b.id = id;
    b.phys_index = id;
    b.size = kBlock;
    b.start = id * kBlock;
    b.dax_device = "stale";
    blocks.push_back(b);
  }
  // dax0.0 covers blocks 32..39 (1 GiB at 4 GiB); dax1.0 has two ranges: the
  // first is one block at 48, the second starts in the middle of block 40,
  // which therefore is not its (daxctl counts a block by its start address).
  std::vector<PhysRange> ranges = {
      {32 * kBlock, 8 * kBlock, "dax0.0"},
      {48 * kBlock, kBlock, "dax1.0"},
      {40 * kBlock + kBlock / 2, kBlock, "dax1.0"},
      {0, 0, "empty"},
  };
  AssignDaxDevices(blocks, ranges);
  EXPECT_EQ(blocks[0].dax_device, "");        // 31: just below
  EXPECT_EQ(blocks[1].dax_device, "dax0.0");  // 32: first block
  EXPECT_EQ(blocks[2].dax_device, "dax0.0");
  EXPECT_EQ(blocks[3].dax_device, "dax0.0");  // 39: last block
  EXPECT_EQ(blocks[4].dax_device, "");        // 40: just past the end
  EXPECT_EQ(blocks[5].dax_device, "dax1.0");
}

// ---------------------------------------------------------------------------
// Writing block states.

TEST_F(SysfsMemoryTest, WriteBlockStateWritesTheStateFile) {
  std::string dir = MemoryDir(root_);
  std::filesystem::create_directories(dir + "/memory9");
  { std::ofstream(dir + "/memory9/state") << "online\n"; }
  auto soon = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  ASSERT_TRUE(WriteBlockState(dir, {9, KmemState::kOffline, true, soon}).ok());
  std::ifstream in(dir + "/memory9/state");
  std::string v;
  in >> v;
  EXPECT_EQ(v, "offline");
  ASSERT_TRUE(WriteBlockState(dir, {9, KmemState::kOnline, false, soon}).ok());
  EXPECT_EQ(ReadSysfs(dir + "/memory9/state").value(), "online_kernel");
  EXPECT_EQ(WriteBlockState(dir, {10, KmemState::kOffline, true, soon}).code(), Code::kNotFound);
  EXPECT_EQ(WriteBlockState(dir, {10, KmemState::kOnline, true, soon}).code(), Code::kNotFound);
}

// A write that never returns by itself (here: opening a FIFO nobody reads,
// on the real kernel: offline_pages() migrating pinned pages) ends at its
// deadline: the writing child is killed and the caller gets kBusy/EINTR.
TEST_F(SysfsMemoryTest, WriteWithDeadlineStopsAWriteThatNeverEnds) {
  std::string fifo = root_ + "/stuck";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto t0 = std::chrono::steady_clock::now();
  Status s = WriteSysfsWithDeadline(fifo, "offline", t0 + std::chrono::milliseconds(200));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(s.code(), Code::kBusy) << s.ToString();
  EXPECT_EQ(s.sys_errno(), EINTR);
  EXPECT_NE(s.message().find("stopped at its deadline"), std::string::npos) << s.message();
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

TEST_F(SysfsMemoryTest, WriteWithDeadlineKeepsTheErrnoOfAFailedWrite) {
  auto soon = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  Status missing = WriteSysfsWithDeadline(root_ + "/no-such-file", "offline", soon);
  EXPECT_EQ(missing.code(), Code::kNotFound) << missing.ToString();
  EXPECT_EQ(missing.sys_errno(), ENOENT);
  std::string file = root_ + "/plain";
  { std::ofstream(file) << "online\n"; }
  EXPECT_TRUE(WriteSysfsWithDeadline(file, "offline", soon).ok());
  EXPECT_EQ(ReadSysfs(file).value(), "offline");
}

}  // namespace
}  // namespace pmemd::sysfs
