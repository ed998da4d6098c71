#include "pmemd/config.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "pmemd/daemon.h"
#include "pmemd/fs.h"
#include "support/temp_dir.h"

namespace pmemd {
namespace {

using nlohmann::json;

TEST(ConfigTest, DefaultsAreValidAndPerUserWhenNotRoot) {
  Config c = DefaultConfig();
  EXPECT_TRUE(ValidateConfig(c).ok());
  EXPECT_EQ(c.platform, "auto");
  EXPECT_EQ(c.max_request_bytes, 1u << 20);
  ASSERT_EQ(c.emulated.regions.size(), 1u);
  EXPECT_EQ(c.emulated.regions[0].size, 8ull << 30);
  if (::geteuid() == 0) {
    EXPECT_EQ(c.socket_path, "/run/pmemd/pmemd.sock");
    EXPECT_EQ(c.state_dir, "/var/lib/pmemd");
  } else {
    EXPECT_NE(c.socket_path.find("pmemd"), std::string::npos);
  }
}

TEST(ConfigTest, JsonOverlaysKeysPresent) {
  Config c = DefaultConfig();
  json j = json::parse(R"({"socket":"/tmp/x.sock","log_level":"debug","admin_group":"pmem",
      "emulated":{"regions":[{"size":1073741824,"numa_node":1},{"size":536870912,"labels":false}],
                  "label_slots":100}})");
  ASSERT_TRUE(ApplyConfigJson(j, &c).ok());
  EXPECT_EQ(c.socket_path, "/tmp/x.sock");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.admin_group, "pmem");
  ASSERT_EQ(c.emulated.regions.size(), 2u);
  EXPECT_EQ(c.emulated.regions[0].numa_node, 1);
  EXPECT_FALSE(c.emulated.regions[1].labels);
  EXPECT_EQ(c.emulated.label_slots, 100u);
  EXPECT_EQ(c.platform, "auto");  // untouched
}

TEST(ConfigTest, UnknownKeyNamesItAndTheKnownOnes) {
  Config c = DefaultConfig();
  Status s = ApplyConfigJson(json::parse(R"({"sokcet":"/tmp/x"})"), &c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown key 'sokcet'"), std::string::npos);
  EXPECT_NE(s.message().find("socket"), std::string::npos);
}

TEST(ConfigTest, WrongTypeNamesKeyAndExpectedType) {
  Config c = DefaultConfig();
  Status s = ApplyConfigJson(json::parse(R"({"max_request_bytes":"1M"})"), &c);
  EXPECT_EQ(s.message(), "config.max_request_bytes: expected an unsigned integer, got string \"1M\"");
  s = ApplyConfigJson(json::parse(R"({"emulated":{"regions":[{"size":-5}]}})"), &c);
  EXPECT_NE(s.message().find("config.emulated.regions[0].size: expected an unsigned integer"), std::string::npos);
  s = ApplyConfigJson(json::parse(R"({"emulated":{"regions":{"size":1}}})"), &c);
  EXPECT_NE(s.message().find("expected an array"), std::string::npos);
}

TEST(ConfigTest, HealthIntervalIsBoundedAndTheMessageSaysHow) {
  Config c = DefaultConfig();
  EXPECT_EQ(c.health_interval_ms, 60'000u);
  c.health_interval_ms = 99;
  Status s = ValidateConfig(c);
  EXPECT_NE(s.message().find("health_interval_ms 99 must be between 100 and 86400000"), std::string::npos)
      << s.ToString();
  c.health_interval_ms = 100;
  EXPECT_TRUE(ValidateConfig(c).ok());
}

// metrics_listen serves this host only: a loopback address with a port, or
// a Unix socket's absolute path.
TEST(ConfigTest, MetricsListenIsALoopbackAddressWithAPortOrAUnixSocket) {
  Config c = DefaultConfig();
  for (const char* ok : {"", "127.0.0.1:9464", "[::1]:9464", "127.0.0.2:0", "unix:/run/pmemd/metrics.sock"}) {
    c.metrics_listen = ok;
    EXPECT_TRUE(ValidateConfig(c).ok()) << ok << ": " << ValidateConfig(c).ToString();
  }
  for (const char* bad : {"0.0.0.0:9464", "10.1.2.3:9464", "127.0.0.1", "localhost:9464", "127.0.0.1:99999",
                          "[::1]9464", "unix:", "unix:run/metrics.sock", "unix:/run/pmemd/"}) {
    c.metrics_listen = bad;
    Status s = ValidateConfig(c);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("127.0.0.1:9464"), std::string::npos) << s.message();
  }
  c.metrics_listen = "0.0.0.0:9464";
  EXPECT_NE(ValidateConfig(c).message().find("not a loopback address"), std::string::npos);
  c.metrics_listen = "unix:/" + std::string(107, 'm');  // past sun_path with its NUL
  EXPECT_NE(ValidateConfig(c).message().find("longer than a Unix socket's 107 bytes"), std::string::npos);
  c.metrics_listen = "unix:metrics.sock";
  EXPECT_NE(ValidateConfig(c).message().find("'metrics.sock' is not an absolute path"), std::string::npos)
      << ValidateConfig(c).message();
}

TEST(ConfigTest, ValidateRejectsBadValues) {
  Config c = DefaultConfig();
  c.platform = "pmdk";
  EXPECT_NE(ValidateConfig(c).message().find("auto, emulated or ndctl"), std::string::npos);
  c = DefaultConfig();
  c.log_level = "loud";
  EXPECT_FALSE(ValidateConfig(c).ok());
  c = DefaultConfig();
  c.socket_path = std::string(200, 'x');
  EXPECT_NE(ValidateConfig(c).message().find("108"), std::string::npos);
  c = DefaultConfig();
  c.max_request_bytes = 10;
  EXPECT_FALSE(ValidateConfig(c).ok());
}

TEST(ConfigTest, LoadBoundsHaveSafeDefaultsAndAreRead) {
  Config c = DefaultConfig();
  EXPECT_EQ(c.request_timeout_ms, 60000u);
  EXPECT_EQ(c.idle_timeout_ms, 300000u);
  EXPECT_EQ(c.reserved_admin_connections, 16u);
  EXPECT_EQ(c.max_connections_per_uid, 64u);
  EXPECT_EQ(c.max_buffered_bytes, 64u << 20);
  EXPECT_EQ(c.max_reply_bytes, 16u << 20);
  ASSERT_TRUE(ApplyConfigJson(json::parse(R"({"request_timeout_ms":200,"idle_timeout_ms":500,
      "reserved_admin_connections":2,"max_connections_per_uid":3,"max_buffered_bytes":2097152,
      "max_reply_bytes":65536})"),
                              &c)
                  .ok());
  EXPECT_EQ(c.request_timeout_ms, 200u);
  EXPECT_EQ(c.idle_timeout_ms, 500u);
  EXPECT_EQ(c.reserved_admin_connections, 2u);
  EXPECT_EQ(c.max_connections_per_uid, 3u);
  EXPECT_EQ(c.max_buffered_bytes, 2u << 20);
  EXPECT_EQ(c.max_reply_bytes, 65536u);
  EXPECT_TRUE(ValidateConfig(c).ok()) << ValidateConfig(c).ToString();
}

