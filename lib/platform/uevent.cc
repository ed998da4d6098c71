#include "platform/uevent.h"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "pmemd/fs.h"

namespace pmemd {

std::optional<Uevent> ParseUevent(std::string_view d) {
  size_t nul = d.find('\0');
  std::string_view head = d.substr(0, nul);
  size_t at = head.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= head.size()) return std::nullopt;
  Uevent e;
  e.action = std::string(head.substr(0, at));
  e.devpath = std::string(head.substr(at + 1));
  while (nul != std::string_view::npos && nul + 1 < d.size()) {
    size_t start = nul + 1;
    nul = d.find('\0', start);
    std::string_view kv = d.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start);
    if (kv.starts_with("SUBSYSTEM=")) e.subsystem = std::string(kv.substr(10));
    else if (kv.starts_with("SEQNUM=")) e.seqnum = std::strtoull(std::string(kv.substr(7)).c_str(), nullptr, 10);
    else if (kv.starts_with("ACTION=")) e.action = std::string(kv.substr(7));
  }
  return e;
}

namespace {

class KernelUeventSource final : public UeventSource {
 public:
  KernelUeventSource(UniqueFd sock, UniqueFd wake) : sock_(std::move(sock)), wake_(std::move(wake)) {}

  Status Drain(std::vector<Uevent>* out, size_t max) override {
    char buf[8192];
    for (size_t n = 0; n < max; ++n) {
      ssize_t len = ::recv(sock_.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (len < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return Status::Ok();
        if (errno == ENOBUFS)
          return Status(Code::kUnavailable, "the kernel dropped uevents (ENOBUFS: the socket buffer was full)",
                        ENOBUFS);
        return Status::FromErrno(errno, "read the kernel uevent socket");
      }
      if (auto e = ParseUevent(std::string_view(buf, static_cast<size_t>(len)))) out->push_back(std::move(*e));
    }
    return Status::Ok();
  }

  bool Wait(std::chrono::milliseconds timeout) override {
    pollfd fds[2] = {{sock_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    int rc = ::poll(fds, 2, static_cast<int>(timeout.count()));
    if (rc > 0 && (fds[1].revents & POLLIN)) {
      uint64_t v;
      [[maybe_unused]] ssize_t n = ::read(wake_.get(), &v, sizeof v);
    }
    return rc > 0 && (fds[0].revents & (POLLIN | POLLERR));
  }

  void Interrupt() override {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
  }

 private:
  UniqueFd sock_;
  UniqueFd wake_;
};

}  // namespace

Result<std::unique_ptr<UeventSource>> OpenKernelUeventSource(int rcvbuf) {
  UniqueFd sock(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT));
  if (!sock.valid()) return Status::FromErrno(errno, "open a NETLINK_KOBJECT_UEVENT socket");
  // SO_RCVBUFFORCE passes the rmem_max limit when privileged; else take what
  // SO_RCVBUF grants.
  if (::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    (void)::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = 1;  // the kernel's own broadcast (udevd re-sends on group 2)
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return Status::FromErrno(errno, "bind the uevent socket to the kernel's multicast group 1");
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return Status::FromErrno(errno, "create an eventfd");
  return std::unique_ptr<UeventSource>(std::make_unique<KernelUeventSource>(std::move(sock), std::move(wake)));
}

void InjectedUeventSource::Push(Uevent e) {
  {
    MutexLock lock(mu_);
    if (queue_.size() >= capacity_)
      overflow_ = true;
    else
      queue_.push_back(std::move(e));
  }
  cv_.NotifyAll();
}

void InjectedUeventSource::Overflow() {
  {
    MutexLock lock(mu_);
    overflow_ = true;
  }
  cv_.NotifyAll();
}

size_t InjectedUeventSource::queued() const {
  MutexLock lock(mu_);
  return queue_.size();
}

Status InjectedUeventSource::Drain(std::vector<Uevent>* out, size_t max) {
  MutexLock lock(mu_);
  for (size_t n = 0; n < max && !queue_.empty(); ++n) {
    out->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (overflow_) {
    overflow_ = false;
    return Status(Code::kUnavailable, "injected uevents were dropped (the queue was full)", ENOBUFS);
  }
  return Status::Ok();
}

bool InjectedUeventSource::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (queue_.empty() && !overflow_ && !interrupted_)
    if (!cv_.WaitUntil(mu_, deadline)) break;
  bool ready = !queue_.empty() || overflow_;
  interrupted_ = false;
  return ready;
}

void InjectedUeventSource::Interrupt() {
  {
    MutexLock lock(mu_);
    interrupted_ = true;
  }
  cv_.NotifyAll();
}

}  // namespace pmemd
