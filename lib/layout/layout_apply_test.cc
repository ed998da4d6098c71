// Layouts applied on the emulated platform through the real PlatformOwner
// and PoolManager: each object kind converges (a second apply plans
// nothing), exports apply to nothing, and a refused layout changes nothing.
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "pmemd/emulated_platform.h"
#include "pmemd/events.h"
#include "pmemd/layout.h"
#include "support/temp_dir.h"

namespace pmemd {
namespace {

using nlohmann::json;
constexpr uint64_t kM = 1ull << 20, kG = 1ull << 30;

// The emulated platform, with two things a test can do to it: hold a
// create-namespace until released (to race with an apply), and report a
// namespace as used by another process (what device_users finds on real
// pmem).
class TestPlatform : public Platform {
 public:
  explicit TestPlatform(std::unique_ptr<EmulatedPlatform> p) : p_(std::move(p)) {}
  std::string_view Kind() const override { return p_->Kind(); }
  Result<Inventory> List() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      ++lists_;
    }
    cv_.notify_all();
    return p_->List();
  }
  Result<NamespacePlan> PlanCreateNamespace(const NamespaceSpec& s) override { return p_->PlanCreateNamespace(s); }
  Result<Namespace> CreateNamespace(const NamespaceSpec& s) override {
    std::unique_lock<std::mutex> l(mu_);
    if (gate_) {
      in_create_ = true;
      cv_.notify_all();
      cv_.wait(l, [&] { return !gate_; });
    }
    l.unlock();
    return p_->CreateNamespace(s);
  }
  Status DestroyNamespace(const std::string& d, bool f) override { return p_->DestroyNamespace(d, f); }
  Status EnableNamespace(const std::string& d) override { return p_->EnableNamespace(d); }
  Status DisableNamespace(const std::string& d) override { return p_->DisableNamespace(d); }
  Result<NamespacePlan> PlanReconfigureNamespace(const std::string& d, const NamespaceSpec& s) override {
    return p_->PlanReconfigureNamespace(d, s);
  }
  Result<Namespace> ReconfigureNamespace(const std::string& d, const NamespaceSpec& s) override {
    return p_->ReconfigureNamespace(d, s);
  }
  std::vector<Result<NamespacePlan>> PlanCreateSeries(const std::vector<std::string>& released,
                                                      const std::vector<NamespaceSpec>& specs) override {
    return p_->PlanCreateSeries(released, specs);
  }
  Status CheckUnused(const std::string& dev, const std::string& op) override {
    std::lock_guard<std::mutex> l(mu_);
    if (dev == used_)
      return Status::Busy("cannot " + op + " " + dev + ": /dev/pmem0 is in use (mounted); unmount it");
    return Status::Ok();
  }
  Result<DaxDevice> ReconfigureDevice(const std::string& c, const std::string& m, bool o, bool mv,
                                      const ProgressFn& pr) override {
    return p_->ReconfigureDevice(c, m, o, mv, pr);
  }
  Result<MemoryOpResult> OnlineMemory(const std::string& c, bool m, const ProgressFn& pr) override {
    return p_->OnlineMemory(c, m, pr);
  }
  Result<MemoryOpResult> OfflineMemory(const std::string& c, const ProgressFn& pr) override {
    return p_->OfflineMemory(c, pr);
  }
  Result<DimmHealthMap> ReadDimmHealth() override { return p_->ReadDimmHealth(); }
  Result<DaxBacking> GetDaxBacking(const std::string& c) override { return p_->GetDaxBacking(c); }

  void MarkUsed(const std::string& dev) {
    std::lock_guard<std::mutex> l(mu_);
    used_ = dev;
  }
  void Gate() {
    std::lock_guard<std::mutex> l(mu_);
    gate_ = true;
  }
  void WaitInCreate() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return in_create_; });
  }
  uint64_t lists() {
    std::lock_guard<std::mutex> l(mu_);
    return lists_;
  }
  void WaitLists(uint64_t n) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return lists_ >= n; });
  }
  void Release() {
    {
      std::lock_guard<std::mutex> l(mu_);
      gate_ = false;
    }
    cv_.notify_all();
  }

 private:
  std::unique_ptr<EmulatedPlatform> p_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool gate_ = false, in_create_ = false;
  uint64_t lists_ = 0;
  std::string used_;
};

class LayoutApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EmulatedConfig config;
    config.regions = {EmulatedRegionConfig{.size = 8 * kG}};
    auto e = NewEmulatedPlatform(config, dir_.path(), &events_);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    auto p = std::make_unique<TestPlatform>(std::move(e).value());
    platform_ = p.get();
    auto o = PlatformOwner::Open(std::move(p), dir_ / "intents.json", &events_);
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    owner_ = std::move(o).value();
    auto m = PoolManager::Open(owner_.get(), dir_.path(), &events_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    pools_ = std::move(m).value();
    owner_->SetInUseCheck([pools = pools_.get()](const std::string& dev) { return pools->InUse(dev); });
    applier_ = std::make_unique<LayoutApplier>(owner_.get(), pools_.get());
  }
  void TearDown() override { owner_->SetInUseCheck(nullptr); }

  Layout Parse(const json& doc) {
    Result<Layout> l = ParseLayout(doc);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? *l : Layout{};
  }
  // Applies and returns the ops it ran, in order.
  std::vector<std::string> Apply(const json& doc, ApplyOptions o = {}) {
    Result<ApplyResult> r = applier_->Apply(Parse(doc), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> ops;
    if (r.ok())
      for (const auto& s : r->plan.steps) ops.push_back(s.op + " " + s.object);
    return ops;
  }
  // Applies `doc` twice: the first must do something, the second nothing.
  void ExpectConverges(const json& doc) {
    EXPECT_FALSE(Apply(doc).empty()) << doc.dump();
    EXPECT_EQ(Apply(doc), std::vector<std::string>{}) << doc.dump();
  }
  json Export() {
    Result<LayoutSnapshot> s = applier_->Snapshot();
    EXPECT_TRUE(s.ok());
    return s.ok() ? LayoutToJson(ExportLayout(*s)) : json();
  }
  Result<ApplyResult> Try(const json& doc, ApplyOptions o = {}) { return applier_->Apply(Parse(doc), o); }
  static bool Mentions(const Status& s, const std::string& text) {
    return s.message().find(text) != std::string::npos;
  }

  testing::TempDir dir_{"pmemd-layout"};
  EventBus events_;
  TestPlatform* platform_ = nullptr;
  std::unique_ptr<PlatformOwner> owner_;
  std::unique_ptr<PoolManager> pools_;
  std::unique_ptr<LayoutApplier> applier_;
};

json Ns(const std::string& name, const std::string& mode, uint64_t size) {
  return {{"name", name}, {"region", "region0"}, {"mode", mode}, {"size", size}};
}

TEST_F(LayoutApplyTest, FsdaxAndDevdaxNamespacesConverge) {
  ExpectConverges({{"namespaces", {Ns("fs", "fsdax", kG), Ns("dd", "devdax", kG)}}});
  auto inv = owner_->List();
  ASSERT_EQ(inv->namespaces.size(), 2u);
}

TEST_F(LayoutApplyTest, SystemRamOnlineMovableAndNormalConverge) {
  json doc = {{"namespaces", {Ns("ram", "devdax", kG)}},
              {"system_ram", {{{"namespace", "ram"}, {"online", true}, {"movable", true}}}}};
  ExpectConverges(doc);
  auto inv = owner_->List();
  ASSERT_EQ(inv->dax_devices.size(), 1u);
  EXPECT_EQ(inv->dax_devices[0].mode, "system-ram");
  EXPECT_EQ(inv->dax_devices[0].online_memblocks, inv->dax_devices[0].total_memblocks);
  // The zone changes: offline, then online into ZONE_NORMAL; then nothing.
  doc["system_ram"][0]["movable"] = false;
  EXPECT_EQ(Apply(doc), (std::vector<std::string>{"offline-memory memory of dax0.0 (namespace ram)",
                                                  "online-memory memory of dax0.0 (namespace ram)"}));
  EXPECT_TRUE(Apply(doc).empty());
  doc["system_ram"][0]["online"] = false;
  ExpectConverges(doc);
  EXPECT_EQ(owner_->List()->dax_devices[0].online_memblocks, 0u);
}

