// Client: a blocking JSON-RPC client for pmemd's socket, used by pmemctl
// and the integration tests.
//
// Failures come back as Status: kUnavailable when the daemon cannot be
// reached (the message says how to check on it), and for an error answer
// the Code named in error.data.code with the daemon's message.
//
// Thread safety: one Client per thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/fs.h"
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
  // The "error" object of the last Call's answer as the daemon sent it
  // ({code, message, data: {code, errno, ...}}), for clients that pass it
  // on (pmemctl --json); null when that Call succeeded or got no answer.
  const nlohmann::json& last_error() const { return last_error_; }
  // Sends one raw line, returns the raw answer line (without '\n').
  Result<std::string> RoundTrip(const std::string& line);

 private:
  Result<std::string> ReadLine();
  Client(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
  std::string pending_;  // bytes read past the last answer
  std::vector<UniqueFd> received_;  // descriptors that came with the bytes read
  uint64_t next_id_ = 1;
  nlohmann::json last_error_;
};

}  // namespace pmemd
