// Server: pmemd's JSON-RPC endpoint on a Unix stream socket (Boost.Asio).
//
// The roles of Asio's HTTP server example: Server owns the io_context, the
// signals and the acceptor; a Session (server/session.h) owns one
// connection's socket, buffer and line framing; the ConnectionManager keeps
// the live sessions so that Stop can reach them; the Dispatcher (rpc.h)
// handles requests and knows nothing of sockets. Requests run on a small
// worker pool so a slow platform operation never stalls the accept loop;
// each connection's requests are answered in order.
//
// Framing: one JSON value per line, each answered by one line (a batch by
// one array). A line longer than max_request_bytes gets a -32600 error and
// the connection is closed, since its framing is lost.
//
// Shutdown (SIGTERM, SIGINT or Stop()): stop accepting, let in-flight
// requests finish and their answers be written, close idle connections,
// remove the socket file. SIGHUP calls the reload hook.
//
// Thread safety: Stop() may be called from any thread; everything else from
// the thread that calls Run().
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pmemd/rpc.h"
#include "pmemd/status.h"

namespace pmemd {

struct ServerOptions {
  std::string socket_path;
  unsigned socket_mode = 0660;
  std::optional<gid_t> socket_gid;  // chown the socket to this group
  size_t max_request_bytes = 1u << 20;
  size_t max_connections = 1024;
  size_t worker_threads = 4;
};

struct ServerHooks {
  std::function<void()> on_reload;    // SIGHUP
  std::function<void()> on_stopping;  // first shutdown signal, before draining
};

class Server {
 public:
  Server(ServerOptions options, const Dispatcher* dispatcher, ServerHooks hooks = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the socket. A stale socket file from a crashed run is replaced; a
  // live daemon on the path, or a file that is not a socket, is an error.
  Status Listen();
  // Serves until stopped; then removes the socket file.
  void Run();
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pmemd
