#include "pmemd/retry.h"

#include <gtest/gtest.h>

namespace pmemd {
namespace {

TEST(RetryMatchTest, EqualOrLeftOutParametersMatch) {
  RetryMatch m;
  m.Compare("size", uint64_t{1} << 30, uint64_t{1} << 30);
  m.Compare("mode", std::string("fsdax"), std::string("fsdax"));
  m.Compare("align", std::optional<uint64_t>(), uint64_t{4096});  // not asked: anything goes
  m.Compare("map", std::optional<std::string>("dev"), std::optional<std::string>("dev"));
  EXPECT_TRUE(m.matches());
}

TEST(RetryMatchTest, EachDifferenceIsNamedWithBothValues) {
  RetryMatch m;
  m.Compare("size", uint64_t{2} << 30, uint64_t{1} << 30);
  m.Compare("mode", std::string("devdax"), std::string("fsdax"));
  m.Compare("map", std::optional<std::string>("mem"), std::optional<std::string>());
  ASSERT_FALSE(m.matches());
  Status s = m.Conflict("namespace 'db' (namespace0.1)", "destroy it first or choose another name");
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_EQ(s.message(),
            "namespace 'db' (namespace0.1) already exists with different parameters (size: asked 2147483648, has "
            "1073741824; mode: asked 'devdax', has 'fsdax'; map: asked 'mem', has none); destroy it first or choose "
            "another name");
}

}  // namespace
}  // namespace pmemd
