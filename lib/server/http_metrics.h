// An HTTP listener for Prometheus and health checks (issue 13): GET /metrics
// answers the `metrics` method's text (exposition format 0.0.4), GET
// /healthz "ok" while the daemon answers `version`. Off unless the config
// names an address (metrics_listen: "127.0.0.1:9464" or "[::1]:9464");
// only loopback addresses are accepted: the metrics describe the host's
// pmem, and pmemd does not serve other hosts. Everything else is 404 or
// 405; requests are bounded (8 KiB of headers, no body, 10 s per request,
// 64 connections, one request per connection).
//
// It answers through the Dispatcher, as a client of the socket would, so
// what it serves is exactly the `metrics` method's output and its requests
// are counted like any other.
//
// Thread safety: runs its own io_context on one thread between Start() and
// Stop() (or destruction); `dispatcher` is borrowed and must outlive it.
#pragma once

#include <memory>
#include <string>

#include "pmemd/rpc.h"
#include "pmemd/status.h"

namespace pmemd {

class HttpMetrics {
 public:
  // Parses and binds `address` (a loopback IPv4 or IPv6 address with a
  // port; port 0 picks one, see port()). InvalidArgument for anything else.
  static Result<std::unique_ptr<HttpMetrics>> Listen(const std::string& address, const Dispatcher* dispatcher);
  // The address check alone, for the configuration ("" is off, and fine).
  static Status CheckAddress(const std::string& address);
  ~HttpMetrics();

  void Start();
  void Stop();
  unsigned short port() const;

 private:
  struct Impl;
  explicit HttpMetrics(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmemd
