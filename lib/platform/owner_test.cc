#include "pmemd/owner.h"

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "pmemd/emulated_platform.h"
#include "pmemd/events.h"
#include "pmemd/fs.h"
#include "support/temp_dir.h"

namespace pmemd {
namespace {

using nlohmann::json;
constexpr uint64_t kM = 1ull << 20, kG = 1ull << 30;

class OwnerTest : public ::testing::Test {
 protected:
  void SetUp() override { config_.regions = {EmulatedRegionConfig{.size = 4 * kG}}; }

  std::unique_ptr<EmulatedPlatform> NewPlatform() {
    auto p = NewEmulatedPlatform(config_, dir_, &events_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return std::move(p).value();
  }
  std::unique_ptr<PlatformOwner> Open(std::unique_ptr<Platform> p) {
    auto o = PlatformOwner::Open(std::move(p), dir_ + "/intents.json", &events_);
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? std::move(o).value() : nullptr;
  }
  std::unique_ptr<PlatformOwner> Open() { return Open(NewPlatform()); }
  void WriteJournal(json intents) {
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/intents.json", json{{"version", 1}, {"intents", intents}}.dump()).ok());
  }
  // The journal's intents; none when it was never written.
  json Journal() {
    auto text = ReadFile(dir_ + "/intents.json");
    return text.ok() ? json::parse(*text) : json{{"intents", json::array()}};
  }
  // One intent as PlatformOwner writes it (owner.cc, Begin).
  static json Intent(uint64_t id, const std::string& op, json args) {
    return {{"id", id}, {"op", op}, {"region", "region0"}, {"args", std::move(args)}};
  }
  // Opens the owner over `intents` left by a crash; expects each to be
  // reconciled, in order, with an action containing the matching text, and
  // the journal to be empty afterwards.
  std::unique_ptr<PlatformOwner> Reconcile(json intents, const std::vector<std::string>& actions) {
    WriteJournal(std::move(intents));
    auto o = Open();
    if (!o) return o;
    EXPECT_EQ(o->reconciled().size(), actions.size());
    for (size_t i = 0; i < actions.size() && i < o->reconciled().size(); ++i)
      EXPECT_NE(o->reconciled()[i].find(actions[i]), std::string::npos) << o->reconciled()[i];
    EXPECT_TRUE(Journal()["intents"].empty());
    return o;
  }
  // A 2 GiB devdax namespace whose dax0.0 is system-ram, all blocks online
  // unless `offline`; made straight on the platform, as before a crash.
  void MakeSystemRam(bool offline) {
    auto p = NewPlatform();
    ASSERT_TRUE(p->CreateNamespace({.region = "region0", .mode = "devdax", .size = 2 * kG}).ok());
    ASSERT_TRUE(p->ReconfigureDevice("dax0.0", "system-ram", true, true, {}).ok());
    if (offline) {
      ASSERT_TRUE(p->OfflineMemory("dax0.0", {}).ok());
    }
  }
  static void ExpectAllOnline(const Inventory& inv) {
    ASSERT_EQ(inv.dax_devices.size(), 1u);
    EXPECT_EQ(inv.dax_devices[0].mode, "system-ram");
    EXPECT_GT(inv.dax_devices[0].total_memblocks.value_or(0), 0u);
    EXPECT_EQ(inv.dax_devices[0].online_memblocks, inv.dax_devices[0].total_memblocks);
    for (const auto& m : inv.memory_blocks) EXPECT_EQ(m.state, "online");
  }

  pmemd::testing::TempDir tmp_{"pmemd-owner"};
  const std::string dir_ = tmp_.path();
  EmulatedConfig config_;
  EventBus events_;
};

TEST_F(OwnerTest, CreateLeavesAnEmptyJournalAndPublishesEvents) {
  std::vector<Event> seen;
  auto sub = events_.Subscribe([&](const Event& e) { seen.push_back(e); });
  auto o = Open();
  auto n = o->CreateNamespace({.region = "0", .mode = "fsdax", .size = kG, .name = "db"});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->dev, "namespace0.0");
  EXPECT_EQ(n->name, "db");
  EXPECT_TRUE(n->uuid);
  EXPECT_TRUE(Journal()["intents"].empty());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().kind, "namespace");
  EXPECT_EQ(seen.back().object, "namespace0.0");
  EXPECT_EQ(seen.back().to, "fsdax");
}

TEST_F(OwnerTest, FailedCreateChangesNothing) {
  auto o = Open();
  auto before = *o->List();
  auto n = o->CreateNamespace({.region = "region0", .size = 100 * kM});
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), Code::kInvalidArgument);
  auto after = *o->List();
  EXPECT_EQ(after.namespaces.size(), before.namespaces.size());
  EXPECT_EQ(after.regions[0].available_size, before.regions[0].available_size);
  EXPECT_TRUE(Journal()["intents"].empty());
}

