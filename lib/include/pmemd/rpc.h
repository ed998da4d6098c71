// JSON-RPC 2.0 for pmemd: the method registry and the dispatcher.
//
// The dispatcher knows nothing of sockets (Asio's request_handler role): it
// takes one request line, which may hold a single request or a batch, and
// returns the response line. Errors map onto JSON-RPC codes:
//   -32700 parse error, -32600 invalid request, -32601 method not found,
//   -32602 invalid params (Code::kInvalidArgument), -32603 internal error,
//   -32001.. application errors, one per Code (RpcErrorCode()).
// error.data carries {"code": "<CodeName>", "errno": N} so clients can act
// on the kind of failure without parsing messages.
//
// Params: each method declares the params it takes (Method::params) and
// its handler reads them through a JsonReader bound to that declaration;
// rpc.discover (OpenRpcDocument) publishes the declarations as an OpenRPC
// 1.2 document, so what is documented is what is validated.
//
// Access: each method is kRead or kMutate. Mutating methods are allowed only
// to root and to members of the configured admin group, checked against the
// peer's SO_PEERCRED credentials; refusals are logged with uid and pid, at
// most one line per uid per 10 s with a count of the ones held back
// (LogLimiter), so a refused caller cannot flood the log.
//
// Bounds against hostile callers (issue 9):
//   - A batch holds at most max_batch requests (-32600 otherwise).
//   - A reply line is at most max_reply_bytes (config key
//     "max_reply_bytes", default 16 MiB). A single answer that would be
//     larger, or an answer in a batch that would take the batch's reply over
//     the bound, is replaced by a -32013 error (data.code
//     "resource_exhausted") saying so and asking for a narrower query. The
//     bound applies to results; the error entries that replace them are a
//     few hundred bytes each and may go past it by that much.
//   - An unknown method name longer than kMaxSuggestNameBytes gets no
//     "did you mean" (the edit distance is quadratic in the name's length),
//     and names echoed in messages are cut to that length.
//
// Progress (docs/api.md): a request to a method that reports progress may
// carry "progress": true in its params; its admitted steps go out as
// "progress" notifications on the same connection (CallContext::notify),
// all of them before its answer.
//
// Every request that reaches a method is counted (set_metrics) and runs
// with its origin (method, id, peer) as the thread's current request
// (events.h), so the events it publishes name it.
//
// Thread safety: a Registry is filled before serving and then only read;
// Dispatcher::HandleLine may be called from many threads at once.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/log_limiter.h"
#include "pmemd/progress.h"
#include "pmemd/status.h"

namespace pmemd {

struct PeerCred {
  bool known = false;  // false when SO_PEERCRED failed (never for Unix sockets)
  pid_t pid = -1;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

class AccessPolicy;
class EventSubscriber;
class RequestMetrics;

struct CallContext {
  PeerCred peer;
  // Set by the Dispatcher for the handler: the policy that admitted the
  // call, for handlers that decide per object (open-lease). Borrowed from
  // the Dispatcher, valid during the call.
  const AccessPolicy* policy = nullptr;
  // Where a handler puts descriptors to pass with its answer (SCM_RIGHTS on
  // the Unix socket, in the order they are added); null when the transport
  // cannot carry them. Borrowed from the session, valid during the call.
  std::vector<UniqueFd>* fds = nullptr;
  // Set by a connection that can stream (the server's sessions): the
  // subscribe method hands it the new subscriber, and once the answer is
  // written the connection carries that subscriber's notifications and
  // nothing else. Empty: the caller cannot stream (subscribe is refused).
  std::function<Status(std::shared_ptr<EventSubscriber>)> start_stream;
  // Set by a connection that can carry notifications ahead of an answer
  // (the server's sessions): queues one notification line (without '\n')
  // to be written before the answer. Never blocks: the connection's queue
  // is bounded and drops the oldest line when a slow peer lets it fill.
  // Called from the worker. Empty: progress is refused.
  std::function<void(std::string line)> notify;
  // Set by the Dispatcher for a method that reports progress
  // (Method::reports_progress) when the caller asked with "progress": true:
  // the handler passes it to the layer doing the work, which calls it as it
  // goes; each admitted step (ProgressLimiter) becomes a "progress"
  // notification naming the request's id. Empty otherwise.
  ProgressFn progress;
};

enum class Access { kRead, kMutate };

// A method and everything rpc.discover says about it. `params` declares
// every key the handler reads: the handler gets a JsonReader bound to it
// (json_reader.h), which enforces each key's type, requiredness, default
// and allowed values, and turns any disagreement between the declaration
// and the handler's reads into -32603 on every call. So the published
// document is the validation itself, not a description of it.
struct Method {
  // `params` is read through the reader only, and the handler calls
  // params.Finish() before it acts (the dispatcher answers -32603 for a
  // handler that returns without having done so).
  using Handler = std::function<Result<nlohmann::json>(JsonReader& params, const CallContext& ctx)>;
  std::string name;     // kebab-case, as daxctl names commands ("list", "create-namespace")
  std::string summary;  // one line, shown by list-methods
  Access access = Access::kRead;
  Params params;          // in the order the handler reads them
  nlohmann::json result;  // JSON Schema of the result (json_schema.h); required
  Handler handler;
  // Whether the method accepts "progress": true in its params: Add()
  // declares the param, the dispatcher reads it and sets
  // CallContext::progress, list-methods shows the flag. A method that does
  // not report progress refuses the key as it refuses any unknown one.
  bool reports_progress = false;
};

// The notification a progress step becomes (docs/api.md):
// {"jsonrpc": "2.0", "method": "progress",
//  "params": {"id": <request id>, "stage", "done", "total", "unit"}}.
nlohmann::json ProgressNotification(const nlohmann::json& id, const ProgressStep& step);

class Registry {
 public:
  Registry();  // holds list-methods and rpc.discover from the start
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Fails if the name is taken, or (kInternal) if the params declaration
  // cannot be enforced (CheckParams) or the result schema is missing.
  Status Add(Method m);
  const Method* Find(std::string_view name) const;
  std::vector<const Method*> All() const;  // sorted by name

