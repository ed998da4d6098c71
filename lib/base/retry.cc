#include "pmemd/retry.h"

#include "pmemd/text.h"

namespace pmemd {

std::string RetryMatch::Show(uint64_t v) { return std::to_string(v); }
std::string RetryMatch::Show(const std::string& v) { return Quote(v); }

void RetryMatch::Compare(std::string_view field, uint64_t wanted, uint64_t existing) {
  if (wanted != existing) Differs(field, Show(wanted), Show(existing));
}

void RetryMatch::Compare(std::string_view field, const std::string& wanted, const std::string& existing) {
  if (wanted != existing) Differs(field, Show(wanted), Show(existing));
}

void RetryMatch::Differs(std::string_view field, const std::string& wanted, const std::string& existing) {
  if (!differences_.empty()) differences_ += "; ";
  differences_ += std::string(field) + ": asked " + wanted + ", has " + existing;
}

Status RetryMatch::Conflict(const std::string& what, const std::string& remedy) const {
  return Status::AlreadyExists(what + " already exists with different parameters (" + differences_ + "); " +
                               remedy);
}

}  // namespace pmemd