TEST_F(OwnerTest, InterruptedCreateOfADisabledNamespaceIsRemovedAtStart) {
  std::string uuid;
  {
    // What a crash after the label write but before enabling leaves.
    auto p = NewPlatform();
    auto n = p->CreateNamespace({.region = "region0", .mode = "devdax", .size = kG});
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(p->DisableNamespace(n->dev).ok());
    uuid = *n->raw_uuid;  // the label's, which the journal records
  }
  WriteJournal({{{"id", 7}, {"op", "create-namespace"}, {"region", "region0"},
                 {"args", {{"uuid", uuid}, {"mode", "devdax"}}}}});
  auto o = Open();
  ASSERT_EQ(o->reconciled().size(), 1u);
  EXPECT_NE(o->reconciled()[0].find("removed the half-created namespace0.0"), std::string::npos);
  EXPECT_TRUE(o->List()->namespaces.empty());
  EXPECT_EQ(o->List()->regions[0].available_size, 4 * kG);
  EXPECT_TRUE(Journal()["intents"].empty());
}

TEST_F(OwnerTest, InterruptedCreateThatCompletedIsKept) {
  std::string uuid;
  {
    auto p = NewPlatform();
    auto n = p->CreateNamespace({.region = "region0", .mode = "fsdax", .size = kG});
    ASSERT_TRUE(n.ok());
    uuid = *n->raw_uuid;  // the label's, which the journal records
  }
  WriteJournal({{{"id", 1}, {"op", "create-namespace"}, {"region", "region0"},
                 {"args", {{"uuid", uuid}, {"mode", "fsdax"}}}},
                {{"id", 2}, {"op", "create-namespace"}, {"region", "region0"},
                 {"args", {{"uuid", "00000000-0000-4000-8000-000000000000"}, {"mode", "fsdax"}}}}});
  auto o = Open();
  ASSERT_EQ(o->reconciled().size(), 2u);
  EXPECT_NE(o->reconciled()[0].find("kept namespace0.0"), std::string::npos);
  EXPECT_NE(o->reconciled()[1].find("had not started"), std::string::npos);
  EXPECT_EQ(o->List()->namespaces.size(), 1u);
}

TEST_F(OwnerTest, InterruptedOfflineIsUndone) {
  MakeSystemRam(/*offline=*/true);  // as if the crash came after the last block
  auto o = Reconcile({Intent(3, "offline-memory", {{"chardev", "dax0.0"}, {"movable", true}})},
                     {"undone: dax0.0's memory is online again"});
  ASSERT_TRUE(o);
  ExpectAllOnline(*o->List());
}

TEST_F(OwnerTest, InterruptedOnlineIsFinished) {
  MakeSystemRam(/*offline=*/true);  // as if the crash came before the first block
  auto o = Reconcile({Intent(4, "online-memory", {{"chardev", "dax0.0"}, {"movable", true}})},
                     {"finished onlining dax0.0"});
  ASSERT_TRUE(o);
  ExpectAllOnline(*o->List());
}

