#include "pmemd/json_reader.h"

#include <gtest/gtest.h>

namespace pmemd {
namespace {

using nlohmann::json;

TEST(JsonReaderTest, ReadsTypedFields) {
  json j = {{"name", "p0"}, {"size", 1073741824}, {"force", true}, {"tags", {"a", "b"}},
            {"node", -1}};
  JsonReader r(j, "params");
  std::string name;
  uint64_t size = 0;
  bool force = false;
  std::vector<std::string> tags;
  int node = 0;
  EXPECT_TRUE(r.Required("name", &name));
  EXPECT_TRUE(r.Optional("size", &size));
  EXPECT_TRUE(r.Optional("force", &force));
  EXPECT_TRUE(r.Optional("tags", &tags));
  EXPECT_TRUE(r.Optional("node", &node));
  ASSERT_TRUE(r.Finish().ok()) << r.Finish().ToString();
  EXPECT_EQ(name, "p0");
  EXPECT_EQ(size, 1073741824u);
  EXPECT_TRUE(force);
  EXPECT_EQ(tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(node, -1);
}

TEST(JsonReaderTest, AbsentOptionalKeepsDefault) {
  json j = json::object();
  JsonReader r(j, "params");
  uint64_t size = 42;
  EXPECT_FALSE(r.Optional("size", &size));
  EXPECT_EQ(size, 42u);
  EXPECT_TRUE(r.Finish().ok());
}

TEST(JsonReaderTest, NullReadsAsEmptyObject) {
  JsonReader r(json(), "params");
  EXPECT_TRUE(r.Finish().ok());
}

TEST(JsonReaderTest, WrongTypeNamesKeyExpectedAndFound) {
  json j = {{"size", "1G"}};
  JsonReader r(j, "params");
  uint64_t size = 0;
  EXPECT_FALSE(r.Optional("size", &size));
  Status s = r.Finish();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "params.size: expected an unsigned integer, got string \"1G\"");
}

TEST(JsonReaderTest, NegativeOrFractionalIsNotUnsigned) {
  for (json v : {json(-1), json(1.5)}) {
    json j = {{"size", v}};
    JsonReader r(j, "params");
    uint64_t size = 0;
    EXPECT_FALSE(r.Optional("size", &size));
    EXPECT_FALSE(r.Finish().ok());
  }
  json big = {{"n", 1ull << 40}};
  JsonReader r(big, "params");
  uint32_t n = 0;
  EXPECT_FALSE(r.Optional("n", &n));
  EXPECT_NE(r.Finish().message().find("32-bit"), std::string::npos);
}

TEST(JsonReaderTest, MissingRequiredKey) {
  json j = json::object();
  JsonReader r(j, "params");
  std::string region;
  EXPECT_FALSE(r.Required("region", &region));
  EXPECT_EQ(r.Finish().message(), "params: missing required key 'region'");
}

TEST(JsonReaderTest, UnknownKeyListsKnownOnes) {
  json j = {{"regoin", "region0"}};
  JsonReader r(j, "config");
  std::string region;
  r.Optional("region", &region);
  r.Allow("kind");
  EXPECT_EQ(r.Finish().message(), "config: unknown key 'regoin'; known keys: kind, region");
}

TEST(JsonReaderTest, NonObjectIsAnError) {
  JsonReader r(json::array({1, 2}), "params");
  EXPECT_EQ(r.Finish().message(), "params: expected an object, got array");
}

TEST(JsonReaderTest, FirstErrorWins) {
  json j = {{"a", 1}, {"b", 2}};
  JsonReader r(j, "p");
  std::string a, b;
  r.Optional("a", &a);
  r.Optional("b", &b);
  EXPECT_NE(r.Finish().message().find("p.a:"), std::string::npos);
}

}  // namespace
}  // namespace pmemd
