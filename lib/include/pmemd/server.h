// Server: pmemd's JSON-RPC endpoint on a Unix stream socket (Boost.Asio).
//
// The roles of Asio's HTTP server example: Server owns the io_context, the
// signals and the acceptor; a Session (private to server.cc) owns one
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
// Bounded under hostile load (issue 9). pmemd runs as root and anyone who
// can open the socket, read-only users included, must not be able to deny
// it to root. Every bound has a config key (config/pmemd.json):
//   - Timeouts. A partial line must be completed within request_timeout
//     (request_timeout_ms, 60 s), counted from its first byte so a slow drip
//     does not extend it: the peer gets a -32600 error naming the key and
//     the connection is closed. A connection with nothing pending is closed
//     silently after idle_timeout (idle_timeout_ms, 300 s). An answer the
//     peer does not take within request_timeout closes the connection too.
//     A request being worked on is never timed out.
//   - Connections. max_connections (1024) in all; of those,
//     reserved_admin_connections (16) only root and the admin group
//     (AccessPolicy::IsAdmin, judged once per connection from SO_PEERCRED)
//     may use; and at most max_connections_per_uid (64) per non-admin uid.
//     A refused connection gets one -32011 ("unavailable") line naming the
//     limit and its key and is closed.
//   - Buffered request bytes across all sessions: max_buffered_bytes
//     (64 MiB). When a read takes the total over it, the non-admin session
//     with the largest partial line is answered with a -32013
//     ("resource_exhausted") error naming the key and closed; repeated until
//     the total fits. Chosen over making reads wait because waiting keeps
//     the memory held, and keeps every other non-admin client from being
//     read, until the hostile lines time out (a minute); dropping frees the
//     memory at once and picks the peer holding the most, which a client
//     sending whole lines of normal size never is. Admin sessions are never
//     dropped (at most reserved_admin_connections + their share of
//     max_connections, each at most max_request_bytes). A session buffers at
//     most max_request_bytes + 1 and an idle one holds no read buffer at
//     all: reads wait for readability and copy out of one scratch buffer
//     shared by the io thread.
//   - Reply size: max_reply_bytes, enforced by the Dispatcher (rpc.h).
//   - Fairness. Each connection has at most one request (line or batch) in
//     flight, so the workers are shared among connections in arrival order.
//     Admin connections have a lane of their own: one more worker that only
//     they use, so root's `version` never queues behind other peers' batches
//     however many there are; the other workers stay shared. (A priority
//     queue would need a custom executor; a lane is two thread pools.) The
//     shared workers also run at nice +10, below the io thread and the admin
//     worker: on a machine with few cores, other peers' batches would
//     otherwise take the CPU that root's requests and every connection's
//     reads and writes need. Measured with pmemd-bench load
//     (docs/performance.md).
//   - Refusals and drops are logged at warning, at most one line per uid per
//     10 s with a count of those held back (LogLimiter); timeouts at debug.
//
// Event streams (subscribe, docs/events.md): each session offers the
// dispatcher a CallContext::start_stream. A subscribe hands it its
// EventSubscriber; once the answer is written the session only streams:
// the subscriber's wake callback posts to the io thread, which writes what
// is queued (up to 256 KiB at a time) while the peer takes it. Lines the
// peer sends are read and ignored; no idle timeout applies; the peer's
// close ends the stream. Publishers never wait for a session: a peer that
// does not read fills its bounded queue and loses events (counted and told).
// On shutdown a stream is flushed, within request_timeout, and closed.
//
// Shutdown (SIGTERM, SIGINT or Stop()): stop accepting, let in-flight
// requests finish and their answers be written, close idle connections,
// remove the socket file. SIGHUP calls the reload hook.
//
// Thread safety: Stop() may be called from any thread; everything else from
// the thread that calls Run(). Sessions and their accounting are touched only
// on that thread (the io_context runs on it alone); workers get copies.
#pragma once

#include <sys/types.h>

#include <chrono>
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
  size_t worker_threads = 4;  // shared by all; admin connections have one more of their own
  std::chrono::milliseconds request_timeout{60'000};  // a partial line, or an answer not taken
  std::chrono::milliseconds idle_timeout{300'000};    // nothing pending
  size_t reserved_admin_connections = 16;             // of max_connections
  size_t max_connections_per_uid = 64;                // non-admin peers only
  size_t max_buffered_bytes = 64u << 20;              // partial lines across all sessions
};

struct ServerHooks {
  std::function<void()> on_reload;    // SIGHUP
  std::function<void()> on_stopping;  // first shutdown signal, before draining
};

class Server {
 public:
  // `dispatcher` is borrowed and must outlive the server; its policy() says
  // which peers are admins.
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
