// The dispatcher's side of progress (rpc.h): which methods take
// "progress", what a bad value gets, and what reaches the connection.
#include <gtest/gtest.h>

#include "pmemd/json_reader.h"
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
                    .Add({"walk", "Reports progress", Access::kRead,
                          [](const json& p, const CallContext& ctx) -> Result<json> {
                            JsonReader r(p, "params");
                            uint64_t steps = 0;
                            r.Optional("steps", &steps);
                            PMEMD_RETURN_IF_ERROR(r.Finish());
                            for (uint64_t i = 0; i <= steps; ++i) ReportProgress(ctx.progress, "walk", i, steps, "blocks");
                            return json{{"params", p}, {"reporting", static_cast<bool>(ctx.progress)}};
                          },
                          kReportsProgress})
                    .ok());
    EXPECT_TRUE(registry_
                    .Add({"plain", "Reports nothing", Access::kRead,
                          [](const json& p, const CallContext&) -> Result<json> {
                            JsonReader r(p, "params");
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

TEST_F(DispatcherProgressTest, AskedForProgressTheHandlerReportsAndTheKeyIsGoneFromItsParams) {
  json r = Call({{"steps", 1000}, {"progress", true}});
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["params"], json({{"steps", 1000}}));
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
  EXPECT_EQ(r["result"]["params"], json({{"steps", 10}}));
  EXPECT_TRUE(lines_.empty());
}

TEST_F(DispatcherProgressTest, AProgressThatIsNotABooleanIsInvalidParams) {
  json r = Call({{"progress", "yes"}});
  EXPECT_EQ(r["error"]["code"], -32602) << r.dump();
  EXPECT_EQ(r["error"]["message"], "params: 'progress' must be true or false, got string");
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

TEST_F(DispatcherProgressTest, ListMethodsDeclaresWhichMethodsReportProgress) {
  json req = {{"jsonrpc", "2.0"}, {"method", "list-methods"}, {"id", 1}};
  json r = json::parse(dispatcher_.HandleLine(req.dump(), ctx_));
  std::map<std::string, bool> progress;
  for (const auto& m : r["result"]["methods"]) progress[m["name"]] = m["progress"];
  EXPECT_EQ(progress, (std::map<std::string, bool>{{"list-methods", false}, {"plain", false}, {"walk", true}}));
}

}  // namespace
}  // namespace pmemd
