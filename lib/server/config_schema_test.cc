// The config schema (config_schema.h) names exactly the keys the parser
// accepts: each level's "known keys" list, from ApplyConfigJson's error
// for an unknown key, equals the table's keys at that level.
#include "pmemd/config_schema.h"

#include <gtest/gtest.h>

#include <set>

#include "pmemd/config.h"
#include "pmemd/fs.h"

namespace pmemd {
namespace {

using nlohmann::json;

// The keys ApplyConfigJson names as known when `doc` holds an unknown one.
std::set<std::string> KnownKeys(const json& doc) {
  Config c = DefaultConfig();
  Status s = ApplyConfigJson(doc, &c);
  EXPECT_FALSE(s.ok());
  const std::string marker = "known keys: ";
  auto at = s.message().find(marker);
  EXPECT_NE(at, std::string::npos) << s.message();
  std::set<std::string> out;
  if (at == std::string::npos) return out;
  std::string rest = s.message().substr(at + marker.size());
  for (size_t pos = 0; pos <= rest.size();) {
    size_t comma = std::min(rest.find(", ", pos), rest.size());
    out.insert(rest.substr(pos, comma - pos));
    pos = comma + 2;
  }
  return out;
}

// The table's keys directly under `prefix` ("" for the top level).
std::set<std::string> TableKeys(const std::string& prefix) {
  std::set<std::string> out;
  for (const auto& k : ConfigKeys()) {
    std::string key = k.key;
    if (!key.starts_with(prefix)) continue;
    key = key.substr(prefix.size());
    if (key.find('.') == std::string::npos) out.insert(key);
  }
  return out;
}

TEST(ConfigSchemaTest, NamesExactlyTheKeysTheParserAcceptsAtEveryLevel) {
  EXPECT_EQ(KnownKeys({{"zz_unknown", 1}}), TableKeys(""));
  EXPECT_EQ(KnownKeys({{"emulated", {{"zz_unknown", 1}}}}), TableKeys("emulated."));
  EXPECT_EQ(KnownKeys({{"emulated", {{"regions", json::array({{{"zz_unknown", 1}}})}}}}),
            TableKeys("emulated.regions[]."));
}

TEST(ConfigSchemaTest, EveryKeyIsDescribedAndInTheReadme) {
  auto readme = ReadFile(std::string(PMEMD_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(readme.ok());
  for (const auto& k : ConfigKeys()) {
    EXPECT_NE(std::string(k.description), "") << k.key;
    EXPECT_NE(std::string(k.type), "") << k.key;
    std::string key = k.key;
    if (key.starts_with("emulated.regions[].")) continue;  // described in one README row
    EXPECT_NE(readme->find("`" + key + "`"), std::string::npos) << key << " is not in README's configuration reference";
  }
}

}  // namespace
}  // namespace pmemd
