// Status and Result<T>: pmemd's one error vocabulary.
//
// Every fallible function in lib/ returns a [[nodiscard]] Status or Result<T>.
// A Status carries a Code (what kind of failure, mapped onto JSON-RPC error
// codes by the API layer), the errno or library code that caused it (0 when
// none), and a message written for the person who has to fix it: what was
// wrong and what would be right ("size 1000 is not a multiple of the region
// alignment 16777216; use a multiple such as 16777216").
//
// Thread safety: immutable values; safe to copy and share between threads.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <nlohmann/json_fwd.hpp>

namespace pmemd {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; retrying will not help
  kNotFound,            // an unknown region, namespace, pool, lease, ...
  kAlreadyExists,       // a name or uuid is taken
  kBusy,                // in use (mounted, leased, onlined); may succeed later
  kPermissionDenied,    // the peer may not do this
  kFailedPrecondition,  // the object is not in a state that allows this
  kNoSpace,             // no free extent large enough
  kCorruption,          // on-media or on-disk state failed validation
  kIoError,             // the OS or a library failed
  kUnsupported,         // this platform or format cannot do it
  kUnavailable,         // the daemon or a device is not reachable
  kInternal,            // a bug in pmemd
  // Added after the first release: codes are only ever appended, so that
  // the JSON-RPC numbers of the ones above never change.
  kResourceExhausted,  // a daemon limit (reply size, buffers) would be exceeded; ask for less
};
// The highest Code, for loops over every code.
inline constexpr Code kLastCode = Code::kResourceExhausted;

// "invalid_argument", "not_found", ...: the stable names used in JSON.
std::string_view CodeName(Code code);
// What a code means, in one line (the comments above): the message of its
// entry among the errors rpc.discover publishes.
std::string_view CodeMeaning(Code code);

// The JSON-RPC error code that carries `code` on the wire: -32602 for
// kInvalidArgument, -32603 for kInternal, -32000 - code for the others
// (docs/api.md). The daemon answers with it and the client maps it back, so
// it lives here rather than in api/.
int RpcErrorCode(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message, int sys_errno = 0)
      : code_(code), errno_(sys_errno), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {Code::kFailedPrecondition, std::move(m)}; }
  static Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
  // An OS call failed: the message names the operation and the object, the
  // errno text is appended ("open /var/lib/pmemd/x: No such file or directory").
  static Status FromErrno(int err, std::string what);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  int sys_errno() const { return errno_; }
  const std::string& message() const { return message_; }
  // "not_found: region 'region7' does not exist; ..."
  std::string ToString() const;

  // Prefixes context: Status s = ...; return s.Annotate("attach pool p0");
  // The detail, if any, is kept.
  Status Annotate(std::string_view context) const;

  // Structured facts for programs, beside the message: a JSON object whose
  // members the API layer adds to the JSON-RPC error's data (next to code
  // and errno), e.g. {"problems": [...]} when a request failed for several
  // reasons at once. Null when there is none.
  Status WithDetail(nlohmann::json detail) const;
  const nlohmann::json* detail() const { return detail_.get(); }

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.errno_ == b.errno_ && a.message_ == b.message_;
  }

 private:
  Code code_ = Code::kOk;
  int errno_ = 0;
  std::string message_;
  std::shared_ptr<const nlohmann::json> detail_;  // shared: a Status stays cheap to copy
};

// Result<T>: a T or a non-OK Status, shaped like C++23 std::expected so that
// it can be replaced by it once the toolchain has it.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    assert(!std::get<1>(v_).ok() && "Result constructed from an OK Status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; Status::Ok() when this holds a value.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pmemd

// Early-return helpers: the only macros in pmemd, because C++20 has no `?`.
#define PMEMD_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::pmemd::Status pmemd_status_ = (expr);  \
    if (!pmemd_status_.ok()) return pmemd_status_; \
  } while (0)

#define PMEMD_CONCAT_INNER_(a, b) a##b
#define PMEMD_CONCAT_(a, b) PMEMD_CONCAT_INNER_(a, b)
#define PMEMD_ASSIGN_OR_RETURN(lhs, expr) \
  PMEMD_ASSIGN_OR_RETURN_IMPL_(PMEMD_CONCAT_(pmemd_result_, __LINE__), lhs, expr)
#define PMEMD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
