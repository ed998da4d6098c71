#include "platform/namespace_plan.h"

#include <filesystem>
#include <memory>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "platform/kernel_oracle_testing.h"
#include "platform/namespace_rules.h"
#include "pmemd/emulated_platform.h"
#include "support/temp_dir.h"
#include "pmemd/uuid.h"

namespace pmemd::nsplan {
namespace {

constexpr uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;

// A region like QEMU's 2 GiB NVDIMM: at 4 GiB, 0x7ffe0000 bytes (labels take
// the last 128 KiB), 16 MiB aligned.
Facts OneRegion() {
  Facts f;
  RegionFacts r;
  r.dev = "region0";
  r.number = "0";
  r.phys_start = 4 * kGiB;
  r.size = 0x7ffe0000;
  r.free_label_slots = 254;
  r.seed = "namespace0.0";
  r.pfn_aligns = {4096, 2 * kMiB, kGiB};
  r.dax_aligns = {4096, 2 * kMiB, kGiB};
  f.regions.push_back(r);
  return f;
}

void AddNamespace(Facts* f, const std::string& dev, uint64_t offset, uint64_t size, const std::string& uuid) {
  f->regions[0].used.emplace_back(offset, size);
  NamespaceFacts n;
  n.dev = dev;
  n.region = "region0";
  n.mode = "fsdax";
  n.raw_size = size;
  n.offset = offset;
  n.raw_uuid = uuid;
  n.enabled = true;
  f->namespaces.push_back(n);
}

NamespaceSpec Spec(const std::string& mode, std::optional<uint64_t> size, std::optional<uint64_t> align = {}) {
  NamespaceSpec s;
  s.region = "0";
  s.mode = mode;
  s.size = size;
  s.align = align;
  return s;
}

// What the kernel leaves usable (kernel_oracle_testing.h, not the planner's
// own rules) of a map=dev namespace at `offset` into OneRegion().
uint64_t KernelPfnUsable(uint64_t offset, uint64_t raw, uint64_t align) {
  auto usable = kernel_oracle::PfnUsable(4 * kGiB + offset, raw, align, /*map_dev=*/true);
  EXPECT_TRUE(usable) << "the kernel refuses " << raw << " bytes at " << offset;
  return usable.value_or(0);
}

TEST(NamespacePlan, FsdaxSizeIsWhatTheKernelLeavesAfterItsMetadataAtTheSeed) {
  auto plan = PlanCreate(OneRegion(), Spec("fsdax", 512 * kMiB));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->dev, "namespace0.0");
  EXPECT_EQ(plan->region, "region0");
  EXPECT_EQ(plan->offset, 0u);
  EXPECT_EQ(plan->raw_size, 512 * kMiB);
  EXPECT_EQ(plan->size, KernelPfnUsable(0, 512 * kMiB, 2 * kMiB));
  EXPECT_EQ(plan->metadata_size, 512 * kMiB - plan->size);
  EXPECT_EQ(plan->map, "dev");
  EXPECT_TRUE(IsUuid(plan->uuid));
}

TEST(NamespacePlan, CallersUuidIsKeptAndMustBeUnique) {
  Facts f = OneRegion();
  AddNamespace(&f, "namespace0.0", 0, 256 * kMiB, "11111111-2222-4333-8444-555555555555");
  NamespaceSpec s = Spec("sector", 256 * kMiB);
  s.uuid = "11111111-2222-4333-8444-555555555555";
  auto dup = PlanCreate(f, s);
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists);
  EXPECT_NE(dup.status().message().find("namespace0.0"), std::string::npos);
  s.uuid = "aaaaaaaa-2222-4333-8444-555555555555";
  auto plan = PlanCreate(f, s);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->uuid, s.uuid);
  EXPECT_EQ(plan->offset, 256 * kMiB);  // after the existing one: first fit
  EXPECT_EQ(plan->size, 267091968u);  // the kernel's BTT over 256 MiB (testdata/kernel_sizes_nvdimm_*.json)
}

TEST(NamespacePlan, DefaultSizeIsTheLargestExtentRoundedToTheAlignment) {
  // 0x7ffe0000 rounded down to 1 GiB: and 1 GiB of devdax at 1 GiB alignment
  // has no room after its metadata (the kernel: "unable to satisfy requested
  // alignment").
  auto plan = PlanCreate(OneRegion(), Spec("devdax", std::nullopt, kGiB));
  EXPECT_EQ(plan.status().code(), Code::kInvalidArgument);
  EXPECT_NE(plan.status().message().find("1073741824 bytes has no room"), std::string::npos);
  auto plan2 = PlanCreate(OneRegion(), Spec("fsdax", std::nullopt));
  ASSERT_TRUE(plan2.ok());
  EXPECT_EQ(plan2->raw_size, 0x7f000000u);  // rounded down to 16 MiB
}