TEST_F(OwnerTest, InterruptedReconfigureDeviceToSystemRamIsFinished) {
  {
    auto p = NewPlatform();
    ASSERT_TRUE(p->CreateNamespace({.region = "region0", .mode = "devdax", .size = 2 * kG}).ok());
  }
  auto o = Reconcile({Intent(5, "reconfigure-device",
                             {{"chardev", "dax0.0"}, {"mode", "system-ram"}, {"online", true}, {"movable", true}})},
                     {"finished: dax0.0 is system-ram"});
  ASSERT_TRUE(o);
  ExpectAllOnline(*o->List());
}

TEST_F(OwnerTest, InterruptedDestroyIsFinishedAndACompletedOneIsLeftAlone) {
  std::string uuid;
  {
    auto p = NewPlatform();
    auto n = p->CreateNamespace({.region = "region0", .mode = "fsdax", .size = kG});
    ASSERT_TRUE(n.ok());
    uuid = n->raw_uuid.value_or(n->uuid.value_or(""));
  }
  auto o = Reconcile({Intent(1, "destroy-namespace", {{"dev", "namespace0.0"}, {"uuid", uuid}}),
                      Intent(2, "destroy-namespace",
                             {{"dev", "namespace0.1"}, {"uuid", "00000000-0000-4000-8000-000000000001"}})},
                     {"finished destroying namespace0.0", "it had completed"});
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->List()->namespaces.empty());
  EXPECT_EQ(o->List()->regions[0].available_size, 4 * kG);
}

TEST_F(OwnerTest, InterruptedEnableAndDisableAreFinishedAndAGoneNamespaceIsSkipped) {
  {
    auto p = NewPlatform();
    ASSERT_TRUE(p->CreateNamespace({.region = "region0", .mode = "fsdax", .size = kG}).ok());
    ASSERT_TRUE(p->CreateNamespace({.region = "region0", .mode = "fsdax", .size = kG}).ok());
    ASSERT_TRUE(p->DisableNamespace("namespace0.0").ok());
  }
  auto o = Reconcile({Intent(1, "enable-namespace", {{"dev", "namespace0.0"}}),
                      Intent(2, "disable-namespace", {{"dev", "namespace0.1"}}),
                      Intent(3, "enable-namespace", {{"dev", "namespace0.7"}})},
                     {"finished: namespace0.0 enabled", "finished: namespace0.1 disabled",
                      "namespace0.7 no longer exists"});
  ASSERT_TRUE(o);
  auto inv = *o->List();
  ASSERT_EQ(inv.namespaces.size(), 2u);
  EXPECT_TRUE(inv.namespaces[0].enabled);
  EXPECT_FALSE(inv.namespaces[1].enabled);
}

TEST_F(OwnerTest, InterruptedReconfigureNamespaceIsFinishedOrKeptWhenItHadCompleted) {
  const std::string done_uuid = "11111111-2222-4333-8444-555555555555";
  {
    auto p = NewPlatform();
    ASSERT_TRUE(p->CreateNamespace({.region = "region0", .mode = "fsdax", .size = kG}).ok());
    ASSERT_TRUE(p->CreateNamespace({.region = "region0", .mode = "fsdax", .size = kG}).ok());
    // namespace0.1 got all the way to devdax before the crash.
    ASSERT_TRUE(p->ReconfigureNamespace("namespace0.1", {.mode = "devdax", .uuid = done_uuid}).ok());
  }
  auto o = Reconcile(
      {Intent(1, "reconfigure-namespace",
              {{"dev", "namespace0.0"},
               {"spec", {{"mode", "devdax"}, {"uuid", "aaaaaaaa-2222-4333-8444-555555555555"}}}}),
       Intent(2, "reconfigure-namespace", {{"dev", "namespace0.1"}, {"spec", {{"mode", "devdax"}, {"uuid", done_uuid}}}}),
       Intent(3, "reconfigure-namespace", {{"dev", "namespace0.5"}, {"spec", {{"mode", "devdax"}}}})},
      {"finished reconfiguring namespace0.0 to devdax", "it had completed: namespace0.1 is devdax",
       "namespace0.5 no longer exists"});
  ASSERT_TRUE(o);
  auto inv = *o->List();
  ASSERT_EQ(inv.namespaces.size(), 2u);
  EXPECT_EQ(inv.namespaces[0].mode, "devdax");
  EXPECT_EQ(inv.namespaces[1].mode, "devdax");
  EXPECT_EQ(inv.namespaces[1].raw_uuid.value_or(inv.namespaces[1].uuid.value_or("")), done_uuid);
}

