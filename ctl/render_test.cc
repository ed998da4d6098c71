#include "render.h"

#include <gtest/gtest.h>

namespace pmemctl {
namespace {

TEST(RenderTest, HumanSizes) {
  EXPECT_EQ(HumanSize(0), "0 B");
  EXPECT_EQ(HumanSize(512), "512 B");
  EXPECT_EQ(HumanSize(16ull << 20), "16.00 MiB");
  EXPECT_EQ(HumanSize(8ull << 30), "8.00 GiB");
  EXPECT_EQ(HumanSize(0x7ffe0000), "2.00 GiB");
  EXPECT_EQ(HumanSize(1536ull << 20), "1.50 GiB");
}

TEST(RenderTest, TablePadsColumns) {
  EXPECT_EQ(Table({"A", "BB"}, {{"long", "x"}, {"s", "yy"}}), "A     BB\nlong  x\ns     yy\n");
}

TEST(RenderTest, ListRendersEverySectionAndEmptyOnes) {
  auto j = nlohmann::json::parse(R"({
    "regions":[{"dev":"region0","size":8589934592,"available_size":8589934592,
                "max_available_extent":8589934592,"align":16777216,"persistence_domain":"memory_controller"}],
    "namespaces":[], "devices":[], "memory_blocks":[], "memory_block_size":134217728})");
  std::string s = RenderList(j);
  EXPECT_NE(s.find("Regions (1)"), std::string::npos);
  EXPECT_NE(s.find("region0  8.00 GiB"), std::string::npos) << s;
  EXPECT_NE(s.find("Namespaces (0)\n  none"), std::string::npos);
  EXPECT_NE(s.find("Memory blocks of 128.00 MiB (0)"), std::string::npos);
}

}  // namespace
}  // namespace pmemctl