TEST(NamespacePlan, OneGigAlignFailsWhereTheKernelsFirstFitIsMisaligned) {
  Facts f = OneRegion();
  AddNamespace(&f, "namespace0.0", 0, 256 * kMiB, "11111111-2222-4333-8444-555555555555");
  // The kernel would put 1 GiB at offset 256 MiB: not on a 1 GiB boundary.
  auto plan = PlanCreate(f, Spec("devdax", kGiB, kGiB));
  ASSERT_EQ(plan.status().code(), Code::kNoSpace);
  EXPECT_NE(plan.status().message().find("1073741824-byte boundary"), std::string::npos)
      << plan.status().message();
  EXPECT_NE(plan.status().message().find("offset 268435456"), std::string::npos) << plan.status().message();
  // 2 MiB alignment is fine there.
  EXPECT_TRUE(PlanCreate(f, Spec("devdax", kGiB, 2 * kMiB)).ok());
}

TEST(NamespacePlan, FailsAsTheKernelWould) {
  Facts f = OneRegion();
  EXPECT_EQ(PlanCreate(f, Spec("fsdax", 100 * kMiB)).status().code(), Code::kInvalidArgument);  // not 16M multiple
  EXPECT_EQ(PlanCreate(f, Spec("fsdax", 4 * kGiB)).status().code(), Code::kNoSpace);
  auto unknown = PlanCreate(f, [] { NamespaceSpec s; s.region = "region7"; return s; }());
  EXPECT_EQ(unknown.status().code(), Code::kNotFound);
  EXPECT_NE(unknown.status().message().find("known regions: region0"), std::string::npos);
  f.regions[0].free_label_slots = 0;
  f.regions[0].full_dimm = "nmem0";
  auto full = PlanCreate(f, Spec("fsdax", 512 * kMiB));
  EXPECT_EQ(full.status().code(), Code::kNoSpace);
  EXPECT_NE(full.status().message().find("label area is full"), std::string::npos);
  f = OneRegion();
  f.regions[0].dax_aligns = {4096, 2 * kMiB};  // no hugepage support
  EXPECT_EQ(PlanCreate(f, Spec("devdax", kGiB, kGiB)).status().code(), Code::kInvalidArgument);
  f = OneRegion();
  f.regions[0].labels = false;
  f.regions[0].io_namespace = "namespace0.0";
  auto io = PlanCreate(f, Spec("fsdax", 512 * kMiB));
  EXPECT_EQ(io.status().code(), Code::kUnsupported);
  EXPECT_NE(io.status().message().find("reconfigure-namespace namespace0.0"), std::string::npos);
}

TEST(NamespacePlan, ReconfigureKeepsTheExtentAndChecksAlignment) {
  Facts f = OneRegion();
  AddNamespace(&f, "namespace0.0", 0, 256 * kMiB, "11111111-2222-4333-8444-555555555555");
  AddNamespace(&f, "namespace0.1", 256 * kMiB, kGiB, "21111111-2222-4333-8444-555555555555");
  f.namespaces[1].name = "db";
  auto plan = PlanReconfigure(f, "namespace0.1", Spec("devdax", std::nullopt));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->dev, "namespace0.1");
  EXPECT_EQ(plan->offset, 256 * kMiB);
  EXPECT_EQ(plan->raw_size, kGiB);
  EXPECT_EQ(plan->name, "db");
  EXPECT_EQ(plan->size, KernelPfnUsable(256 * kMiB, kGiB, 2 * kMiB));
  EXPECT_EQ(PlanReconfigure(f, "namespace0.1", Spec("devdax", std::nullopt, kGiB)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(PlanReconfigure(f, "namespace0.1", Spec("fsdax", 512 * kMiB)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PlanReconfigure(f, "namespace0.9", Spec("fsdax", {})).status().code(), Code::kNotFound);
  f.namespaces[1].system_ram = "dax0.1";
  EXPECT_EQ(PlanReconfigure(f, "namespace0.1", Spec("fsdax", {})).status().code(), Code::kBusy);
}

TEST(NamespacePlan, LabelLessReconfigureHasNoName) {
  Facts f = OneRegion();
  f.regions[0].labels = false;
  AddNamespace(&f, "namespace0.0", 0, kGiB, "");
  f.namespaces[0].label_less = true;
  auto plan = PlanReconfigure(f, "namespace0.0", Spec("fsdax", std::nullopt));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->size, 1054867456u);  // measured on the 6.1 kernel (tests/vm/README.md)
  EXPECT_TRUE(IsUuid(plan->uuid));
  EXPECT_EQ(plan->name, "");
}

// ---------------------------------------------------------------------------
// The same planning cases against both backends' facts: the ndctl platform's
// (made up here as GatherFacts reads them from a kernel) and the emulated
// platform's (gathered from its labels behind the Platform interface).

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<NamespacePlan> Plan(const NamespaceSpec& spec) = 0;
  virtual Result<Namespace> Create(const NamespaceSpec& spec) = 0;
  virtual Region Listed() = 0;  // region0 as List() shows it
};

