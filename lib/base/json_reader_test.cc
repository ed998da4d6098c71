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
  const json null_params;
  JsonReader r(null_params, "params");
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
  const json array = json::array({1, 2});
  JsonReader r(array, "params");
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

// With a declaration (Method::params): the declaration's rules apply, and a
// handler whose reads disagree with it fails every call, whatever was sent.
const Params kDeclared = {
    Param::String("region", "the region").Required(),
    Param::String("mode", "the mode").OneOf({"fsdax", "devdax"}).Default("fsdax"),
    Param::Unsigned("size", "bytes"),
    Param::StringArray("kinds", "kinds").OneOf({"a", "b"}),
    Param::StringMap("labels", "labels"),
};

struct Read {
  std::string region, mode;
  uint64_t size = 0;
  std::vector<std::string> kinds;
  std::map<std::string, std::string> labels;
};

void ReadDeclared(JsonReader& r, Read* out) {
  r.Required("region", &out->region);
  r.Optional("mode", &out->mode);
  r.Optional("size", &out->size);
  r.Optional("kinds", &out->kinds);
  r.Optional("labels", &out->labels);
}

Status ReadAll(const json& params, Read* out) {
  JsonReader r(params, &kDeclared, "m");
  ReadDeclared(r, out);
  return r.Finish();
}

TEST(JsonReaderDeclaredTest, AbsentKeyGetsItsDeclaredDefault) {
  Read got;
  ASSERT_TRUE(ReadAll({{"region", "0"}}, &got).ok());
  EXPECT_EQ(got.mode, "fsdax");
  ASSERT_TRUE(ReadAll({{"region", "0"}, {"mode", "devdax"}, {"labels", {{"k", "v"}}}}, &got).ok());
  EXPECT_EQ(got.mode, "devdax");
  EXPECT_EQ(got.labels, (std::map<std::string, std::string>{{"k", "v"}}));
}

TEST(JsonReaderDeclaredTest, ValuesOutsideOneOfAreRefusedNamingTheAllowedOnes) {
  Read got;
  Status s = ReadAll({{"region", "0"}, {"mode", "dax"}}, &got);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "params.mode: expected one of fsdax, devdax, got 'dax'");
  s = ReadAll({{"region", "0"}, {"kinds", {"a", "c"}}}, &got);
  EXPECT_EQ(s.message(), "params.kinds[1]: expected one of a, b, got 'c'");
  s = ReadAll({{"region", "0"}, {"labels", {{"k", 1}}}}, &got);
  EXPECT_EQ(s.message(), "params.labels: expected an object of strings, got object {\"k\":1}");
}

TEST(JsonReaderDeclaredTest, UnknownKeysListTheDeclaredOnes) {
  Read got;
  Status s = ReadAll({{"region", "0"}, {"szie", 1}}, &got);
  EXPECT_EQ(s.message(), "params: unknown key 'szie'; known keys: kinds, labels, mode, region, size");
}

TEST(JsonReaderDeclaredTest, ADeclaredRequiredKeyIsRequiredHoweverItIsRead) {
  const json empty = json::object();
  JsonReader r(empty, &kDeclared, "m");
  std::string region, mode;
  uint64_t size;
  std::vector<std::string> kinds;
  std::map<std::string, std::string> labels;
  r.Optional("region", &region);
  r.Optional("mode", &mode);
  r.Optional("size", &size);
  r.Optional("kinds", &kinds);
  r.Optional("labels", &labels);
  EXPECT_EQ(r.Finish().message(), "params: missing required key 'region'");
}

