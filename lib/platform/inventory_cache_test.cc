#include "platform/inventory_cache.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "platform/uevent.h"
#include "pmemd/events.h"

namespace pmemd {
namespace {

using namespace std::chrono_literals;

std::string Datagram(const std::string& action, const std::string& devpath, const std::string& subsystem) {
  std::string d = action + "@" + devpath;
  d.push_back('\0');
  for (std::string kv : {"ACTION=" + action, "DEVPATH=" + devpath, "SUBSYSTEM=" + subsystem, std::string("SEQNUM=7")}) {
    d += kv;
    d.push_back('\0');
  }
  return d;
}

TEST(UeventTest, ParsesAKernelDatagram) {
  auto e = ParseUevent(Datagram("online", "/devices/system/memory/memory40", "memory"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->action, "online");
  EXPECT_EQ(e->devpath, "/devices/system/memory/memory40");
  EXPECT_EQ(e->subsystem, "memory");
  EXPECT_EQ(e->seqnum, 7u);
}

TEST(UeventTest, RefusesUdevMessagesAndGarbage) {
  EXPECT_FALSE(ParseUevent(std::string("libudev\0\xfe\xed\xca\xfe", 12)).has_value());
  EXPECT_FALSE(ParseUevent("").has_value());
  EXPECT_FALSE(ParseUevent("@").has_value());
  EXPECT_FALSE(ParseUevent("add@").has_value());
}

TEST(UeventTest, InjectedSourceIsBoundedAndReportsOverflowOnce) {
  InjectedUeventSource src(2);
  for (int i = 0; i < 5; ++i) src.Push({"add", "/x", "nd", 0});
  EXPECT_EQ(src.queued(), 2u);
  std::vector<Uevent> out;
  Status st = src.Drain(&out, 100);
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(out.size(), 2u);
  out.clear();
  EXPECT_TRUE(src.Drain(&out, 100).ok());
}

TEST(UeventTest, KernelSourceOpensWithoutPrivilege) {
  auto src = OpenKernelUeventSource();
  ASSERT_TRUE(src.ok()) << src.status().message();
  std::vector<Uevent> out;
  EXPECT_TRUE((*src)->Drain(&out, 10).ok());
}

MemoryBlock Block(uint64_t id, std::string state, std::string dax = "") {
  MemoryBlock b;
  b.id = id;
  b.state = std::move(state);
  b.dax_device = std::move(dax);
  return b;
}

// A fake kernel: what the readers read, and how often.
struct FakeKernel {
  Inventory inv;
  std::string fingerprint = "a";
  int full_reads = 0;
  int block_reads = 0;

  InventoryReaders Readers() {
    return {.read_all = [this]() -> Result<Inventory> { ++full_reads; return inv; },
            .read_block = [this](uint64_t id) -> Result<MemoryBlock> {
              ++block_reads;
              for (const auto& b : inv.memory_blocks)
                if (b.id == id) return b;
              return Status::NotFound("gone");
            },
            .fingerprint = [this] { return fingerprint; }};
  }
};

class InventoryCacheTest : public ::testing::Test {
 protected:
  InventoryCacheTest() {
    kernel_.inv.memory_blocks = {Block(1, "online"), Block(2, "offline"), Block(3, "online", "dax0.0")};
    Namespace n;
    n.dev = "namespace0.0";
    n.mode = "fsdax";
    n.enabled = true;
    kernel_.inv.namespaces = {n};
    auto src = std::make_unique<InjectedUeventSource>(64);
    source_ = src.get();
    sub_ = bus_.Subscribe([this](const Event& e) { events_.push_back(e); });
    cache_ = std::make_unique<InventoryCache>(std::move(src), kernel_.Readers(), &bus_,
                                              InventoryCacheOptions{.max_dirty_blocks = 4, .watch = false});
  }

  FakeKernel kernel_;
  InjectedUeventSource* source_;
  EventBus bus_;
  EventBus::Subscription sub_;
  std::vector<Event> events_;
  std::unique_ptr<InventoryCache> cache_;
};

TEST_F(InventoryCacheTest, SecondListIsServedFromMemory) {
  ASSERT_TRUE(cache_->List().ok());
  ASSERT_TRUE(cache_->List().ok());
  EXPECT_EQ(kernel_.full_reads, 1);
  EXPECT_EQ(cache_->stats().from_memory, 1u);
}

TEST_F(InventoryCacheTest, MemoryEventRereadsOnlyThatBlockAndPublishesItAsExternal) {
  ASSERT_TRUE(cache_->List().ok());
  kernel_.inv.memory_blocks[1].state = "online";
  source_->Push({"online", "/devices/system/memory/memory2", "memory", 1});
  auto inv = cache_->List();
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->memory_blocks[1].state, "online");
  EXPECT_EQ(kernel_.full_reads, 1);
  EXPECT_EQ(kernel_.block_reads, 1);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].object, "memory2");
  EXPECT_EQ(events_[0].from, "offline");
  EXPECT_EQ(events_[0].to, "online");
  EXPECT_EQ(events_[0].detail["source"], "external");
}