// What the ndctl platform sees of QEMU's 2 GiB NVDIMM; a create does what
// the kernel does (the label gets the planned uuid, the pfn/dax/btt its own).
class NdctlFactsBackend : public Backend {
 public:
  NdctlFactsBackend() : f_(OneRegion()) { Refresh(); }
  Result<NamespacePlan> Plan(const NamespaceSpec& spec) override { return PlanCreate(f_, spec); }
  Result<Namespace> Create(const NamespaceSpec& spec) override {
    PMEMD_ASSIGN_OR_RETURN(NamespacePlan p, PlanCreate(f_, spec));
    NamespaceFacts n{.dev = p.dev, .region = p.region, .mode = p.mode, .raw_size = p.raw_size, .offset = p.offset,
                     .raw_uuid = p.uuid, .uuid = p.mode == "raw" ? "" : NewUuid(), .enabled = true};
    f_.namespaces.push_back(n);
    f_.regions[0].used.emplace_back(p.offset, p.raw_size);
    f_.regions[0].seed = "namespace0." + std::to_string(f_.namespaces.size());
    Refresh();
    Namespace out;
    out.dev = n.dev;
    out.mode = n.mode;
    if (!n.uuid.empty()) out.uuid = n.uuid;
    out.raw_uuid = n.raw_uuid;
    return out;
  }
  Region Listed() override {
    Region r;
    r.available_size = f_.regions[0].available_size;
    r.max_available_extent = f_.regions[0].max_available_extent;
    return r;
  }

 private:
  // The kernel's figures; KernelsFiguresForQemusRegion checks that they are
  // what ComputeRegionSpace gives.
  void Refresh() {
    RegionSpace s = ComputeRegionSpace(f_.regions[0]);
    f_.regions[0].available_size = s.available_size;
    f_.regions[0].max_available_extent = s.max_available_extent;
  }
  Facts f_;
};

class EmulatedBackend : public Backend {
 public:
  EmulatedBackend() {
    EmulatedConfig config;
    config.regions = {EmulatedRegionConfig{.size = 2 * kGiB}};
    auto p = NewEmulatedPlatform(config, dir_.path(), nullptr);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (p.ok()) p_ = std::move(*p);
  }
  Result<NamespacePlan> Plan(const NamespaceSpec& spec) override { return p_->PlanCreateNamespace(spec); }
  Result<Namespace> Create(const NamespaceSpec& spec) override { return p_->CreateNamespace(spec); }
  Region Listed() override { return p_->List()->regions[0]; }

 private:
  pmemd::testing::TempDir dir_{"pmemd-plan-test"};
  std::unique_ptr<EmulatedPlatform> p_;
};

class BothBackends : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "ndctl")
      b_ = std::make_unique<NdctlFactsBackend>();
    else
      b_ = std::make_unique<EmulatedBackend>();
  }
  std::unique_ptr<Backend> b_;
};

INSTANTIATE_TEST_SUITE_P(Facts, BothBackends, ::testing::Values("ndctl", "emulated"),
                         [](const auto& info) { return info.param; });

TEST_P(BothBackends, OneGigAlignmentTakesTheKernelsFirstFitAndRefusesWhenItIsMisaligned) {
  ASSERT_TRUE(b_->Create(Spec("fsdax", 256 * kMiB)).ok());
  // The kernel would place 1 GiB at offset 256 MiB; an aligned extent at
  // 1 GiB is free, but the kernel never uses it.
  auto plan = b_->Plan(Spec("devdax", kGiB, kGiB));
  ASSERT_EQ(plan.status().code(), Code::kNoSpace) << plan.status().ToString();
  EXPECT_NE(plan.status().message().find("1073741824-byte boundary where the kernel allocates"), std::string::npos)
      << plan.status().message();
  EXPECT_NE(plan.status().message().find("offset 268435456"), std::string::npos) << plan.status().message();
  // Filling the space before the aligned extent, as the message says, makes it the first fit.
  ASSERT_TRUE(b_->Create(Spec("raw", kGiB - 256 * kMiB)).ok());
  auto first_fit = b_->Plan(Spec("fsdax", 512 * kMiB));
  ASSERT_TRUE(first_fit.ok()) << first_fit.status().ToString();
  EXPECT_EQ(first_fit->offset, kGiB);
}

