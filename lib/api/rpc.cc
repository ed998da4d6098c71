#include "pmemd/rpc.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>

#include "pmemd/events.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/json_schema.h"
#include "pmemd/log.h"
#include "pmemd/metrics.h"
#include "pmemd/text.h"

namespace pmemd {

using nlohmann::json;

namespace {

constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInternalError = -32603;
constexpr size_t kMaxMessageBytes = 4096;

// Levenshtein distance, for "did you mean" on unknown methods. Quadratic:
// callers bound the lengths (kMaxSuggestNameBytes).
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The registered name nearest to `name` within an edit distance of 2, or "".
std::string NearestName(std::string_view name, const std::vector<const Method*>& candidates) {
  if (name.size() > kMaxSuggestNameBytes) return "";
  std::string hint;
  size_t best = 3;
  for (const Method* cand : candidates) {
    size_t gap = name.size() > cand->name.size() ? name.size() - cand->name.size() : cand->name.size() - name.size();
    if (gap >= best) continue;  // the distance is at least the length difference
    size_t d = EditDistance(name, cand->name);
    if (d < best) best = d, hint = cand->name;
  }
  return hint;
}

bool InGroup(uid_t uid, gid_t primary, gid_t group) {
  if (primary == group) return true;
  const std::vector<gid_t> groups = GroupsOf(Credentials{uid, primary});
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

}  // namespace

Registry::Registry() {
  const json method_list = schema::Object(
      {{"methods", schema::ArrayOf(schema::Object({{"name", schema::String()},
                                                   {"access", schema::Enum({"read", "mutate"})},
                                                   {"summary", schema::String()},
                                                   {"progress", schema::Boolean()}}))}});
  Method list{.name = "list-methods",
              .summary = "List every method with its access and a one-line summary",
              .access = Access::kRead,
              .params = {},
              .result = method_list,
              .handler = [this](JsonReader& params, const CallContext&) -> Result<json> {
                PMEMD_RETURN_IF_ERROR(params.Finish());
                json out = json::array();
                for (const Method* m : All())
                  out.push_back({{"name", m->name},
                                 {"access", m->access == Access::kMutate ? "mutate" : "read"},
                                 {"summary", m->summary},
                                 {"progress", m->reports_progress}});
                return json{{"methods", std::move(out)}};
              }};
  Method discover{.name = "rpc.discover",
                  .summary = "The OpenRPC 1.2 document of this API: every method's params, result, errors and access",
                  .access = Access::kRead,
                  .params = {},
                  .result = schema::Object({{"openrpc", schema::String()},
                                            {"info", schema::Object({{"title", schema::String()},
                                                                     {"version", schema::String()}})},
                                            {"methods", schema::ArrayOf(schema::Object({{"name", schema::String()}}))}},
                                           {{"components", schema::Object({})}}),
                  .handler = [this](JsonReader& params, const CallContext&) -> Result<json> {
                    PMEMD_RETURN_IF_ERROR(params.Finish());
                    return OpenRpcDocument(*this);
                  }};
  for (Method* m : {&list, &discover}) {
    std::string name = m->name;
    methods_.emplace(std::move(name), std::move(*m));
  }
}

Status Registry::Add(Method m) {
  if (m.name.empty() || !m.handler) return Status::Internal("method needs a name and a handler");
  if (!m.result.is_object())
    return Status::Internal("method '" + m.name + "' needs a result schema (Method::result, json_schema.h)");
  if (m.reports_progress)
    m.params.push_back(Param::Boolean("progress",
                                      "Send \"progress\" notifications (stage, done, total, unit) on this connection "
                                      "ahead of the answer")
                           .Default(false));
  PMEMD_RETURN_IF_ERROR(CheckParams(m.params).Annotate("method '" + m.name + "'"));
  std::string name = m.name;
  auto [it, inserted] = methods_.emplace(name, std::move(m));
  if (!inserted) return Status::AlreadyExists("method '" + name + "' is registered twice");
  return Status::Ok();
}

const Method* Registry::Find(std::string_view name) const {
  auto it = methods_.find(name);
  return it == methods_.end() ? nullptr : &it->second;
}

std::vector<const Method*> Registry::All() const {
  std::vector<const Method*> out;
  for (const auto& [name, m] : methods_) out.push_back(&m);
  return out;
}

bool AccessPolicy::IsAdmin(const PeerCred& peer) const {
  if (!peer.known) return false;
  // pmemd's own user owns the process anyway: a per-user pmemd on the
  // emulated platform serves the user who started it.
  if (peer.uid == 0 || peer.uid == ::geteuid()) return true;
  return admin_gid_ && pmemd::InGroup(peer.uid, peer.gid, *admin_gid_);
}

bool AccessPolicy::InGroup(const PeerCred& peer, gid_t group) {
  return peer.known && pmemd::InGroup(peer.uid, peer.gid, group);
}

Status AccessPolicy::Check(const Method& m, const PeerCred& peer) const {
  if (m.access == Access::kRead) return Status::Ok();
  if (!peer.known)
    return Status::PermissionDenied("'" + m.name + "' changes state and the caller's credentials are unknown");
  if (IsAdmin(peer)) return Status::Ok();
  std::string how = admin_gid_ ? "run it as root or as a member of the admin group (gid " +
                                     std::to_string(*admin_gid_) + ")"
                               : "run it as root, or set \"admin_group\" in pmemd's configuration";
  return Status::PermissionDenied("'" + m.name + "' changes state and uid " + std::to_string(peer.uid) +
                                  " may not call it; " + how);
}

json Dispatcher::ErrorResponse(const json& id, int code, const std::string& message, const json& data) {
  // Messages quote what the caller sent: keep them valid UTF-8 and bounded.
  json err = {{"code", code}, {"message", Excerpt(message, kMaxMessageBytes)}};
  if (!data.is_null()) err["data"] = data;
  return {{"jsonrpc", "2.0"}, {"error", std::move(err)}, {"id", id}};
}

json Dispatcher::ErrorResponse(const json& id, const Status& s) {
  json data = {{"code", CodeName(s.code())}};
  if (s.sys_errno()) data["errno"] = s.sys_errno();
  if (const json* detail = s.detail(); detail != nullptr && detail->is_object())
    for (const auto& [k, v] : detail->items())
      if (!data.contains(k)) data[k] = v;
  return ErrorResponse(id, RpcErrorCode(s.code()), s.message(), data);
}

json ProgressNotification(const json& id, const ProgressStep& step) {
  return {{"jsonrpc", "2.0"},
          {"method", "progress"},
          {"params",
           {{"id", id}, {"stage", step.stage}, {"done", step.done}, {"total", step.total}, {"unit", step.unit}}}};
}

json Dispatcher::HandleRequest(const json& req, const CallContext& ctx) const {
  static auto log = GetLogger("rpc");
  if (!req.is_object())
    return ErrorResponse(nullptr, kInvalidRequest,
                         "a request must be a JSON object, got " + JsonTypeName(req));
  // The id is echoed only when it is one JSON-RPC allows (string, number, null).
  json id = nullptr;
  bool is_notification = true;
  if (auto it = req.find("id"); it != req.end()) {
    is_notification = false;
    if (it->is_string() || it->is_number() || it->is_null()) {
      id = *it;
    } else {
      return ErrorResponse(nullptr, kInvalidRequest,
                           "\"id\" must be a string, a number or null, got " + JsonTypeName(*it));
    }
  }
  auto ver = req.find("jsonrpc");
  if (ver == req.end() || *ver != "2.0")
    return ErrorResponse(id, kInvalidRequest, "missing or wrong \"jsonrpc\": it must be \"2.0\"");
  auto mit = req.find("method");
  if (mit == req.end() || !mit->is_string())
    return ErrorResponse(id, kInvalidRequest,
                         "missing \"method\": a request needs \"method\" as a string");
  for (auto it = req.begin(); it != req.end(); ++it)
    if (it.key() != "jsonrpc" && it.key() != "method" && it.key() != "params" && it.key() != "id")
      return ErrorResponse(id, kInvalidRequest,
                           "unknown member " + Quote(it.key(), kMaxSuggestNameBytes) +
                               "; a request has jsonrpc, method, params, id");
  const std::string& name = mit->get_ref<const std::string&>();
  json params = nullptr;
  if (auto pit = req.find("params"); pit != req.end()) {
    if (!pit->is_object() && !pit->is_null())
      return ErrorResponse(id, -32602,
                           "\"params\" must be an object of named parameters, got " + JsonTypeName(*pit));
    params = *pit;
  }

  const auto started = std::chrono::steady_clock::now();
  auto count = [&](std::string_view method, std::string_view outcome) {
    if (metrics_) metrics_->Record(method, outcome, std::chrono::steady_clock::now() - started);
  };
  const Method* m = registry_->Find(name);
  if (m == nullptr) {
    count(kUnknownMethodLabel, "method_not_found");
    std::string hint = NearestName(name, registry_->All());
    std::string msg = "unknown method " + Quote(name, kMaxSuggestNameBytes);
    msg += hint.empty() ? "; call list-methods to see them" : "; did you mean '" + hint + "'?";
    return is_notification ? json() : ErrorResponse(id, kMethodNotFound, msg);
  }

  Status allowed = policy_.Check(*m, ctx.peer);
  if (!allowed.ok()) {
    if (auto suppressed = refusal_log_.Admit(ctx.peer.uid))
      log->warn("refused '{}' to uid {} pid {}: {}{}", name, ctx.peer.uid, ctx.peer.pid, allowed.message(),
                SuppressedNote(*suppressed, refusal_log_.interval()));
    count(m->name, CodeName(allowed.code()));
    return is_notification ? json() : ErrorResponse(id, allowed);
  }

  Result<json> r = [&]() -> Result<json> {
    try {
      // Events the handler publishes name this request (events.h).
      ScopedRequestOrigin origin({.method = m->name, .id = id, .uid = ctx.peer.known ? int64_t(ctx.peer.uid) : -1,
                                  .pid = ctx.peer.known ? int64_t(ctx.peer.pid) : -1});
      CallContext call = ctx;
      call.policy = &policy_;
      JsonReader reader(params, &m->params, m->name);
      // "progress" is declared for the methods that report it (Registry::Add)
      // and read here; a wrong type is the reader's error, which the
      // handler's Finish() returns before it acts.
      bool progress = false;
      if (m->reports_progress) reader.Optional("progress", &progress);
      if (progress && !is_notification) {
        if (!ctx.notify)
          return Status::FailedPrecondition(
              "'" + m->name + "' can report progress only where notifications can be sent (pmemd's Unix socket); " +
              "call it there, or without \"progress\"");
        // One limiter per request, shared by the copies of the function a
        // handler may make.
        auto limiter = std::make_shared<ProgressLimiter>();
        call.progress = [notify = ctx.notify, id, limiter](const ProgressStep& step) {
          if (limiter->Admit(step)) notify(DumpJson(ProgressNotification(id, step)));
        };
      }
      Result<json> out = m->handler(reader, call);
      if (!reader.finished())
        return Status::Internal("method '" + name + "' answered without checking its params (JsonReader::Finish)");
      return out;
    } catch (const std::exception& e) {  // the one catch-all per request
      log->error("method '{}' threw: {}", name, e.what());
      return Status::Internal(std::string("method '") + name + "' failed unexpectedly: " + e.what());
    }
  }();
  count(m->name, r.ok() ? std::string_view("ok") : CodeName(r.status().code()));
  if (is_notification) return json();
  if (!r.ok()) return ErrorResponse(id, r.status());
  return {{"jsonrpc", "2.0"}, {"result", std::move(r).value()}, {"id", id}};
}

std::string Dispatcher::HandleLine(std::string_view line, const CallContext& ctx) const {
  // Nothing thrown while handling or serializing may leave the request path:
  // the worst a request can get is -32603 for itself.
  try {
    return HandleLineOrThrow(line, ctx);
  } catch (const std::exception& e) {
    static auto log = GetLogger("rpc");
    log->error("request from uid {} pid {} failed unexpectedly: {}", ctx.peer.uid, ctx.peer.pid,
               ToValidUtf8(e.what()));
    return DumpJson(ErrorResponse(nullptr, kInternalError, std::string("the request failed unexpectedly: ") + e.what()));
  }
}

std::string Dispatcher::HandleLineOrThrow(std::string_view line, const CallContext& ctx) const {
  Result<json> parsed = ParseJson(line);
  if (!parsed.ok()) return DumpJson(ErrorResponse(nullptr, kParseError, parsed.status().message()));
  const json& req = *parsed;
  if (req.is_array()) {
    if (req.empty()) return DumpJson(ErrorResponse(nullptr, kInvalidRequest, "an empty batch is not a request"));
    if (req.size() > limits_.max_batch)
      return DumpJson(ErrorResponse(nullptr, kInvalidRequest,
                                    "batch of " + std::to_string(req.size()) + " requests exceeds the limit of " +
                                        std::to_string(limits_.max_batch)));
    // Built as text so the reply's size is known as it grows: "[" a "," b "]".
    std::string out = "[";
    for (const auto& r : req) {
      json resp = HandleRequest(r, ctx);
      if (resp.is_null()) continue;
      size_t separators = out.size() > 1 ? 2 : 1;  // a comma before it, the closing bracket after
      std::string one = DumpWithinReplyBound(resp, out.size() + separators);
      if (out.size() > 1) out += ',';
      out += one;
    }
    if (out.size() == 1) return std::string();
    out += ']';
    return out;
  }
  json resp = HandleRequest(req, ctx);
  return resp.is_null() ? std::string() : DumpWithinReplyBound(resp, 0);
}

std::string Dispatcher::DumpWithinReplyBound(const json& resp, size_t used) const {
  std::string text = DumpJson(resp);
  if (used + text.size() <= limits_.max_reply_bytes) return text;
  std::string why = used == 0 ? "this answer is " + std::to_string(text.size()) + " bytes"
                              : "this answer of " + std::to_string(text.size()) + " bytes would join " +
                                    std::to_string(used) + " bytes of earlier answers in the batch";
  Status s = Status::ResourceExhausted(
      "the reply would exceed the limit of " + std::to_string(limits_.max_reply_bytes) +
      " bytes (max_reply_bytes): " + why + "; ask for a narrower query (e.g. list-pools without \"blocks\")" +
      " or send a smaller batch");
  return DumpJson(ErrorResponse(resp.value("id", json()), s));
}

}  // namespace pmemd