TEST_F(InventoryCacheTest, StormOfOneBlockCoalescesIntoOneRead) {
  ASSERT_TRUE(cache_->List().ok());
  for (int i = 0; i < 50; ++i)
    source_->Push({i % 2 ? "online" : "offline", "/devices/system/memory/memory1", "memory", 0});
  ASSERT_TRUE(cache_->List().ok());
  EXPECT_EQ(kernel_.block_reads, 1);
  EXPECT_EQ(kernel_.full_reads, 1);
}

TEST_F(InventoryCacheTest, ManyBlocksBeyondTheBoundRereadEverything) {
  ASSERT_TRUE(cache_->List().ok());
  for (int i = 10; i < 20; ++i)
    source_->Push({"online", "/devices/system/memory/memory" + std::to_string(i), "memory", 0});
  ASSERT_TRUE(cache_->List().ok());
  EXPECT_EQ(kernel_.full_reads, 2);
  EXPECT_EQ(kernel_.block_reads, 0);
}

TEST_F(InventoryCacheTest, OverflowForcesAFullResync) {
  ASSERT_TRUE(cache_->List().ok());
  kernel_.inv.namespaces.clear();
  for (int i = 0; i < 100; ++i) source_->Push({"change", "/devices/virtual/tty/x", "tty", 0});  // 64 fit
  auto inv = cache_->List();
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->namespaces.empty());
  EXPECT_EQ(kernel_.full_reads, 2);
  EXPECT_EQ(cache_->stats().resyncs, 1u);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].object, "namespace0.0");
  EXPECT_EQ(events_[0].to, "");
}

TEST_F(InventoryCacheTest, NdEventRereadsEverything) {
  ASSERT_TRUE(cache_->List().ok());
  kernel_.inv.namespaces[0].enabled = false;
  source_->Push({"unbind", "/devices/platform/ACPI0012:00/ndbus0/region0/namespace0.0", "nd", 0});
  auto inv = cache_->List();
  ASSERT_TRUE(inv.ok());
  EXPECT_FALSE(inv->namespaces[0].enabled);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].from, "fsdax");
  EXPECT_EQ(events_[0].to, "disabled");
}

TEST_F(InventoryCacheTest, AChangeWithoutUeventIsCaughtByTheFingerprint) {
  ASSERT_TRUE(cache_->List().ok());
  kernel_.inv.namespaces.clear();
  kernel_.fingerprint = "b";  // a disabled namespace destroyed: its size went to 0, no uevent
  auto inv = cache_->List();
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->namespaces.empty());
}

TEST_F(InventoryCacheTest, ABlockOfAKmemDeviceRereadsEverythingForItsCounts) {
  ASSERT_TRUE(cache_->List().ok());
  source_->Push({"offline", "/devices/system/memory/memory3", "memory", 0});
  ASSERT_TRUE(cache_->List().ok());
  EXPECT_EQ(kernel_.full_reads, 2);
}

TEST_F(InventoryCacheTest, OwnChangesAreRereadQuietly) {
  ASSERT_TRUE(cache_->List().ok());
  cache_->BeginOwnChange();
  kernel_.inv.namespaces[0].mode = "devdax";
  source_->Push({"bind", "/devices/x/ndbus0/region0/dax0.1", "nd", 0});
  cache_->EndOwnChange();
  EXPECT_EQ(source_->queued(), 0u);
  auto inv = cache_->List();
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->namespaces[0].mode, "devdax");
  EXPECT_TRUE(events_.empty());
}

TEST(InventoryCacheWatcherTest, PublishesExternalChangesWithoutAList) {
  FakeKernel kernel;
  kernel.inv.memory_blocks = {Block(5, "offline")};
  EventBus bus;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Event> seen;
  auto sub = bus.Subscribe([&](const Event& e) {
    std::lock_guard lock(mu);
    seen.push_back(e);
    cv.notify_all();
  });
  auto src = std::make_unique<InjectedUeventSource>();
  InjectedUeventSource* source = src.get();
  InventoryCache cache(std::move(src), kernel.Readers(), &bus, {.settle = 1ms});
  ASSERT_TRUE(cache.List().ok());
  kernel.inv.memory_blocks[0].state = "online";
  source->Push({"online", "/devices/system/memory/memory5", "memory", 0});
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return !seen.empty(); }));
  EXPECT_EQ(seen[0].object, "memory5");
  EXPECT_EQ(seen[0].detail["source"], "external");
}

}  // namespace
}  // namespace pmemd