TEST_F(OwnerTest, UnknownOperationInTheJournalIsCorruptionAndKeptForAHuman) {
  WriteJournal({Intent(9, "resize-namespace", {{"dev", "namespace0.0"}})});
  auto o = PlatformOwner::Open(NewPlatform(), dir_ + "/intents.json", &events_);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), Code::kCorruption);
  EXPECT_NE(o.status().message().find("unknown operation 'resize-namespace'"), std::string::npos);
  EXPECT_EQ(Journal()["intents"].size(), 1u);
}

TEST_F(OwnerTest, UnreadableJournalIsRefused) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/intents.json", "{\"intents\": [").ok());
  auto o = PlatformOwner::Open(NewPlatform(), dir_ + "/intents.json", &events_);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), Code::kCorruption);
}

TEST_F(OwnerTest, ReconfigureNeedsForceAndKeepsDataOtherwise) {
  auto o = Open();
  auto n = o->CreateNamespace({.region = "region0", .mode = "fsdax", .size = kG});
  ASSERT_TRUE(n.ok());
  auto r = o->ReconfigureNamespace("namespace0.0", {.mode = "devdax"}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("destroys the data"), std::string::npos);
  EXPECT_EQ(o->List()->namespaces[0].mode, "fsdax");
  EXPECT_EQ(o->List()->namespaces[0].uuid, n->uuid);
  r = o->ReconfigureNamespace("namespace0.0", {.mode = "devdax"}, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->mode, "devdax");
  EXPECT_EQ(r->chardev, "dax0.0");
  EXPECT_NE(r->uuid, n->uuid);
}

TEST_F(OwnerTest, InUseCheckProtectsNamespaces) {
  auto o = Open();
  ASSERT_TRUE(o->CreateNamespace({.region = "region0", .mode = "devdax", .size = kG}).ok());
  o->SetInUseCheck([](const std::string& dev) {
    return dev == "dax0.0" ? Status::Busy("dax0.0 holds pool p0; detach-pool p0 first") : Status::Ok();
  });
  Status s = o->DestroyNamespace("namespace0.0", true);
  EXPECT_EQ(s.code(), Code::kBusy);
  EXPECT_NE(s.message().find("pool p0"), std::string::npos);
  EXPECT_EQ(o->List()->namespaces.size(), 1u);
}

TEST_F(OwnerTest, ConcurrentCreatesInOneRegionAreSerialized) {
  auto o = Open();
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, nospace{0}, other{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      auto r = o->CreateNamespace({.region = "region0", .mode = "fsdax", .size = 768 * kM});
      if (r.ok()) ++ok;
      else if (r.status().code() == Code::kNoSpace) ++nospace;
      else ++other;
    });
  for (auto& t : threads) t.join();
  // 4 GiB holds five 768 MiB namespaces.
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(nospace.load(), 3);
  EXPECT_EQ(other.load(), 0);
  auto inv = *o->List();
  ASSERT_EQ(inv.namespaces.size(), 5u);
  std::vector<std::string> devs;
  for (const auto& n : inv.namespaces) devs.push_back(n.dev);
  std::sort(devs.begin(), devs.end());
  EXPECT_EQ(std::unique(devs.begin(), devs.end()), devs.end());
  EXPECT_EQ(inv.regions[0].available_size, 4 * kG - 5 * 768 * kM);
}

}  // namespace
}  // namespace pmemd