// After a reboot the kernel brings every kmem device back as devdax; the
// start-up layout (never forced) must make it system RAM again, as
// reconfigure-device and daxctl do without force.
TEST_F(LayoutApplyTest, ADevdaxDeviceThatTheLayoutNamesAsSystemRamNeedsNoForce) {
  json doc = {{"namespaces", {Ns("ram", "devdax", kG)}}};
  ExpectConverges(doc);
  doc["system_ram"] = {{{"namespace", "ram"}}};
  Result<ApplyResult> r = Try(doc);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->plan.steps.size(), 1u);
  EXPECT_EQ(r->plan.steps[0].op, "reconfigure-device");
  EXPECT_FALSE(r->plan.steps[0].destroys_data);
  EXPECT_EQ(owner_->List()->dax_devices[0].mode, "system-ram");
  EXPECT_TRUE(Apply(doc).empty());
}

TEST_F(LayoutApplyTest, PoolsOnADeviceAndOnAFileBlocksAndLeasesConverge) {
  json doc = {{"namespaces", {Ns("dd", "devdax", kG)}},
              {"pools",
               {{{"name", "pd"}, {"namespace", "dd"}, {"block_size", "64M"}, {"online_blocks", "all"}},
                {{"name", "pf"}, {"path", dir_ / "pool.img"}, {"size", "256M"}, {"block_size", "32M"},
                 {"memmap", "mem"}, {"online_blocks", "0-1"}}}},
              {"leases",
               {{{"pool", "pd"}, {"name", "l1"}, {"size", "64M"}, {"owner", "app"}},
                {{"pool", "pf"}, {"name", "l2"}, {"size", 4 * kM}, {"align", 4096}}}}};
  ExpectConverges(doc);
  auto pf = pools_->Find("pf");
  ASSERT_TRUE(pf.ok());
  EXPECT_EQ((*pf)->Describe().blocks_online, 2u);
  ASSERT_TRUE((*pf)->GetLease("l2").ok());
  EXPECT_EQ((*pools_->Find("pd"))->GetLease("l1")->owner, "app");
  // More blocks online: one online-blocks step, then nothing.
  doc["pools"][1]["online_blocks"] = "0-3";
  EXPECT_EQ(Apply(doc), std::vector<std::string>{"online-blocks pool pf blocks 2-3"});
  EXPECT_TRUE(Apply(doc).empty());
}

TEST_F(LayoutApplyTest, AnExportAppliesToNothing) {
  Apply({{"namespaces", {Ns("fs", "fsdax", kG), Ns("dd", "devdax", kG), Ns("ram", "devdax", kG)}},
         {"system_ram", {{{"namespace", "ram"}, {"movable", false}}}},
         {"pools", {{{"name", "pd"}, {"namespace", "dd"}, {"online_blocks", "0-2"}}}},
         {"leases", {{{"pool", "pd"}, {"name", "l"}, {"size", "2M"}, {"labels", {{"a", "b"}}}}}}});
  // And something no layout made: an unnamed namespace.
  ASSERT_TRUE(owner_->CreateNamespace({.region = "region0", .mode = "raw", .size = 64 * kM}).ok());
  json exported = Export();
  EXPECT_EQ(exported["namespaces"].size(), 3u) << exported.dump();
  EXPECT_EQ(exported["pools"][0]["namespace"], "dd") << exported.dump();
  EXPECT_EQ(exported["pools"][0]["online_blocks"], "0-2") << exported.dump();
  EXPECT_EQ(Apply(exported), std::vector<std::string>{});
  // Without prune the unnamed one stays; with prune (and force) it goes.
  EXPECT_EQ(owner_->List()->namespaces.size(), 4u);
  EXPECT_EQ(Apply(exported, {.prune = true, .force = true}),
            std::vector<std::string>{"destroy-namespace namespace namespace0.3"});
}