 private:
  std::map<std::string, Method, std::less<>> methods_;
};

// The OpenRPC 1.2 document of every method in `registry` (rpc.discover's
// result): params from each Method::params, result schemas, the
// application errors (one per Code, data.code its name) and access as
// "x-access". docs/api.md describes it.
nlohmann::json OpenRpcDocument(const Registry& registry);

// Decides whether a peer may call a method.
class AccessPolicy {
 public:
  // admin_gid: the group whose members may call mutating methods, besides
  // root and pmemd's own user (who owns the process anyway: a per-user
  // pmemd on the emulated platform serves its user); nullopt: no group.
  explicit AccessPolicy(std::optional<gid_t> admin_gid = std::nullopt) : admin_gid_(admin_gid) {}
  Status Check(const Method& m, const PeerCred& peer) const;
  // Root or a member of the admin group: who may mutate, and who the server
  // keeps reserved connections and a worker for. Looks up the peer's
  // supplementary groups (NSS) unless it is root or its primary gid is the
  // admin gid.
  bool IsAdmin(const PeerCred& peer) const;
  // Whether the peer's primary or supplementary groups include `group`.
  static bool InGroup(const PeerCred& peer, gid_t group);

 private:
  std::optional<gid_t> admin_gid_;
};

struct DispatcherLimits {
  size_t max_batch = 256;               // requests in one batch
  size_t max_reply_bytes = 16u << 20;   // "max_reply_bytes": one reply line, batch or not
};

// Names longer than this get no "did you mean" and are cut in messages.
inline constexpr size_t kMaxSuggestNameBytes = 64;

class Dispatcher {
 public:
  // `registry` is borrowed and must outlive the dispatcher.
  Dispatcher(const Registry* registry, AccessPolicy policy, DispatcherLimits limits = {})
      : registry_(registry), policy_(policy), limits_(limits) {}
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // One request line (without its '\n') in, the response line out; "" when
  // nothing is to be sent (only notifications). Never throws; the line is
  // always valid UTF-8 (text.h).
  std::string HandleLine(std::string_view line, const CallContext& ctx) const;

  // One already-parsed request object; null json for a notification.
  nlohmann::json HandleRequest(const nlohmann::json& req, const CallContext& ctx) const;

  static nlohmann::json ErrorResponse(const nlohmann::json& id, int code, const std::string& message,
                                      const nlohmann::json& data = nullptr);
  // The same for a Status: code from RpcErrorCode, data.code its name.
  static nlohmann::json ErrorResponse(const nlohmann::json& id, const Status& status);

  const AccessPolicy& policy() const { return policy_; }
  const DispatcherLimits& limits() const { return limits_; }

  // Counts every request by method and outcome, with its latency
  // (metrics.h). Borrowed, outlives the dispatcher; set before serving.
  void set_metrics(RequestMetrics* metrics) { metrics_ = metrics; }

 private:
  // HandleLine's work; may throw, which HandleLine turns into -32603.
  std::string HandleLineOrThrow(std::string_view line, const CallContext& ctx) const;
  // The serialized response, or a resource_exhausted error in its place
  // when a reply already `used` bytes long would grow past max_reply_bytes.
  std::string DumpWithinReplyBound(const nlohmann::json& resp, size_t used) const;

  const Registry* registry_;
  AccessPolicy policy_;
  DispatcherLimits limits_;
  mutable LogLimiter refusal_log_{std::chrono::seconds(10)};
  RequestMetrics* metrics_ = nullptr;
};

}  // namespace pmemd