TEST(ConfigTest, LoadBoundsThatWouldLockEveryoneOutAreRejectedNamingTheKey) {
  auto invalid = [](auto change) {
    Config c = DefaultConfig();
    change(c);
    return ValidateConfig(c).message();
  };
  EXPECT_EQ(invalid([](Config& c) { c.request_timeout_ms = 1; }),
            "request_timeout_ms 1 must be between 10 and 3600000");
  EXPECT_NE(invalid([](Config& c) { c.idle_timeout_ms = 0; }).find("idle_timeout_ms"), std::string::npos);
  EXPECT_NE(invalid([](Config& c) { c.reserved_admin_connections = 1024; })
                .find("reserved_admin_connections 1024 must be less than max_connections 1024"),
            std::string::npos);
  EXPECT_NE(invalid([](Config& c) { c.max_connections_per_uid = 0; }).find("max_connections_per_uid"),
            std::string::npos);
  EXPECT_NE(invalid([](Config& c) { c.max_buffered_bytes = 1000; })
                .find("max_buffered_bytes 1000 must be at least max_request_bytes 1048576"),
            std::string::npos);
  EXPECT_NE(invalid([](Config& c) { c.max_reply_bytes = 10; }).find("max_reply_bytes 10 must be between"),
            std::string::npos);
  EXPECT_NE(invalid([](Config& c) { c.worker_threads = 65; }).find("worker_threads 65 must be between 1 and 64"),
            std::string::npos);
}

