// LeaseView: a lease mapped into this process from the descriptor that
// open-lease passes, for clients that may not open the dax device or the
// pool file themselves (an unprivileged VM manager, a database).
//
//   PMEMD_ASSIGN_OR_RETURN(pmemd::Client c, pmemd::Client::Connect("/run/pmemd/pmemd.sock"));
//   PMEMD_ASSIGN_OR_RETURN(pmemd::LeaseView v, pmemd::LeaseView::Open(c, "pool0", "vm1"));
//   std::memcpy(v.data(), buf, n);
//   v.Persist(v.data(), n);  // durable on the pmem, as libpmem2 persists it
//
// The daemon decides who may (the pool's owner uid/gid, or an admin); the
// mapping is made with libpmem2 (pmem2_source_from_fd), which knows the
// device's alignment and how to persist on it (CPU cache flushes on
// device-dax or a DAX file, msync otherwise). Unmapped when the view goes.
// Linked separately from the client (pmemd_lease_client: it needs libpmem2,
// which pmemctl does not).
//
// Thread safety: a view may be read and written from any thread; moving or
// destroying it is the owner's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "pmemd/client.h"
#include "pmemd/status.h"

struct pmem2_map;

namespace pmemd {

class LeaseView {
 public:
  // open-lease over `client`, then maps the lease's `size` bytes at its
  // `offset` of the descriptor that came with the answer.
  static Result<LeaseView> Open(Client& client, const std::string& pool, const std::string& lease);

  LeaseView(LeaseView&& other) noexcept;
  LeaseView& operator=(LeaseView&& other) noexcept;
  LeaseView(const LeaseView&) = delete;
  LeaseView& operator=(const LeaseView&) = delete;
  ~LeaseView();

  void* data() const { return data_; }
  size_t size() const { return size_; }
  // The lease as open-lease described it (name, pool, size, offset, ...).
  const nlohmann::json& lease() const { return lease_; }
  // Makes [addr, addr + len) of the view durable.
  void Persist(const void* addr, size_t len) const;

 private:
  LeaseView() = default;
  void Reset();
  pmem2_map* map_ = nullptr;
  void* data_ = nullptr;
  size_t size_ = 0;
  void (*persist_)(const void*, size_t) = nullptr;
  nlohmann::json lease_;
};

}  // namespace pmemd
