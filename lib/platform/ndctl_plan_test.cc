#include "platform/ndctl_plan.h"

#include <gtest/gtest.h>

#include "platform/kernel_oracle_testing.h"
#include "platform/namespace_rules.h"

namespace pmemd::ndctl {
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

TEST(NdctlPlan, FsdaxSizeIsWhatTheKernelLeavesAfterItsMetadataAtTheSeed) {
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

TEST(NdctlPlan, CallersUuidIsKeptAndMustBeUnique) {
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

TEST(NdctlPlan, DefaultSizeIsTheLargestExtentRoundedToTheAlignment) {
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

TEST(NdctlPlan, OneGigAlignFailsWhereTheKernelsFirstFitIsMisaligned) {
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

TEST(NdctlPlan, FailsAsTheKernelWould) {
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

TEST(NdctlPlan, ReconfigureKeepsTheExtentAndChecksAlignment) {
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

TEST(NdctlPlan, LabelLessReconfigureHasNoName) {
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

TEST(NdctlPlan, ParseUuid) {
  unsigned char u[16];
  ASSERT_TRUE(ParseUuid("01234567-89ab-cdef-0123-456789ABCDEF", u));
  EXPECT_EQ(u[0], 0x01);
  EXPECT_EQ(u[4], 0x89);
  EXPECT_EQ(u[15], 0xef);
  EXPECT_FALSE(ParseUuid("not-a-uuid", u));
}

}  // namespace
}  // namespace pmemd::ndctl
