// Client: a blocking JSON-RPC client for pmemd's socket, used by pmemctl
// and the integration tests.
//
// Failures come back as Status: kUnavailable when the daemon cannot be
// reached (the message says how to check on it), and for an error answer
// the Code named in error.data.code with the daemon's message.
//
// Thread safety: one Client per thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/fs.h"
#include "pmemd/progress.h"
#include "pmemd/status.h"

namespace pmemd {

// "not_found" -> Code::kNotFound; kInternal for names it does not know.
Code CodeFromName(std::string_view name);

class Client {
 public:
  static Result<Client> Connect(const std::string& socket_path, int timeout_ms = 30000);

  // Sends one request and waits for its answer; returns "result".
  Result<nlohmann::json> Call(const std::string& method,
                              const nlohmann::json& params = nlohmann::json::object());
  // The same, and the descriptors the daemon passed with the answer
  // (open-lease), in order; a plain Call closes any it receives.
  Result<nlohmann::json> Call(const std::string& method, const nlohmann::json& params,
                              std::vector<UniqueFd>* fds);
  // The same with "progress": true added to `params` (docs/api.md, for the
  // methods that report progress): `on_progress` is called for each
  // progress notification of this request, in the order they come, all
  // before the answer; the step's strings live only during the call. An
  // empty `on_progress` is a plain Call. Connect's timeout bounds the whole
  // call, notifications or not.
  Result<nlohmann::json> Call(const std::string& method, const nlohmann::json& params,
                              const ProgressFn& on_progress);
  // The "error" object of the last Call's answer as the daemon sent it
  // ({code, message, data: {code, errno, ...}}), for clients that pass it
  // on (pmemctl --json); null when that Call succeeded or got no answer.
  const nlohmann::json& last_error() const { return last_error_; }
  // Sends one raw line, returns the raw answer line (without '\n').
  Result<std::string> RoundTrip(const std::string& line);

  // Event stream (docs/events.md). Subscribe sends `subscribe` with params
  // ({"kinds": [...], "objects": [...], "since": N}, all optional) and
  // returns its result ({"subscribed": true, "seq": N}); from then on the
  // connection carries only notifications, read with NextNotification.
  Result<nlohmann::json> Subscribe(const nlohmann::json& params = nlohmann::json::object());
  // The next notification ({"jsonrpc", "method": "event"|"missed"|"dropped",
  // "params"}), or nullopt when none came within timeout_ms (-1: wait as
  // long as it takes). kUnavailable when the daemon closed the stream.
  Result<std::optional<nlohmann::json>> NextNotification(int timeout_ms);
  // Calls `on_notification` for each notification until it returns false,
  // or the stream ends (kUnavailable), or none came within timeout_ms.
  Status ReadNotifications(const std::function<bool(const nlohmann::json&)>& on_notification, int timeout_ms = -1);

 private:
  Result<std::string> ReadLine();
  // The result or error of answer `line` to request `id`.
  Result<nlohmann::json> Answer(uint64_t id, const std::string& line);
  Client(UniqueFd fd, std::string path, int timeout_ms)
      : fd_(std::move(fd)), path_(std::move(path)), timeout_ms_(timeout_ms) {}
  // Sets how long one receive may wait (SO_RCVTIMEO; 0: for ever).
  void SetReceiveTimeout(int timeout_ms);
  UniqueFd fd_;
  std::string path_;
  int timeout_ms_ = 0;  // Connect's; 0: none
  std::string pending_;  // bytes read past the last answer
  std::vector<UniqueFd> received_;  // descriptors that came with the bytes read
  uint64_t next_id_ = 1;
  nlohmann::json last_error_;
};

}  // namespace pmemd
