#include <gtest/gtest.h>

#include "pmemd/layout.h"

namespace pmemd {
namespace {

using nlohmann::json;

// Every message of a failed parse, from its detail.
std::vector<std::string> Problems(const Status& s) {
  std::vector<std::string> out;
  if (s.detail() != nullptr)
    for (const auto& p : (*s.detail())["problems"]) out.push_back(p["message"].get<std::string>());
  return out;
}

bool Has(const std::vector<std::string>& v, const std::string& text) {
  for (const auto& s : v)
    if (s.find(text) != std::string::npos) return true;
  return false;
}

TEST(LayoutModelTest, ADocumentReadsAndWritesBackTheSame) {
  json doc = json::parse(R"({
    "version": 1,
    "namespaces": [{"name": "db", "region": "region0", "mode": "devdax", "size": "1G", "align": 2097152},
                   {"name": "ram", "region": "region0", "mode": "devdax", "size": 536870912}],
    "system_ram": [{"namespace": "ram", "online": true, "movable": false}],
    "pools": [{"name": "p", "namespace": "db", "block_size": "64M", "memmap": "mem", "online_blocks": "0-3,7"},
              {"name": "f", "path": "/var/lib/x.img", "size": "256M", "owner_uid": 1000}],
    "leases": [{"pool": "p", "name": "l", "size": "4M", "owner": "app", "labels": {"k": "v"}}]
  })");
  Result<Layout> l = ParseLayout(doc);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->namespaces[0].size, 1ull << 30);
  EXPECT_EQ(l->system_ram[0].movable, false);
  EXPECT_EQ(l->pools[0].memmap, PoolMemmap::kMem);
  EXPECT_EQ(l->pools[1].owner_uid, 1000u);
  EXPECT_EQ(l->leases[0].labels->at("k"), "v");
  Result<Layout> again = ParseLayout(LayoutToJson(*l));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(LayoutToJson(*again), LayoutToJson(*l));
}

TEST(LayoutModelTest, EveryProblemIsNamedInOneError) {
  json doc = json::parse(R"({
    "colour": "blue",
    "namespaces": [{"name": "a", "region": "region0", "mode": "fsdax", "size": 5, "shape": 1},
                   {"name": "a", "region": "region0", "mode": "tape"},
                   {"name": "b", "region": "region0", "size": "lots"}],
    "system_ram": [{"namespace": "a"}, {"namespace": "ghost"}],
    "pools": [{"name": "p", "device": "dax0.0", "path": "/x"}, {"name": "p", "path": "rel", "size": 4096}],
    "leases": [{"pool": "nowhere", "name": "l", "size": 4097}, {"pool": "p", "name": "m", "size": 4096, "align": 3}]
  })");
  Result<Layout> l = ParseLayout(doc, "params.layout");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), Code::kInvalidArgument);
  auto p = Problems(l.status());
  EXPECT_TRUE(Has(p, "params.layout: unknown key 'colour'")) << l.status().message();
  EXPECT_TRUE(Has(p, "params.layout.namespaces[0]: unknown key 'shape'")) << l.status().message();
  EXPECT_TRUE(Has(p, "'tape' is not a mode; use fsdax, devdax, sector or raw")) << l.status().message();
  EXPECT_TRUE(Has(p, "params.layout.namespaces[2].size")) << l.status().message();
  EXPECT_TRUE(Has(p, "namespace 'a' appears more than once")) << l.status().message();
  EXPECT_TRUE(Has(p, "system_ram: namespace 'ghost' is not in the layout's namespaces")) << l.status().message();
  EXPECT_TRUE(Has(p, "name exactly one of namespace")) << l.status().message();
  EXPECT_TRUE(Has(p, "'rel' is not an absolute path")) << l.status().message();
  EXPECT_TRUE(Has(p, "pool 'p' appears more than once")) << l.status().message();
  EXPECT_TRUE(Has(p, "lease 'nowhere/l' is in pool 'nowhere', which is not in the layout's pools"))
      << l.status().message();
  EXPECT_TRUE(Has(p, "3 is not a lease alignment")) << l.status().message();
  EXPECT_TRUE(Has(p, "4097 is not a non-zero multiple of its alignment 2097152; use 2097152")) << l.status().message();
  // The message names them all too, and says nothing changed.
  EXPECT_NE(l.status().message().find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(l.status().message().find("nothing was changed"), std::string::npos);
}

TEST(LayoutModelTest, ReferencesMustBeDevdaxNamespacesOfTheLayout) {
  json doc = json::parse(R"({
    "namespaces": [{"name": "fs", "region": "region0", "mode": "fsdax"}],
    "system_ram": [{"namespace": "fs"}],
    "pools": [{"name": "p", "namespace": "fs"}]
  })");
  Result<Layout> l = ParseLayout(doc);
  ASSERT_FALSE(l.ok());
  auto p = Problems(l.status());
  EXPECT_TRUE(Has(p, "system_ram: namespace 'fs' is fsdax; only a devdax namespace's device can be system-ram"));
  EXPECT_TRUE(Has(p, "pool 'p' is on namespace 'fs', which is fsdax"));
}

TEST(LayoutModelTest, BlockSetsReadAndPrintBack) {
  auto s = ParseBlockSet("0-2,5", 8);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::vector<bool>{true, true, true, false, false, true, false, false}));
  EXPECT_EQ(BlockSetText(*s), "0-2,5");
  EXPECT_EQ(BlockSetText({true, true}), "all");
  EXPECT_EQ(BlockSetText({false, false}), "none");
  EXPECT_EQ(BlockSetText({}), "none");
  EXPECT_FALSE(ParseBlockSet("3-1", 8).ok());
  EXPECT_FALSE(ParseBlockSet("8", 8).ok());
  EXPECT_FALSE(ParseBlockSet("1,,2", 8).ok());
  EXPECT_TRUE(ParseBlockSet("100", 0).ok());  // the total not known yet: the form only
  EXPECT_NE(ParseBlockSet("x", 4).status().message().find("use all, none, or blocks and ranges such as 0-3,7"),
            std::string::npos);
}

}  // namespace
}  // namespace pmemd
