#include "pmemd/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "pmemd/json_reader.h"
#include "pmemd/text.h"

namespace pmemd {

using nlohmann::json;

Code CodeFromName(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(kLastCode); ++c)
    if (CodeName(static_cast<Code>(c)) == name) return static_cast<Code>(c);
  return Code::kInternal;
}

Result<Client> Client::Connect(const std::string& path, int timeout_ms) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::FromErrno(errno, "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return Status::InvalidArgument("socket path " + path + " is longer than 107 bytes");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    std::string why = err == ENOENT ? "no such file" : err == ECONNREFUSED ? "connection refused" : std::strerror(err);
    std::string fix = err == EACCES ? "run as a member of the socket's group, or as root"
                                    : "is pmemd running? (systemctl status pmemd)";
    return Status(Code::kUnavailable, "cannot connect to " + path + ": " + why + "; " + fix, err);
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  Client c(std::move(fd), path, timeout_ms);
  c.SetReceiveTimeout(timeout_ms);
  return c;
}

void Client::SetReceiveTimeout(int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

Result<std::string> Client::RoundTrip(const std::string& line) {
  std::string out = line + "\n";
  std::string_view rest = out;
  while (!rest.empty()) {
    ssize_t n = ::send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      // The daemon may have answered and closed before reading this request
      // (a refusal such as "too many connections"): that answer is the news.
      if (err == EPIPE || err == ECONNRESET) {
        Result<std::string> early = ReadLine();
        if (early.ok()) return early;
      }
      return Status(Code::kUnavailable, "send to " + path_ + ": " + std::strerror(err), err);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return ReadLine();
}

Result<std::string> Client::ReadLine() {
  for (;;) {
    if (size_t nl = pending_.find('\n'); nl != std::string::npos) {
      std::string answer = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return answer;
    }
    char buf[65536];
    // recvmsg: an answer may carry descriptors (SCM_RIGHTS, open-lease);
    // they arrive with its first bytes and are kept for the caller.
    alignas(struct cmsghdr) char control[CMSG_SPACE(64 * sizeof(int))];
    struct iovec iov{buf, sizeof buf};
    struct msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0)
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int received = -1;
          std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof received);
          received_.emplace_back(received);
        }
      }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return Status(Code::kUnavailable, "pmemd at " + path_ + " did not answer in time", errno);
      return Status(Code::kUnavailable, "receive from " + path_ + ": " + std::strerror(errno), errno);
    }
    if (n == 0)
      return Status::Unavailable("pmemd at " + path_ + " closed the connection before answering");
    pending_.append(buf, static_cast<size_t>(n));
  }
}

Result<json> Client::Call(const std::string& method, const json& params, std::vector<UniqueFd>* fds) {
  Result<json> r = Call(method, params);
  if (fds) *fds = std::move(received_);
  received_.clear();
  return r;
}

Result<json> Client::Call(const std::string& method, const json& params) { return Call(method, params, ProgressFn()); }

Result<json> Client::Call(const std::string& method, const json& params, const ProgressFn& on_progress) {
  received_.clear();  // nobody asked for descriptors of an earlier answer
  uint64_t id = next_id_++;
  last_error_ = nullptr;
  json req = {{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", id}};
  if (on_progress) req["params"]["progress"] = true;
  const auto sent = std::chrono::steady_clock::now();
  PMEMD_ASSIGN_OR_RETURN(std::string line, RoundTrip(req.dump()));
  // Progress notifications of this request come first, then its answer.
  for (;;) {
    Result<json> note = ParseJson(line);
    if (!on_progress || !note.ok() || !note->is_object() || note->contains("id") ||
        note->value("method", json()) != "progress")
      break;
    const json& p = (*note)["params"];
    if (!p.is_object() || p.value("id", json()) != id)
      return Status::Internal("pmemd sent progress for another request than id " + std::to_string(id) + ": " +
                              Excerpt(line, 200));
    // Read without throwing: a field of the wrong type reads as empty.
    auto text = [&p](const char* key) {
      auto it = p.find(key);
      return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto count = [&p](const char* key) {
      auto it = p.find(key);
      return it != p.end() && it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t{0};
    };
    const std::string stage = text("stage"), unit = text("unit");
    on_progress(ProgressStep{stage, count("done"), count("total"), unit});
    // Notifications do not stretch the call's timeout: the next read gets
    // what is left of it.
    if (timeout_ms_ > 0) {
      const auto spent =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent).count();
      if (spent >= timeout_ms_)
        return Status(Code::kUnavailable, "pmemd at " + path_ + " did not answer in time", EAGAIN);
      SetReceiveTimeout(static_cast<int>(timeout_ms_ - spent));
    }
    Result<std::string> next = ReadLine();
    if (timeout_ms_ > 0) SetReceiveTimeout(timeout_ms_);
    PMEMD_ASSIGN_OR_RETURN(line, std::move(next));
  }
  return Answer(id, line);
}

Result<json> Client::Answer(uint64_t id, const std::string& line) {
  Result<json> resp = ParseJson(line);
  if (!resp.ok()) return Status::Internal("pmemd sent an answer that is not JSON: " + resp.status().message());
  if (auto err = resp->find("error"); err != resp->end()) {
    Code code = Code::kInternal;
    int sys_errno = 0;
    if (auto d = err->find("data"); d != err->end() && d->is_object()) {
      if (auto c = d->find("code"); c != d->end() && c->is_string()) code = CodeFromName(c->get<std::string>());
      if (auto e = d->find("errno"); e != d->end() && e->is_number_integer()) sys_errno = e->get<int>();
    } else if (auto c = err->find("code"); c != err->end() && c->is_number_integer()) {
      // No data (parse and framing errors): map the JSON-RPC code back.
      int rpc = c->get<int>();
      code = rpc == -32602 ? Code::kInvalidArgument : Code::kInternal;
      for (int k = 1; k <= static_cast<int>(kLastCode); ++k)
        if (RpcErrorCode(static_cast<Code>(k)) == rpc) code = static_cast<Code>(k);
    }
    std::string msg = err->value("message", std::string("unknown error"));
    last_error_ = *err;
    return Status(code, msg, sys_errno);
  }
  if (!resp->contains("result") || (*resp)["id"] != id)
    return Status::Internal("pmemd answered with neither result nor error for id " + std::to_string(id));
  return (*resp)["result"];
}

Result<json> Client::Subscribe(const json& params) { return Call("subscribe", params); }

Result<std::optional<json>> Client::NextNotification(int timeout_ms) {
  if (pending_.find('\n') == std::string::npos) {
    pollfd p{fd_.get(), POLLIN, 0};
    int n;
    do n = ::poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n < 0) return Status::FromErrno(errno, "poll " + path_);
    if (n == 0) return std::optional<json>();
  }
  PMEMD_ASSIGN_OR_RETURN(std::string line, ReadLine());
  Result<json> note = ParseJson(line);
  if (!note.ok()) return Status::Internal("pmemd sent a notification that is not JSON: " + note.status().message());
  return std::optional<json>(std::move(note).value());
}

Status Client::ReadNotifications(const std::function<bool(const json&)>& on_notification, int timeout_ms) {
  for (;;) {
    PMEMD_ASSIGN_OR_RETURN(std::optional<json> note, NextNotification(timeout_ms));
    if (!note) return Status::Unavailable("no notification from pmemd at " + path_ + " within " +
                                          std::to_string(timeout_ms) + " ms");
    if (!on_notification(*note)) return Status::Ok();
  }
}

}  // namespace pmemd
