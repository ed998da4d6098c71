// An HTTP listener for Prometheus and health checks (issue 13): GET /metrics
// answers the `metrics` method's text (exposition format 0.0.4), GET
// /healthz "ok" while the daemon answers `version`. Off unless the config
// names an address (metrics_listen: "127.0.0.1:9464", "[::1]:9464", or a
// Unix socket "unix:/run/pmemd/metrics.sock"); only loopback addresses and
// Unix sockets are accepted: the metrics describe the host's pmem, and
// pmemd does not serve other hosts. A Unix socket is made mode 0666 (any
// local user, as a loopback port), a stale one is replaced, anything else
// at its path is refused, and it is removed at shutdown if still ours. Everything else is 404 or
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
  // port, port 0 picks one, see port(); or "unix:" and an absolute path).
  // InvalidArgument for anything else.
  static Result<std::unique_ptr<HttpMetrics>> Listen(const std::string& address, const Dispatcher* dispatcher);
  // The address check alone, for the configuration ("" is off, and fine).
  static Status CheckAddress(const std::string& address);
  ~HttpMetrics();

  void Start();
  void Stop();
  unsigned short port() const;  // 0 on a Unix socket
  std::string where() const;    // "127.0.0.1:9464", "[::1]:9464", "unix:/run/pmemd/metrics.sock"

 private:
  struct Impl;
  explicit HttpMetrics(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmemd
