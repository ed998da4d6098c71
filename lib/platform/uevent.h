// Kernel uevents: what the kernel broadcasts on NETLINK_KOBJECT_UEVENT
// (multicast group 1) whenever a device is added, removed, bound, unbound,
// onlined or offlined. pmemd reads them directly rather than through
// libudev's monitor: libudev listens to udevd's re-broadcast (group 2), and a
// machine without udevd (containers, the busybox test guest) gets nothing
// there, while the kernel's own messages arrive everywhere (docs/inventory.md).
//
// A UeventSource is where events come from: the kernel socket, or an
// in-memory queue that tests and the emulated platform inject into. Both
// behave alike: bounded, non-blocking to drain, and when events were lost
// (the kernel's ENOBUFS, an injected overflow) Drain says so once, so the
// reader knows it must re-read everything.
//
// Thread safety: one thread drains a source at a time; Push/Overflow on an
// InjectedUeventSource may come from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pmemd/mutex.h"
#include "pmemd/status.h"

namespace pmemd {

struct Uevent {
  std::string action;     // "add", "remove", "change", "bind", "unbind", "online", "offline", ...
  std::string devpath;    // "/devices/system/memory/memory32"
  std::string subsystem;  // "nd", "dax", "memory", ...
  uint64_t seqnum = 0;
};

// One datagram from the kernel: "ACTION@DEVPATH\0KEY=VALUE\0...". nullopt
// for anything else (udevd's "libudev" messages, truncated or malformed
// datagrams).
std::optional<Uevent> ParseUevent(std::string_view datagram);

class UeventSource {
 public:
  virtual ~UeventSource() = default;
  // Appends up to `max` queued events to `out` without blocking. kUnavailable
  // when events were lost since the last call (the events still queued are
  // appended first): the caller must re-read everything.
  virtual Status Drain(std::vector<Uevent>* out, size_t max) = 0;
  // Waits up to `timeout` for something to drain; false on timeout.
  virtual bool Wait(std::chrono::milliseconds timeout) = 0;
  // Wakes a Wait() early (shutdown).
  virtual void Interrupt() = 0;
};

// The kernel's socket, with a receive buffer of `rcvbuf` bytes (the kernel
// may grant less). Needs no privilege. Errors: the socket/bind errno.
Result<std::unique_ptr<UeventSource>> OpenKernelUeventSource(int rcvbuf = 4 << 20);

// An in-memory source holding at most `capacity` events; a Push beyond that
// drops the event and marks an overflow, as a full socket buffer does.
class InjectedUeventSource final : public UeventSource {
 public:
  explicit InjectedUeventSource(size_t capacity = 4096) : capacity_(capacity) {}
  void Push(Uevent e) EXCLUDES(mu_);
  void Overflow() EXCLUDES(mu_);
  size_t queued() const EXCLUDES(mu_);

  Status Drain(std::vector<Uevent>* out, size_t max) override EXCLUDES(mu_);
  bool Wait(std::chrono::milliseconds timeout) override EXCLUDES(mu_);
  void Interrupt() override EXCLUDES(mu_);

 private:
  const size_t capacity_;
  mutable Mutex mu_;
  CondVar cv_;  // the queue grew, overflowed or was interrupted
  std::deque<Uevent> queue_ GUARDED_BY(mu_);
  bool overflow_ GUARDED_BY(mu_) = false;
  bool interrupted_ GUARDED_BY(mu_) = false;
};

}  // namespace pmemd