TEST_P(BothBackends, EitherUuidOfANamespaceIsAlreadyExistsWhenPlanning) {
  auto n = b_->Create(Spec("fsdax", 256 * kMiB));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_TRUE(n->uuid && n->raw_uuid);
  EXPECT_NE(*n->uuid, *n->raw_uuid) << "the info block has its own uuid, as the kernel's pfn device";
  for (const std::string& u : {*n->uuid, *n->raw_uuid}) {
    NamespaceSpec s = Spec("devdax", 256 * kMiB);
    s.uuid = u;
    auto plan = b_->Plan(s);
    EXPECT_EQ(plan.status().code(), Code::kAlreadyExists) << u << ": " << plan.status().ToString();
    EXPECT_NE(plan.status().message().find(n->dev), std::string::npos) << plan.status().message();
  }
}

// Every number in a no-space error is a size the request named, one List()
// shows for the region, or a size a plan accepts.
void ExpectNumbersFromList(Backend* b, const Status& s, std::set<uint64_t> named) {
  ASSERT_EQ(s.code(), Code::kNoSpace) << s.ToString();
  Region r = b->Listed();
  const std::string& m = s.message();
  EXPECT_NE(m.find("available_size is " + std::to_string(r.available_size) + ","), std::string::npos) << m;
  EXPECT_NE(m.find("max_available_extent " + std::to_string(r.max_available_extent) + ")"), std::string::npos)
      << m;
  std::smatch at_most;
  if (std::regex_search(m, at_most, std::regex("ask for at most ([0-9]+)"))) {
    uint64_t v = std::stoull(at_most[1]);
    named.insert(v);
    EXPECT_TRUE(b->Plan(Spec("fsdax", v)).ok()) << m;
  }
  named.insert({r.available_size, r.max_available_extent});
  std::string digits = m.substr(m.find(' '));  // past the region's name
  const std::regex number("[0-9]{4,}");
  for (std::sregex_iterator it(digits.begin(), digits.end(), number), end; it != end; ++it)
    EXPECT_TRUE(named.count(std::stoull(it->str()))) << it->str() << " in: " << m;
}

TEST_P(BothBackends, NoSpaceErrorsQuoteTheNumbersListShows) {
  ASSERT_TRUE(b_->Create(Spec("fsdax", 512 * kMiB)).ok());
  ExpectNumbersFromList(b_.get(), b_->Plan(Spec("fsdax", 4 * kGiB)).status(), {4 * kGiB});
  ExpectNumbersFromList(b_.get(), b_->Plan(Spec("devdax", 2 * kGiB, kGiB)).status(), {2 * kGiB, kGiB});
  // Full: a default-size create has nothing to take.
  ASSERT_TRUE(b_->Create(Spec("raw", std::nullopt)).ok());
  EXPECT_EQ(b_->Listed().available_size, 0u);
  ExpectNumbersFromList(b_.get(), b_->Plan(Spec("fsdax", std::nullopt)).status(), {16 * kMiB});
}

TEST_P(BothBackends, UnalignedSizesSuggestSizesThatPlan) {
  auto s = b_->Plan(Spec("fsdax", 100 * kMiB));
  ASSERT_EQ(s.status().code(), Code::kInvalidArgument);
  std::smatch m;
  const std::string msg = s.status().message();
  ASSERT_TRUE(std::regex_search(msg, m, std::regex("use ([0-9]+) or ([0-9]+)"))) << msg;
  EXPECT_TRUE(b_->Plan(Spec("fsdax", std::stoull(m[1]))).ok());
  EXPECT_TRUE(b_->Plan(Spec("fsdax", std::stoull(m[2]))).ok());
}

// Measured on the 6.1 kernel (QEMU, 2 GiB NVDIMM with a 128 KiB label
// area): after a 512 MiB namespace at the start, ndctl list says
// available_size and max_available_extent 1593835520; the region's last
// 16 MiB - 128 KiB cannot hold a namespace and is not counted.
TEST(NamespacePlan, KernelsFiguresForQemusRegion) {
  Facts f = OneRegion();
  AddNamespace(&f, "namespace0.0", 0, 512 * kMiB, "11111111-2222-4333-8444-555555555555");
  RegionSpace s = ComputeRegionSpace(f.regions[0]);
  EXPECT_EQ(s.available_size, 1593835520u);
  EXPECT_EQ(s.max_available_extent, 1593835520u);
  f.regions[0].available_size = s.available_size;
  f.regions[0].max_available_extent = s.max_available_extent;
  auto plan = PlanCreate(f, Spec("fsdax", 2 * kGiB));
  ASSERT_EQ(plan.status().code(), Code::kNoSpace);
  EXPECT_EQ(plan.status().message().find("1610481664"), std::string::npos) << plan.status().message();
  EXPECT_NE(plan.status().message().find("ask for at most 1593835520"), std::string::npos) << plan.status().message();
}

}  // namespace
}  // namespace pmemd::nsplan
