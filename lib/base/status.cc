#include "pmemd/status.h"

#include <cstring>

#include <nlohmann/json.hpp>

namespace pmemd {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kNotFound: return "not_found";
    case Code::kAlreadyExists: return "already_exists";
    case Code::kBusy: return "busy";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kFailedPrecondition: return "failed_precondition";
    case Code::kNoSpace: return "no_space";
    case Code::kCorruption: return "corruption";
    case Code::kIoError: return "io_error";
    case Code::kUnsupported: return "unsupported";
    case Code::kUnavailable: return "unavailable";
    case Code::kInternal: return "internal";
    case Code::kResourceExhausted: return "resource_exhausted";
  }
  return "unknown";
}

std::string_view CodeMeaning(Code code) {
  switch (code) {
    case Code::kOk: return "no error";
    case Code::kInvalidArgument: return "the caller's input is wrong; retrying will not help";
    case Code::kNotFound: return "an unknown region, namespace, device, pool or lease";
    case Code::kAlreadyExists: return "a name or uuid is taken";
    case Code::kBusy: return "in use (mounted, mapped, onlined, leased); may succeed later";
    case Code::kPermissionDenied: return "the caller may not do this";
    case Code::kFailedPrecondition: return "the object is not in a state that allows this";
    case Code::kNoSpace: return "no free extent is large enough";
    case Code::kCorruption: return "on-media or on-disk state failed validation";
    case Code::kIoError: return "the OS or a library failed";
    case Code::kUnsupported: return "this platform or format cannot do it";
    case Code::kUnavailable: return "the daemon or a device is not available";
    case Code::kInternal: return "a bug in pmemd";
    case Code::kResourceExhausted: return "a daemon limit would be exceeded; ask for less";
  }
  return "unknown";
}

int RpcErrorCode(Code code) {
  switch (code) {
    case Code::kOk: return 0;
    case Code::kInvalidArgument: return -32602;
    case Code::kInternal: return -32603;
    default: return -32000 - static_cast<int>(code);
  }
}

Status Status::FromErrno(int err, std::string what) {
  Code code = Code::kIoError;
  switch (err) {
    case ENOENT: code = Code::kNotFound; break;
    case EEXIST: code = Code::kAlreadyExists; break;
    case EBUSY: code = Code::kBusy; break;
    // EACCES and EPERM stay io_error (with the errno): permission_denied
    // means the caller was refused by pmemd, and the two must not be confused.
    case EINVAL: code = Code::kInvalidArgument; break;
    case ENOSPC: code = Code::kNoSpace; break;
    case ENOTSUP: code = Code::kUnsupported; break;
    default: break;
  }
  what += ": ";
  what += std::strerror(err);
  return Status(code, std::move(what), err);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s(CodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  Status out(code_, std::move(m), errno_);
  out.detail_ = detail_;
  return out;
}

Status Status::WithDetail(nlohmann::json detail) const {
  Status out = *this;
  out.detail_ = std::make_shared<const nlohmann::json>(std::move(detail));
  return out;
}

}  // namespace pmemd
