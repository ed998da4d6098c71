#include "media_guard.h"

#include <setjmp.h>
#include <signal.h>

#include <mutex>

namespace pmemd {

namespace {

// One guarded region on this thread's stack; regions nest.
struct Frame {
  uintptr_t base;
  size_t len;
  sigjmp_buf env;
  MediaFault fault;
  Frame* prev;
};

// initial-exec: the handler must not be the first to touch this TLS
// (a lazily allocated TLS block is not async-signal-safe).
thread_local Frame* t_frame __attribute__((tls_model("initial-exec"))) = nullptr;
// The thread's signal mask outside any handler, taken at its first guarded
// region: the jump out of the handler skips the kernel's sigreturn, which
// would have restored it.
thread_local sigset_t t_mask;
thread_local bool t_mask_saved = false;

struct sigaction g_previous;

void ChainToPrevious(int sig, siginfo_t* si, void* uc) {
  const struct sigaction& p = g_previous;
  if ((p.sa_flags & SA_SIGINFO) && p.sa_sigaction != nullptr &&
      reinterpret_cast<void*>(p.sa_sigaction) != reinterpret_cast<void*>(SIG_DFL) &&
      reinterpret_cast<void*>(p.sa_sigaction) != reinterpret_cast<void*>(SIG_IGN)) {
    p.sa_sigaction(sig, si, uc);
    return;
  }
  if (!(p.sa_flags & SA_SIGINFO) && p.sa_handler != SIG_DFL && p.sa_handler != SIG_IGN) {
    p.sa_handler(sig);
    return;
  }
  // The default action (a synchronous SIGBUS cannot be ignored): restore
  // it and let the faulting instruction run again, which kills the process
  // with the original fault and a core. A SIGBUS sent with kill() has no
  // instruction to re-run: raise it again.
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  if (si == nullptr || si->si_code <= 0) raise(sig);
}

void OnSigbus(int sig, siginfo_t* si, void* uc) {
  if (si != nullptr && si->si_code > 0) {  // raised by the kernel for an access, not sent
    const auto a = reinterpret_cast<uintptr_t>(si->si_addr);
    for (Frame* f = t_frame; f != nullptr; f = f->prev) {
      if (a >= f->base && a - f->base < f->len) {
        f->fault = {a - f->base, si->si_code};
        siglongjmp(f->env, 1);
      }
    }
  }
  ChainToPrevious(sig, si, uc);
}

void InstallOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa{};
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &g_previous);
  });
}

}  // namespace

std::optional<MediaFault> RunGuarded(const void* base, size_t len, void (*fn)(void*), void* arg) {
  InstallOnce();
  Frame frame;
  frame.base = reinterpret_cast<uintptr_t>(base);
  frame.len = len;
  frame.prev = t_frame;
  // Only `frame` (trivial, on this stack, not modified between the two
  // returns of sigsetjmp except by the handler through memory) is used
  // after the jump.
  // The jump skips the kernel's sigreturn, which would restore the mask the
  // handler ran with (SIGBUS blocked; under ThreadSanitizer, whose wrapper
  // handler has its own mask, more): left so, the next fault would find
  // SIGBUS blocked and kill the process. sigsetjmp(env, 1) would save the
  // mask at a system call per region (~0.3 us on a VM, on every durable
  // operation); the mask is instead taken once per thread and put back
  // after a fault. (A thread that changes its mask after its first guarded
  // region gets that first mask back after a fault.)
  if (!t_mask_saved) {
    pthread_sigmask(SIG_SETMASK, nullptr, &t_mask);
    t_mask_saved = true;
  }
  if (sigsetjmp(frame.env, 0) != 0) {
    t_frame = frame.prev;
    pthread_sigmask(SIG_SETMASK, &t_mask, nullptr);
    return frame.fault;
  }
  t_frame = &frame;
  fn(arg);
  t_frame = frame.prev;
  return std::nullopt;
}

const char* MediaFaultReason(int si_code) {
  switch (si_code) {
    case BUS_ADRERR: return "bus error: no page behind the address (the file was truncated or the file system is full)";
    case BUS_ADRALN: return "bus error: misaligned access";
    case BUS_OBJERR: return "bus error: the object reported a hardware error";
#ifdef BUS_MCEERR_AR
    case BUS_MCEERR_AR:
    case BUS_MCEERR_AO: return "media error (machine check) on the device";
#endif
  }
  return "bus error";
}

}  // namespace pmemd
