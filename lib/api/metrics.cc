#include "pmemd/metrics.h"

#include <cmath>
#include <cstdio>

namespace pmemd {

std::string PromText::EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void PromText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) {  // HELP escapes backslash and newline
    if (c == '\\') out_ += "\\\\";
    else if (c == '\n') out_ += "\\n";
    else out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PromText::Head(std::string_view name, const PromLabels& labels) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out_ += ',';
      out_ += labels[i].first;
      out_ += "=\"";
      out_ += EscapeLabelValue(labels[i].second);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

void PromText::Sample(std::string_view name, const PromLabels& labels, uint64_t value) {
  Head(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

void PromText::Sample(std::string_view name, const PromLabels& labels, double value) {
  Head(name, labels);
  if (std::isinf(value)) {
    out_ += value > 0 ? "+Inf" : "-Inf";
  } else if (std::isnan(value)) {
    out_ += "NaN";
  } else {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", value);
    out_ += buf;
  }
  out_ += '\n';
}

void RequestMetrics::Record(std::string_view method, std::string_view outcome, std::chrono::nanoseconds latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  std::lock_guard lock(mu_);
  auto key = std::make_pair(std::string(method), std::string(outcome));
  ++counts_[key];
  auto it = latency_.find(method);
  if (it == latency_.end()) it = latency_.emplace(std::string(method), Latency{}).first;
  Latency& l = it->second;
  ++l.count;
  l.sum_seconds += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) {
      ++l.buckets[i];
      break;
    }
}

void RequestMetrics::Render(PromText* out) const {
  std::lock_guard lock(mu_);
  out->Family("pmemd_requests_total", "counter",
              "JSON-RPC requests that named a method, by method and outcome (ok, or the error's data.code)");
  for (const auto& [key, n] : counts_) out->Sample("pmemd_requests_total", {{"method", key.first}, {"outcome", key.second}}, n);
  out->Family("pmemd_request_duration_seconds", "histogram",
              "Time from a request's method lookup to its result, by method");
  for (const auto& [method, l] : latency_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += l.buckets[i];
      char le[32];
      std::snprintf(le, sizeof le, "%g", kBuckets[i]);
      out->Sample("pmemd_request_duration_seconds_bucket", {{"method", method}, {"le", le}}, cumulative);
    }
    out->Sample("pmemd_request_duration_seconds_bucket", {{"method", method}, {"le", "+Inf"}}, l.count);
    out->Sample("pmemd_request_duration_seconds_sum", {{"method", method}}, l.sum_seconds);
    out->Sample("pmemd_request_duration_seconds_count", {{"method", method}}, l.count);
  }
}

}  // namespace pmemd
