// The rule for creates by name (namespaces, pools, leases): a create whose
// name already exists returns the existing object when every parameter of
// the request matches it, so a client that lost the reply can simply send
// the request again; when any differs it is already_exists, naming each
// difference, and nothing changes.
//
//   RetryMatch m;
//   m.Compare("size", spec.size, existing.size);
//   m.Compare("mode", spec.mode, existing.mode);
//   if (!m.matches()) return m.Conflict("namespace 'db' (namespace0.1)", "destroy it first or choose another name");
//   return existing;  // a retry
//
// A parameter the request leaves out (an empty optional) matches anything.
//
// Thread safety: a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pmemd/status.h"

namespace pmemd {

class RetryMatch {
 public:
  void Compare(std::string_view field, uint64_t wanted, uint64_t existing);
  void Compare(std::string_view field, const std::string& wanted, const std::string& existing);
  template <typename T, typename U>
  void Compare(std::string_view field, const std::optional<T>& wanted, const U& existing) {
    if (wanted) Compare(field, *wanted, existing);
  }
  template <typename T, typename U>
  void Compare(std::string_view field, const std::optional<T>& wanted, const std::optional<U>& existing) {
    if (!wanted) return;
    if (existing)
      Compare(field, *wanted, *existing);
    else
      Differs(field, Show(*wanted), "none");
  }

  bool matches() const { return differences_.empty(); }
  // already_exists: "<what> already exists with different parameters
  // (size: asked 2147483648, has 1073741824; mode: asked devdax, has
  // fsdax); <remedy>".
  Status Conflict(const std::string& what, const std::string& remedy) const;

 private:
  static std::string Show(uint64_t v);
  static std::string Show(const std::string& v);  // quoted
  void Differs(std::string_view field, const std::string& wanted, const std::string& existing);
  std::string differences_;
};

}  // namespace pmemd
