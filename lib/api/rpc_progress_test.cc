// The dispatcher's side of progress (rpc.h): which methods take
// "progress", what a bad value gets, and what reaches the connection.
#include <gtest/gtest.h>

#include "pmemd/json_reader.h"
#include "pmemd/json_schema.h"
#include "pmemd/rpc.h"

namespace pmemd {
namespace {

using nlohmann::json;

class DispatcherProgressTest : public ::testing::Test {
 protected:
  DispatcherProgressTest() {
    // Walks params.steps units in one stage, then answers with the params
    // it saw and whether it had somewhere to report.
    EXPECT_TRUE(registry_
                    .Add({.name = "walk",
                          .summary = "Reports progress",
                          .access = Access::kRead,
                          .params = {Param::Unsigned("steps", "units to walk").Default(0)},
                          .result = schema::Any(),
                          .handler = [](JsonReader& r, const CallContext& ctx) -> Result<json> {
                            uint64_t steps = 0;
                            r.Optional("steps", &steps);
                            PMEMD_RETURN_IF_ERROR(r.Finish());
                            for (uint64_t i = 0; i <= steps; ++i) ReportProgress(ctx.progress, "walk", i, steps, "blocks");
                            return json{{"steps", steps}, {"reporting", static_cast<bool>(ctx.progress)}};
                          },
                          .reports_progress = true})
                    .ok());
    EXPECT_TRUE(registry_
                    .Add({.name = "plain",
                          .summary = "Reports nothing",
                          .access = Access::kRead,
                          .params = {},
                          .result = schema::Any(),
                          .handler = [](JsonReader& r, const CallContext&) -> Result<json> {
                            PMEMD_RETURN_IF_ERROR(r.Finish());
                            return json("plain");
                          }})
                    .ok());
    ctx_.notify = [this](std::string line) { lines_.push_back(json::parse(line)); };
  }

  json Call(const json& params, const std::string& method = "walk") {
    json req = {{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", "r1"}};
    return json::parse(dispatcher_.HandleLine(req.dump(), ctx_));
  }

  Registry registry_;
  Dispatcher dispatcher_{&registry_, AccessPolicy()};
  CallContext ctx_;
  std::vector<json> lines_;
};

TEST_F(DispatcherProgressTest, AskedForProgressTheHandlerReports) {
  json r = Call({{"steps", 1000}, {"progress", true}});
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["steps"], 1000);
  EXPECT_EQ(r["result"]["reporting"], true);
  ASSERT_EQ(lines_.size(), 101u) << "one per 1% (ProgressLimiter)";
  EXPECT_EQ(lines_.front(),
            json::parse(R"({"jsonrpc":"2.0","method":"progress",
                            "params":{"id":"r1","stage":"walk","done":0,"total":1000,"unit":"blocks"}})"));
  EXPECT_EQ(lines_.back()["params"]["done"], 1000);
}

TEST_F(DispatcherProgressTest, WithoutProgressOrWithFalseNothingIsSent) {
  EXPECT_EQ(Call({{"steps", 10}})["result"]["reporting"], false);
  json r = Call({{"steps", 10}, {"progress", false}});
  EXPECT_EQ(r["result"]["reporting"], false);
  EXPECT_TRUE(lines_.empty());
}

TEST_F(DispatcherProgressTest, AProgressThatIsNotABooleanIsInvalidParams) {
  json r = Call({{"progress", "yes"}});
  EXPECT_EQ(r["error"]["code"], -32602) << r.dump();
  const std::string message = r["error"]["message"];
  EXPECT_NE(message.find("progress"), std::string::npos) << message;
  EXPECT_NE(message.find("boolean"), std::string::npos) << message;
  EXPECT_TRUE(lines_.empty());
}

TEST_F(DispatcherProgressTest, AMethodThatReportsNoProgressRefusesTheKeyAsAnyUnknownOne) {
  json r = Call({{"progress", true}}, "plain");
  EXPECT_EQ(r["error"]["code"], -32602) << r.dump();
  EXPECT_NE(r["error"]["message"].get<std::string>().find("progress"), std::string::npos) << r.dump();
}

TEST_F(DispatcherProgressTest, AConnectionThatCannotCarryNotificationsIsToldSo) {
  ctx_.notify = nullptr;
  json r = Call({{"progress", true}});
  EXPECT_EQ(r["error"]["data"]["code"], "failed_precondition") << r.dump();
  EXPECT_NE(r["error"]["message"].get<std::string>().find("Unix socket"), std::string::npos) << r.dump();
}

// And rpc.discover declares the param for them, as for any other.
TEST_F(DispatcherProgressTest, ListMethodsAndDiscoverDeclareWhichMethodsReportProgress) {
  json req = {{"jsonrpc", "2.0"}, {"method", "list-methods"}, {"id", 1}};
  json r = json::parse(dispatcher_.HandleLine(req.dump(), ctx_));
  std::map<std::string, bool> progress;
  for (const auto& m : r["result"]["methods"]) progress[m["name"]] = m["progress"];
  EXPECT_EQ(progress, (std::map<std::string, bool>{{"list-methods", false}, {"plain", false}, {"rpc.discover", false}, {"walk", true}}));
  const Method* walk = registry_.Find("walk");
  ASSERT_NE(walk, nullptr);
  ASSERT_EQ(walk->params.size(), 2u);
  EXPECT_EQ(walk->params[1].name, "progress");
  EXPECT_EQ(walk->params[1].type, ParamType::kBoolean);
  EXPECT_EQ(registry_.Find("plain")->params.size(), 0u);
}

}  // namespace
}  // namespace pmemd