TEST(ConfigTest, FileThenFlagsOverride) {
  pmemd::testing::TempDir tmp("pmemd-cfg");
  const std::string dir = tmp.path();
  ASSERT_TRUE(WriteFileAtomic(dir + "/c.json", R"({"socket":"/tmp/from-file.sock","platform":"emulated"})").ok());
  auto flags = ParseDaemonFlags({"--config", dir + "/c.json", "--socket=/tmp/from-flag.sock", "--log-level", "warn"});
  ASSERT_TRUE(flags.ok()) << flags.status().ToString();
  auto c = ResolveConfig(*flags);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->socket_path, "/tmp/from-flag.sock");
  EXPECT_EQ(c->platform, "emulated");
  EXPECT_EQ(c->log_level, "warn");
  ASSERT_TRUE(WriteFileAtomic(dir + "/bad.json", "{\"socket\": ").ok());
  auto bad = ResolveConfig(*ParseDaemonFlags({"--config", dir + "/bad.json"}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.json"), std::string::npos);
  auto missing = ResolveConfig(*ParseDaemonFlags({"--config", dir + "/none.json"}));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST(ConfigTest, FlagErrors) {
  EXPECT_NE(ParseDaemonFlags({"--socket"}).status().message().find("option '--socket' needs a value"), std::string::npos);
  EXPECT_NE(ParseDaemonFlags({"--frobnicate"}).status().message().find("unknown option '--frobnicate'"),
            std::string::npos);
  EXPECT_TRUE(ParseDaemonFlags({"--help"})->help);
}

TEST(ConfigTest, LookupGroup) {
  EXPECT_EQ(*LookupGroup("0"), 0u);
  EXPECT_EQ(*LookupGroup("root"), 0u);
  EXPECT_EQ(LookupGroup("no-such-group-pmemd").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace pmemd

namespace pmemd {
namespace {

TEST(ConfigTest, MemmapBudgetIsBytesASizeOrAShareOfMemTotal) {
  Config c = DefaultConfig();
  EXPECT_EQ(c.memmap_budget.percent, 25u);  // the default: a quarter of the machine's RAM
  ASSERT_TRUE(ApplyConfigJson(json{{"memmap_budget", 1048576}}, &c).ok());
  EXPECT_EQ(c.memmap_budget.percent, 0u);
  EXPECT_EQ(c.memmap_budget.bytes, 1048576u);
  ASSERT_TRUE(ApplyConfigJson(json{{"memmap_budget", "8G"}}, &c).ok());
  EXPECT_EQ(c.memmap_budget.bytes, 8ull << 30);
  ASSERT_TRUE(ApplyConfigJson(json{{"memmap_budget", "4096"}}, &c).ok());
  EXPECT_EQ(c.memmap_budget.bytes, 4096u);
  ASSERT_TRUE(ApplyConfigJson(json{{"memmap_budget", "100%"}}, &c).ok());
  EXPECT_EQ(c.memmap_budget.percent, 100u);
  ASSERT_TRUE(ApplyConfigJson(json{{"memmap_budget", "1%"}}, &c).ok());
  EXPECT_EQ(c.memmap_budget.percent, 1u);
}

TEST(ConfigTest, AMemmapBudgetThatDoesNotParseNamesTheKeyTheValueAndTheFormsAccepted) {
  for (json bad : {json("lots"), json("8X"), json("1.5G"), json("0%"), json("101%"), json("%"), json("25.5%"),
                   json("-5%"), json(0), json("0"), json(-1), json(2.5), json(true), json::array()}) {
    Config c = DefaultConfig();
    Status s = ApplyConfigJson(json{{"memmap_budget", bad}}, &c);
    ASSERT_EQ(s.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("config.memmap_budget"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(bad.is_string() ? bad.get<std::string>() : bad.dump()), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("give bytes (1073741824), a size (\"8G\") or a percentage of MemTotal"),
              std::string::npos) << s.message();
    EXPECT_EQ(c.memmap_budget.percent, 25u) << "a refused value changes nothing";
  }
  Config c = DefaultConfig();
  EXPECT_NE(ApplyConfigJson(json{{"memmap_budget", "150%"}}, &c).message().find("between 1% and 100%"),
            std::string::npos);
}

TEST(ConfigTest, APercentageMemmapBudgetIsThatShareOfMemTotal) {
  pmemd::testing::TempDir tmp("pmemd-meminfo");
  const std::string dir = tmp.path(), meminfo = dir + "/meminfo";
  ASSERT_TRUE(WriteFileAtomic(meminfo, "MemFree:         1000 kB\nMemTotal:       16000000 kB\nBuffers: 1 kB\n").ok());
  EXPECT_EQ(*ReadMemTotal(meminfo), 16000000ull * 1024);
  EXPECT_EQ(*ResolveMemmapBudget({.bytes = 0, .percent = 25}, meminfo), 16000000ull * 1024 / 4);
  EXPECT_EQ(*ResolveMemmapBudget({.bytes = 4096, .percent = 0}, dir + "/absent"), 4096u);  // not read
  ASSERT_TRUE(WriteFileAtomic(meminfo, "MemFree: 1000 kB\n").ok());
  Result<uint64_t> none = ResolveMemmapBudget({.bytes = 0, .percent = 25}, meminfo);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("give memmap_budget in bytes instead"), std::string::npos);
  EXPECT_GT(*ReadMemTotal(), 0u);  // this machine's
}

// The shipped example must stay loadable and hold every key there is.
TEST(ConfigTest, ShippedExampleLoadsAndCoversEveryKey) {
  Config c = DefaultConfig();
  Status s = LoadConfigFile(std::string(PMEMD_SOURCE_DIR) + "/config/pmemd.json", &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(ValidateConfig(c).ok());
  auto text = ReadFile(std::string(PMEMD_SOURCE_DIR) + "/config/pmemd.json");
  for (const char* key : {"socket", "state_dir", "platform", "log_level", "socket_group", "admin_group",
                          "max_request_bytes", "max_connections", "worker_threads", "request_timeout_ms",
                          "idle_timeout_ms", "reserved_admin_connections", "max_connections_per_uid",
                          "max_buffered_bytes", "max_reply_bytes", "memmap_budget", "event_ring_size",
                          "event_queue_events", "event_queue_bytes", "health_interval_ms", "emulated", "regions",
                          "memory_block_size", "label_slots", "size", "file", "labels"})
    EXPECT_NE(text->find(std::string("\"") + key + "\""), std::string::npos) << key;
}

}  // namespace
}  // namespace pmemd
