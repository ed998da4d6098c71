// Prometheus metrics: a writer for the text exposition format 0.0.4 and the
// request counters the dispatcher keeps.
//
// PromText writes one family at a time: Family() gives its HELP and TYPE
// lines, Sample() its samples. Label values are escaped as the format says
// (backslash, double quote, newline); names are the caller's (pmemd_ prefix,
// base units, _total for counters: docs/api.md lists every family).
//
// RequestMetrics counts the requests that name a method, by method and
// outcome ("ok" or the error's data.code), and keeps a latency histogram per
// method. Unknown methods count under the method label "unknown", so a
// caller cannot grow the label set.
//
// Thread safety: PromText is a plain value. RequestMetrics::Record and
// Render may be called from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pmemd {

inline constexpr std::string_view kUnknownMethodLabel = "unknown";
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4";

using PromLabels = std::vector<std::pair<std::string, std::string>>;

class PromText {
 public:
  // type: "counter", "gauge", "histogram".
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, const PromLabels& labels, uint64_t value);
  void Sample(std::string_view name, const PromLabels& labels, double value);
  const std::string& text() const { return out_; }

  static std::string EscapeLabelValue(std::string_view v);

 private:
  void Head(std::string_view name, const PromLabels& labels);
  std::string out_;
};

class RequestMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 14> kBuckets = {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,    0.25,  0.5,    1,     5,     30};

  void Record(std::string_view method, std::string_view outcome, std::chrono::nanoseconds latency);
  // pmemd_requests_total{method,outcome} and
  // pmemd_request_duration_seconds{method} (histogram).
  void Render(PromText* out) const;

 private:
  struct Latency {
    std::array<uint64_t, kBuckets.size()> buckets{};  // not cumulative here
    uint64_t count = 0;
    double sum_seconds = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t, std::less<>> counts_;  // guarded by mu_
  std::map<std::string, Latency, std::less<>> latency_;                          // guarded by mu_
};

}  // namespace pmemd
