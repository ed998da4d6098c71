// MediaGuard: a bus error on a pool's mapping becomes an error for that
// pool, not the death of the daemon.
//
// Loads and stores to a mapped file fault with SIGBUS when the file was
// truncated under the mapping, when a sparse file's page cannot be
// allocated (a full file system), and when the device reports a media
// error. RunGuarded runs a piece of media access with such faults caught:
// a process-wide SIGBUS handler (installed once, at the first call) looks
// at the faulting address; inside the range a thread is guarding, it
// siglongjmps back to that thread's RunGuarded, which returns the fault.
// Any other SIGBUS goes to the handler that was installed before (the
// default: the process dies with a core, as without the guard; under
// AddressSanitizer: its report).
//
// The jump skips the frames of `fn` without running destructors, so `fn`
// must only touch raw memory (memcpy, memset, a persist function): no
// object with a non-trivial destructor may live in it, and no lock may be
// taken in it.
//
// Thread safety: RunGuarded may be called from any thread; each thread's
// guarded ranges are its own (a fault is caught only by the thread that
// faulted, which is the one executing the access).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace pmemd {

struct MediaFault {
  uint64_t offset = 0;  // from the start of the guarded range
  int si_code = 0;      // BUS_ADRERR (truncated file, no space), BUS_MCEERR_AR (media error), ...
};

// Runs fn(arg); nullopt when it completed, the fault when a SIGBUS at an
// address in [base, base + len) cut it short.
std::optional<MediaFault> RunGuarded(const void* base, size_t len, void (*fn)(void*), void* arg);

// The same for a callable (a lambda that only copies raw memory).
template <typename F>
std::optional<MediaFault> RunGuarded(const void* base, size_t len, F&& f) {
  return RunGuarded(base, len, [](void* p) { (*static_cast<std::remove_reference_t<F>*>(p))(); }, &f);
}

// "bus error (the file is shorter than the mapping)", "media error", ...
const char* MediaFaultReason(int si_code);

}  // namespace pmemd