TEST_F(LayoutApplyTest, ADryRunChangesNothing) {
  json doc = {{"namespaces", {Ns("dd", "devdax", kG)}}, {"pools", {{{"name", "p"}, {"namespace", "dd"}}}}};
  Result<ApplyResult> r = Try(doc, {.dry_run = true});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->plan.steps.size(), 2u);
  EXPECT_EQ(r->plan.steps[0].op, "create-namespace");
  EXPECT_EQ(r->plan.steps[1].params["of_namespace"], "dd");
  EXPECT_EQ(r->done, 0u);
  EXPECT_TRUE(owner_->List()->namespaces.empty());
  EXPECT_TRUE(pools_->Pools().empty());
}

TEST_F(LayoutApplyTest, PruneWithoutForceRefusesDataLossAndChangesNothing) {
  Apply({{"namespaces", {Ns("dd", "devdax", kG), Ns("old", "fsdax", kG)}},
         {"pools", {{{"name", "p"}, {"namespace", "dd"}, {"online_blocks", "all"}}}},
         {"leases", {{{"pool", "p"}, {"name", "keep"}, {"size", "2M"}}, {{"pool", "p"}, {"name", "gone"}, {"size", "2M"}}}}});
  json smaller = {{"namespaces", {Ns("dd", "devdax", kG)}},
                  {"pools", {{{"name", "p"}, {"namespace", "dd"}}}},
                  {"leases", {{{"pool", "p"}, {"name", "keep"}, {"size", "2M"}}}}};
  // Without prune what the layout leaves out stays.
  EXPECT_TRUE(Apply(smaller).empty());
  Result<ApplyResult> r = Try(smaller, {.prune = true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(Mentions(r.status(), "delete-lease lease p/gone destroys data")) << r.status().message();
  EXPECT_TRUE(Mentions(r.status(), "destroy-namespace namespace old (namespace0.1) destroys data"))
      << r.status().message();
  EXPECT_TRUE(Mentions(r.status(), "pass force")) << r.status().message();
  EXPECT_EQ(owner_->List()->namespaces.size(), 2u);
  EXPECT_TRUE((*pools_->Find("p"))->GetLease("gone").ok());
  // The layout's own "prune" is the same; with force it goes through.
  smaller["prune"] = true;
  EXPECT_EQ(Apply(smaller, {.force = true}), (std::vector<std::string>{"delete-lease lease p/gone",
                                                                       "destroy-namespace namespace old (namespace0.1)"}));
  EXPECT_TRUE(Apply(smaller).empty());
}

TEST_F(LayoutApplyTest, SizesThatCannotFitOrAlignAreAllNamedAndNothingChanges) {
  json doc = {{"namespaces",
               {Ns("a", "fsdax", 4 * kG), Ns("b", "fsdax", 3 * kG), Ns("c", "fsdax", 2 * kG),
                Ns("odd", "fsdax", kG + kM), {{"name", "bad-align"}, {"region", "region0"}, {"mode", "devdax"},
                                               {"size", kG}, {"align", 3 * kM}}}}};
  Result<ApplyResult> r = Try(doc);
  ASSERT_FALSE(r.ok());
  const Status& s = r.status();
  ASSERT_NE(s.detail(), nullptr);
  const json& problems = (*s.detail())["problems"];
  EXPECT_EQ(problems.size(), 3u) << s.message();  // c does not fit after a and b; odd; bad-align
  EXPECT_TRUE(Mentions(s, "namespace 'c'")) << s.message();
  EXPECT_TRUE(Mentions(s, "namespace 'odd'")) << s.message();
  EXPECT_TRUE(Mentions(s, "namespace 'bad-align'")) << s.message();
  EXPECT_FALSE(Mentions(s, "namespace 'a'")) << s.message();
  EXPECT_TRUE(owner_->List()->namespaces.empty());
}

TEST_F(LayoutApplyTest, ANamespaceInUseIsBusyAndNothingChanges) {
  Apply({{"namespaces", {Ns("dd", "devdax", kG), Ns("fs", "fsdax", kG)}},
         {"pools", {{{"name", "p"}, {"namespace", "dd"}}}}});
  // The layout keeps the pool on dax0.0 but re-makes its namespace bigger.
  Result<ApplyResult> r = Try({{"namespaces", {Ns("dd", "devdax", 2 * kG), Ns("fs", "fsdax", kG)}},
                               {"pools", {{{"name", "p"}, {"device", "dax0.0"}}}}},
                              {.force = true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kBusy) << r.status().message();
  EXPECT_TRUE(Mentions(r.status(), "namespace0.0 holds pool 'p', which the layout keeps")) << r.status().message();
  // Mounted (what the platform finds outside pmemd): busy too.
  platform_->MarkUsed("namespace0.1");
  r = Try({{"namespaces", {Ns("dd", "devdax", kG), Ns("fs", "devdax", kG)}},
           {"pools", {{{"name", "p"}, {"device", "dax0.0"}}}}},
          {.force = true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kBusy) << r.status().message();
  EXPECT_TRUE(Mentions(r.status(), "cannot reconfigure namespace0.1: /dev/pmem0 is in use")) << r.status().message();
  auto inv = owner_->List();
  EXPECT_EQ(inv->namespaces[0].raw_size, kG);
  EXPECT_EQ(inv->namespaces[1].mode, "fsdax");
}

TEST_F(LayoutApplyTest, AFailedStepStopsTheApplyAndSaysWhatRanAndWhatDidNot) {
  // The pool's file cannot be made (its directory does not exist): found
  // when the step runs, after the namespace was created.
  json doc = {{"namespaces", {Ns("dd", "devdax", kG)}},
              {"pools", {{{"name", "f"}, {"path", dir_ / "missing/pool.img"}, {"size", "64M"}, {"block_size", "2M"}}}},
              {"leases", {{{"pool", "f"}, {"name", "l"}, {"size", "2M"}}}}};
  doc["pools"][0]["online_blocks"] = "all";
  Result<ApplyResult> r = Try(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.status(), "apply stopped at step 2. create-pool pool f of 4")) << r.status().message();
  EXPECT_TRUE(Mentions(r.status(), "Done: 1. create-namespace namespace dd")) << r.status().message();
  ASSERT_NE(r.status().detail(), nullptr);
  const json& steps = (*r.status().detail())["steps"];
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0]["state"], "done");
  EXPECT_EQ(steps[1]["state"], "failed");
  EXPECT_EQ(steps[2]["state"], "not_run");
  EXPECT_EQ(owner_->List()->namespaces.size(), 1u);
  // Applying again plans from there: the namespace is not made twice.
  r = Try(doc, {.dry_run = true});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->plan.steps.front().op, "create-pool");
}

// A create-namespace holds region0 when the apply starts: the apply waits
// for it, then plans from what it made (no second namespace, no step).
TEST_F(LayoutApplyTest, AnApplyRacingASingleOperationWaitsAndReplans) {
  platform_->Gate();
  std::thread single([&] {
    EXPECT_TRUE(owner_->CreateNamespace({.region = "region0", .mode = "devdax", .size = kG, .name = "dd"}).ok());
  });
  platform_->WaitInCreate();
  Result<ApplyResult> r = Status::Internal("not run");
  const uint64_t lists = platform_->lists();
  std::thread apply([&] { r = Try({{"namespaces", {Ns("dd", "devdax", kG)}}}); });
  platform_->WaitLists(lists + 1);  // the apply has started taking the regions
  platform_->Release();
  single.join();
  apply.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->plan.steps.empty());
  EXPECT_EQ(owner_->List()->namespaces.size(), 1u);
}

}  // namespace
}  // namespace pmemd