TEST(JsonReaderDeclaredTest, ReadsThatDisagreeWithTheDeclarationAreBugsOnEveryCall) {
  for (const json& params : {json::object(), json{{"region", "0"}}, json{{"size", "wrong"}}}) {
    {  // an undeclared key
      JsonReader r(params, &kDeclared, "m");
      std::string region, other;
      r.Required("region", &region);
      r.Optional("other", &other);
      Status s = r.Finish();
      EXPECT_EQ(s.code(), Code::kInternal) << params;
      EXPECT_NE(s.message().find("method 'm' reads params.other, which it does not declare"), std::string::npos)
          << s.message();
    }
    {  // another type, and declared keys never read
      JsonReader r(params, &kDeclared, "m");
      std::string region, size;
      r.Required("region", &region);
      r.Optional("size", &size);
      Status s = r.Finish();
      EXPECT_EQ(s.code(), Code::kInternal);
      EXPECT_NE(s.message().find("reads params.size as a string but declares it an unsigned integer"),
                std::string::npos)
          << s.message();
    }
    {  // required where the declaration says optional
      JsonReader r(params, &kDeclared, "m");
      Read got;
      r.Required("region", &got.region);
      r.Required("mode", &got.mode);
      r.Optional("size", &got.size);
      r.Optional("kinds", &got.kinds);
      r.Optional("labels", &got.labels);
      EXPECT_NE(r.Finish().message().find("reads params.mode as required but declares it optional"),
                std::string::npos);
    }
    {  // a declared key never read
      JsonReader r(params, &kDeclared, "m");
      std::string region;
      r.Required("region", &region);
      EXPECT_NE(r.Finish().message().find("declares params.mode but never reads it"), std::string::npos);
    }
  }
}

TEST(JsonReaderDeclaredTest, DeclarationsThatCannotBeEnforcedAreRefused) {
  EXPECT_TRUE(CheckParams(kDeclared).ok());
  const Params bad[] = {
      {Param::String("", "no name")},
      {Param::String("a", "x"), Param::Boolean("a", "twice")},
      {Param::Unsigned("size", "bytes").Default("1G")},
      {Param::String("mode", "m").OneOf({"a", "b"}).Default("c")},
      {Param::String("region", "r").Required().Default("0")},
      {Param::Boolean("flag", "f").OneOf({"true"})},
      {Param{.name = "doc", .type = ParamType::kAny, .description = "d", .object_schema = {{"type", "object"}}}},
  };
  for (const Params& p : bad) {
    Status s = CheckParams(p);
    EXPECT_EQ(s.code(), Code::kInternal) << p[0].name;
  }
  EXPECT_NE(CheckParams(bad[2]).message().find("the default of param 'size' is not valid"), std::string::npos);
}

TEST(JsonReaderDeclaredTest, AnObjectParamIsReadAsJsonAndMustBeAnObject) {
  const Params declared = {Param::Object("doc", "a document", {{"properties", {{"v", {{"type", "integer"}}}}}})};
  ASSERT_TRUE(CheckParams(declared).ok());
  for (const json& doc : {json{{"v", 1}}, json::object()}) {
    const json params = {{"doc", doc}};
    JsonReader r(params, &declared, "m");
    json got;
    EXPECT_TRUE(r.Optional("doc", &got));
    EXPECT_TRUE(r.Finish().ok());
    EXPECT_EQ(got, doc);
  }
  for (const json& doc : {json::array({1}), json("x"), json(nullptr)}) {
    const json params = {{"doc", doc}};
    JsonReader r(params, &declared, "m");
    json got;
    EXPECT_FALSE(r.Optional("doc", &got));
    Status s = r.Finish();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << doc;
    EXPECT_EQ(s.message().rfind("params.doc: expected an object, got ", 0), 0u) << s.message();
  }
  {  // read as anything but json: a bug
    const json params = {{"doc", json::object()}};
    JsonReader r(params, &declared, "m");
    std::map<std::string, std::string> got;
    r.Optional("doc", &got);
    EXPECT_EQ(r.Finish().code(), Code::kInternal);
  }
}

TEST(JsonReaderDeclaredTest, RefusedKeysAreRefusedWithTheirReasonNotAsUnknown) {
  const json sent = {{"region", "0"}, {"alarm", true}}, without = {{"region", "0"}};
  JsonReader r(sent, &kDeclared, "m");
  Read got;
  ReadDeclared(r, &got);
  r.Refuse("alarm", "is the firmware's to set");
  EXPECT_EQ(r.Finish().message(), "params.alarm is the firmware's to set");
  JsonReader absent(without, &kDeclared, "m");
  ReadDeclared(absent, &got);
  absent.Refuse("alarm", "is the firmware's to set");
  EXPECT_TRUE(absent.Finish().ok());
  JsonReader declared(without, &kDeclared, "m");
  ReadDeclared(declared, &got);
  declared.Refuse("mode", "is not taken here");
  EXPECT_EQ(declared.Finish().code(), Code::kInternal) << "a declared key cannot be refused";
}

}  // namespace
}  // namespace pmemd
