// pmemctl's parsing through the real command table: every spelling ndctl
// users type reaches the daemon as the same parameters.
#include <gtest/gtest.h>

#include "args.h"
#include "cli.h"

namespace pmemctl {
namespace {

using nlohmann::json;

struct Call {
  std::string method;
  json params;
};

// Runs `verb args` against a fake daemon that records each call and answers
// with `answer(method, params)`.
struct Fake {
  std::vector<Call> calls;
  std::function<pmemd::Result<json>(const std::string&, const json&)> answer =
      [](const std::string&, const json&) -> pmemd::Result<json> { return json{{"ok", "yes"}}; };
  std::string out, err;

  int Run(const std::string& verb, std::vector<std::string> args, bool json_mode = true) {
    const Command* cmd = FindCommand(verb);
    EXPECT_NE(cmd, nullptr) << verb;
    if (!cmd) return -2;
    Invocation inv;
    inv.global.json = json_mode;
    inv.args = std::move(args);
    inv.call = [&](const std::string& m, const json& p) -> pmemd::Result<json> {
      calls.push_back({m, p});
      auto r = answer(m, p);
      if (!r.ok()) {
        inv.error = ErrorObject(r.status());
        inv.failure = kExitFailed;
      }
      return r;
    };
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    int rc = cmd->Run(inv);
    if (rc < 0) {
      Report(inv, verb);
      rc = inv.failure;
    }
    out = testing::internal::GetCapturedStdout();
    err = testing::internal::GetCapturedStderr();
    return rc;
  }
};

TEST(PmemctlArgsTest, EverySpellingOfRegionAndSizeSendsTheSameParams) {
  for (std::vector<std::string> args : {std::vector<std::string>{"-r0", "-s16M"},
                                        {"-r", "0", "-s", "16M"},
                                        {"--region=0", "--size=16M"},
                                        {"--region", "0", "--size", "16M"},
                                        {"-s16M", "--region", "0"}}) {
    Fake f;
    EXPECT_EQ(f.Run("create-namespace", args), kExitOk) << f.err;
    ASSERT_EQ(f.calls.size(), 1u);
    EXPECT_EQ(f.calls[0].method, "create-namespace");
    EXPECT_EQ(f.calls[0].params, (json{{"region", "0"}, {"size", 16u << 20}})) << args[0];
  }
}

TEST(PmemctlArgsTest, CombinedShortSwitchesAndValues) {
  Fake f;
  EXPECT_EQ(f.Run("list", {"-NRr0"}), kExitOk) << f.err;
  EXPECT_EQ(f.calls.at(0).params, (json{{"namespaces", true}, {"regions", true}, {"region", "0"}}));
  Fake g;
  EXPECT_EQ(g.Run("create-namespace", {"-r0", "-mdevdax", "-a2M", "-s1G", "--dry-run"}), kExitOk) << g.err;
  EXPECT_EQ(g.calls.at(0).params,
            (json{{"region", "0"}, {"mode", "devdax"}, {"align", 2u << 20}, {"size", 1u << 30}, {"dry_run", true}}));
}

TEST(PmemctlArgsTest, OptionsAfterTargetsAndDashDash) {
  Fake f;
  EXPECT_EQ(f.Run("destroy-namespace", {"namespace0.0", "-f", "--json"}), kExitOk) << f.err;
  EXPECT_EQ(f.calls.at(0).params, (json{{"namespace", "namespace0.0"}, {"force", true}}));
  Fake g;  // after --, "-x" is a name, not an option
  EXPECT_EQ(g.Run("create-lease", {"p0", "--size", "4K", "--", "-x"}), kExitOk) << g.err;
  EXPECT_EQ(g.calls.at(0).params, (json{{"pool", "p0"}, {"name", "-x"}, {"size", 4096}}));
}

TEST(PmemctlArgsTest, RepeatedLabels) {
  Fake f;
  EXPECT_EQ(f.Run("create-lease", {"p0", "db", "-s1G", "-l", "a=1", "--label=b=2", "--label", "c=3"}), kExitOk);
  EXPECT_EQ(f.calls.at(0).params["labels"], (json{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
}

TEST(PmemctlArgsTest, SeveralTargetsAndAllAreEachReportedAndCounted) {
  Fake f;
  f.answer = [](const std::string& m, const json& p) -> pmemd::Result<json> {
    if (m == "list")
      return json{{"namespaces", json::array({{{"dev", "namespace0.0"}, {"size", 1024}},
                                              {{"dev", "namespace0.1"}, {"size", 1024}},
                                              {{"dev", "namespace0.2"}, {"size", 0}}})}};
    if (p["namespace"] == "namespace0.1") return pmemd::Status::Busy("namespace0.1 is mounted");
    return json{{"destroyed", p["namespace"]}};
  };
  EXPECT_EQ(f.Run("destroy-namespace", {"all", "-r", "0", "-f"}), kExitFailed);
  ASSERT_EQ(f.calls.size(), 3u);  // list, then the two namespaces with a size
  EXPECT_EQ(f.calls[0].params, (json{{"namespaces", true}, {"region", "region0"}}));
  json out = json::parse(f.out);
  EXPECT_EQ(out["destroyed"], 1);
  EXPECT_EQ(out["failed"], 1);
  EXPECT_EQ(out["results"][1]["error"]["data"]["code"], "busy");
  EXPECT_NE(f.err.find("namespace0.1: namespace0.1 is mounted"), std::string::npos) << f.err;
  EXPECT_NE(f.err.find("destroyed 1 namespace\n"), std::string::npos) << f.err;

  Fake h;
  EXPECT_EQ(h.Run("disable-namespace", {"namespace0.0", "namespace1.0"}, false), kExitOk);
  EXPECT_EQ(h.calls.size(), 2u);
  EXPECT_NE(h.out.find("disabled namespace1.0"), std::string::npos) << h.out;
  EXPECT_NE(h.err.find("disabled 2 namespaces"), std::string::npos) << h.err;
}

TEST(PmemctlArgsTest, JsonErrorsGoToStdoutAsTheErrorObject) {
  Fake f;
  f.answer = [](const std::string&, const json&) -> pmemd::Result<json> {
    return pmemd::Status(pmemd::Code::kNotFound, "namespace9.9 does not exist", 0);
  };
  EXPECT_EQ(f.Run("destroy-namespace", {"namespace9.9"}), kExitFailed);
  json e = json::parse(f.out);
  EXPECT_EQ(e["code"], -32002);
  EXPECT_EQ(e["data"]["code"], "not_found");
  EXPECT_EQ(e["message"], "namespace9.9 does not exist");
  Fake u;
  EXPECT_EQ(u.Run("list", {"--bogus"}), kExitUsage);
  EXPECT_EQ(json::parse(u.out)["data"]["code"], "invalid_argument");
  EXPECT_NE(u.err.find("unknown option '--bogus'"), std::string::npos);
  Fake h;  // --human: stderr only
  EXPECT_EQ(h.Run("list", {"--bogus", "--human"}), kExitUsage);
  EXPECT_EQ(h.out, "");
  Fake l;  // the last of --json and --human wins
  EXPECT_EQ(l.Run("version", {"--json", "--human"}, true), kExitOk);
  EXPECT_FALSE(l.out.starts_with("{")) << l.out;
  EXPECT_EQ(l.Run("version", {"--human", "--json"}, false), kExitOk);
  EXPECT_TRUE(l.out.starts_with("{")) << l.out;
  EXPECT_EQ(l.Run("destroy-namespace", {"--human", "--json", "--bogus"}, false), kExitUsage);
  EXPECT_EQ(json::parse(l.out)["data"]["code"], "invalid_argument");
}

TEST(PmemctlArgsTest, UsageErrorsNameTheOption) {
  Fake f;
  EXPECT_EQ(f.Run("create-namespace", {"-s"}), kExitUsage);
  EXPECT_NE(f.err.find("option '--size' needs a value (SIZE)"), std::string::npos) << f.err;
  EXPECT_EQ(f.Run("create-namespace", {"-s1G"}), kExitUsage);
  EXPECT_NE(f.err.find("--region R is required"), std::string::npos) << f.err;
  EXPECT_EQ(f.Run("create-namespace", {"-r0", "-s1Q"}), kExitUsage);
  EXPECT_EQ(f.Run("detach-pool", {"--force"}), kExitUsage);
  EXPECT_TRUE(f.calls.empty());
}

TEST(PmemctlArgsTest, EveryCommandsHelpDescribesEveryOption) {
  for (const auto& c : Commands()) {
    Fake f;
    EXPECT_EQ(f.Run(c.name, {"--help"}), kExitOk);
    EXPECT_TRUE(f.calls.empty());
    EXPECT_TRUE(f.out.starts_with(std::string("usage: pmemctl ") + c.name)) << f.out;
    for (const auto& o : c.AllOptions()) {
      EXPECT_NE(f.out.find(std::string("--") + o.long_name), std::string::npos) << c.name << " " << o.long_name;
      EXPECT_NE(f.out.find(o.help), std::string::npos) << c.name << " " << o.long_name;
      EXPECT_NE(std::string(o.help), "") << c.name << " " << o.long_name;
      if (o.short_name) {
        EXPECT_NE(f.out.find(std::string("-") + o.short_name + ", --"), std::string::npos);
      }
    }
  }
  Fake f;
  f.Run("create-namespace", {"-h"});
  EXPECT_TRUE(f.out.starts_with("usage: pmemctl create-namespace --region R [options]")) << f.out;
}

TEST(PmemctlArgsTest, ShortNamesAreUniquePerCommand) {
  for (const auto& c : Commands()) {
    std::set<char> shorts;
    std::set<std::string> longs;
    for (const auto& o : c.AllOptions()) {
      if (o.short_name) {
        EXPECT_TRUE(shorts.insert(o.short_name).second) << c.name << " -" << o.short_name;
      }
      EXPECT_TRUE(longs.insert(o.long_name).second) << c.name << " --" << o.long_name;
    }
  }
}

}  // namespace
}  // namespace pmemctl
