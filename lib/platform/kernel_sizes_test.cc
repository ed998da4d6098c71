// pmemd's namespace size rules against sizes measured on a real kernel.
//
// testdata/kernel_sizes_*.json were recorded with plain ndctl (no pmemd) by
// the tests/vm scenarios kernel_sizes and kernel_sizes_memmap (see
// testdata/README.md). Two things are checked for every recorded request:
// that the first-principles formulas of kernel_oracle_testing.h reproduce
// what the kernel did (so the other tests may use them as the kernel's
// word), and that pmemd's planner, given the same request on the same
// region, promises exactly the size the kernel then reported, or refuses
// what the kernel refused or made useless. One known difference:
// fsdax map=mem on a label-less namespace (NdctlSkipsTheInfoBlock).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "platform/kernel_oracle_testing.h"
#include "platform/namespace_plan.h"
#include "pmemd/fs.h"

namespace pmemd::nsplan {
namespace {

using nlohmann::json;
namespace ko = kernel_oracle;

// One recorded request and what the kernel made of it.
struct Measured {
  json entry;
  NamespaceSpec spec;
  bool created = false;
  uint64_t raw_size = 0;  // the namespace's size in sysfs
  uint64_t offset = 0;    // its start within the region
  uint64_t size = 0;      // what ndctl reported as usable
};

struct Fixture {
  std::string file;
  json doc;
  std::vector<Measured> entries;
  bool label_less() const { return doc["machine"]["type"] == "memmap"; }
  uint64_t region_start() const { return doc["machine"]["region_resource"].get<uint64_t>(); }
  uint64_t region_size() const { return doc["machine"]["region"][0]["size"].get<uint64_t>(); }
};

template <typename T>
std::optional<T> Opt(const json& v) {
  if (v.is_null()) return std::nullopt;
  return v.get<T>();
}

Fixture Load(const std::string& name) {
  Fixture f;
  f.file = std::string(PMEMD_SOURCE_DIR) + "/lib/platform/testdata/" + name;
  auto text = ReadFile(f.file);
  if (!text.ok()) {
    ADD_FAILURE() << text.status().ToString();
    return f;
  }
  f.doc = json::parse(*text);
  for (const json& e : f.doc["entries"]) {
    Measured m;
    m.entry = e;
    const json& r = e["request"];
    m.spec.region = "region0";
    m.spec.mode = r["mode"].get<std::string>();
    m.spec.map = Opt<std::string>(r["map"]);
    m.spec.align = Opt<uint64_t>(r["align"]);
    m.spec.sector_size = Opt<uint32_t>(r["sector_size"]);
    m.spec.size = Opt<uint64_t>(r["size"]);
    m.created = e["created"].get<bool>();
    if (m.created) {
      m.raw_size = e["raw_size"].get<uint64_t>();
      m.offset = e["resource"].get<uint64_t>() - f.region_start();
      m.size = e["ndctl"]["size"].get<uint64_t>();
    }
    f.entries.push_back(std::move(m));
  }
  return f;
}

const std::vector<std::string>& FixtureFiles() {
  static const std::vector<std::string> files = {"kernel_sizes_nvdimm_6.1.0-57-amd64.json",
                                                 "kernel_sizes_memmap_6.1.0-57-amd64.json"};
  return files;
}

// "request {...} -> kernel: N usable of M" for failure messages.
std::string Describe(const Measured& m) {
  std::string s = "request " + m.entry["request"].dump() + " -> kernel: ";
  if (!m.created) return s + "refused";
  return s + std::to_string(m.size) + " usable of " + std::to_string(m.raw_size) + " at offset " +
         std::to_string(m.offset);
}

// The region as pmemd's ndctl platform would read it at the moment of the
// request: empty, except that a namespace the kernel placed further in had
// the space before it taken (the scenario's 256 MiB raw namespace).
Facts RegionAsMeasured(const Fixture& f, const Measured& m) {
  Facts facts;
  RegionFacts r;
  r.dev = "region0";
  r.number = "0";
  r.phys_start = f.region_start();
  r.size = f.region_size();
  r.pfn_aligns = r.dax_aligns = {4096, 2 * ko::kMiB, ko::kGiB};
  if (f.label_less()) {
    r.labels = false;
    r.io_namespace = "namespace0.0";
    NamespaceFacts n{.dev = "namespace0.0", .region = "region0", .mode = "raw", .raw_size = r.size,
                     .enabled = true, .label_less = true};
    r.used.emplace_back(0, r.size);
    facts.namespaces.push_back(n);
  } else {
    r.free_label_slots = 254;
    r.seed = "namespace0.0";
    if (m.created && m.offset > 0) r.used.emplace_back(0, m.offset);
  }
  facts.regions.push_back(r);
  return facts;
}

// ndctl (namespace.c) configures fsdax map=mem on a label-less namespace by
// enabling the namespace as it is, with no info block: the whole namespace
// is usable. pmemd writes a pfn info block there as for any other fsdax,
// to which the kernel's pfn rule applies (the fixture shows the same rule
// for devdax map=mem on that namespace).
bool NdctlSkipsTheInfoBlock(const Fixture& f, const Measured& m) {
  return m.spec.mode == "fsdax" && f.label_less() && m.spec.map == "mem";
}

std::optional<uint64_t> PfnRule(const Fixture& f, const Measured& m) {
  uint64_t raw = m.created ? m.raw_size : m.spec.size.value_or(f.region_size());
  return ko::PfnUsable(f.region_start() + m.offset, raw, m.spec.align.value_or(2 * ko::kMiB),
                       m.spec.map.value_or("dev") == "dev");
}

// The kernel's answer for the request, from kernel_oracle_testing.h alone.
std::optional<uint64_t> OracleSize(const Fixture& f, const Measured& m) {
  const std::string& mode = m.spec.mode;
  if (NdctlSkipsTheInfoBlock(f, m)) return m.raw_size;
  if (mode == "fsdax" || mode == "devdax") return PfnRule(f, m);
  if (mode == "sector") return ko::BttUsable(m.raw_size, m.spec.sector_size.value_or(4096));
  return m.raw_size;
}

class KernelSizes : public ::testing::TestWithParam<std::string> {};

TEST_P(KernelSizes, TheOracleFormulasReproduceEveryMeasuredSize) {
  Fixture f = Load(GetParam());
  ASSERT_FALSE(f.entries.empty()) << f.file;
  for (const Measured& m : f.entries) {
    SCOPED_TRACE(Describe(m));
    if (!m.created) {
      // Refused: only the 1G alignment whose data would start at the end.
      EXPECT_EQ(m.spec.align, ko::kGiB);
      EXPECT_EQ(PfnRule(f, m), std::nullopt);
      continue;
    }
    EXPECT_EQ(OracleSize(f, m), m.size);
  }
}

TEST_P(KernelSizes, PlansPromiseWhatTheKernelMadeAndRefuseWhatItRefusedOrLeftEmpty) {
  Fixture f = Load(GetParam());
  ASSERT_FALSE(f.entries.empty()) << f.file;
  for (const Measured& m : f.entries) {
    SCOPED_TRACE(Describe(m));
    Facts facts = RegionAsMeasured(f, m);
    auto plan = f.label_less() ? PlanReconfigure(facts, "namespace0.0", m.spec) : PlanCreate(facts, m.spec);
    std::optional<uint64_t> kernel;
    if (m.created) kernel = m.size;
    if (NdctlSkipsTheInfoBlock(f, m)) kernel = PfnRule(f, m);
    if (kernel.value_or(0) == 0) {
      EXPECT_FALSE(plan.ok()) << "planned " << plan->size << " usable bytes";
      continue;
    }
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    EXPECT_EQ(plan->size, *kernel);
    EXPECT_EQ(plan->raw_size, m.raw_size);
    EXPECT_EQ(plan->offset, m.offset);
    EXPECT_EQ(plan->metadata_size, m.raw_size - *kernel);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, KernelSizes, ::testing::ValuesIn(FixtureFiles()),
                         [](const auto& info) {
                           return info.param.find("memmap") != std::string::npos ? std::string("Memmap")
                                                                                 : std::string("Nvdimm");
                         });

}  // namespace
}  // namespace pmemd::nsplan
