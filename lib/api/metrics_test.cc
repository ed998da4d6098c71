#include "pmemd/metrics.h"

#include <gtest/gtest.h>

namespace pmemd {
namespace {

TEST(PromTextTest, WritesHelpTypeAndEscapedLabels) {
  PromText t;
  t.Family("pmemd_x_bytes", "gauge", "A help with a \\ and a\nnewline");
  t.Sample("pmemd_x_bytes", {{"pool", "a\"b\\c\nd"}}, uint64_t{42});
  t.Sample("pmemd_x_bytes", {}, 0.25);
  EXPECT_EQ(t.text(),
            "# HELP pmemd_x_bytes A help with a \\\\ and a\\nnewline\n"
            "# TYPE pmemd_x_bytes gauge\n"
            "pmemd_x_bytes{pool=\"a\\\"b\\\\c\\nd\"} 42\n"
            "pmemd_x_bytes 0.25\n");
}

TEST(RequestMetricsTest, CountsByMethodAndOutcomeAndBucketsCumulatively) {
  RequestMetrics m;
  m.Record("list", "ok", std::chrono::microseconds(50));
  m.Record("list", "ok", std::chrono::milliseconds(3));
  m.Record("list", "invalid_argument", std::chrono::seconds(100));
  PromText t;
  m.Render(&t);
  const std::string& s = t.text();
  EXPECT_NE(s.find("pmemd_requests_total{method=\"list\",outcome=\"ok\"} 2\n"), std::string::npos) << s;
  EXPECT_NE(s.find("pmemd_requests_total{method=\"list\",outcome=\"invalid_argument\"} 1\n"), std::string::npos);
  EXPECT_NE(s.find("pmemd_request_duration_seconds_bucket{method=\"list\",le=\"0.0001\"} 1\n"), std::string::npos) << s;
  EXPECT_NE(s.find("pmemd_request_duration_seconds_bucket{method=\"list\",le=\"0.005\"} 2\n"), std::string::npos);
  EXPECT_NE(s.find("pmemd_request_duration_seconds_bucket{method=\"list\",le=\"30\"} 2\n"), std::string::npos);
  EXPECT_NE(s.find("pmemd_request_duration_seconds_bucket{method=\"list\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(s.find("pmemd_request_duration_seconds_count{method=\"list\"} 3\n"), std::string::npos);
  EXPECT_NE(s.find("# TYPE pmemd_request_duration_seconds histogram\n"), std::string::npos);
}

}  // namespace
}  // namespace pmemd
