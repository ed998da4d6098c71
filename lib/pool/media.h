// Media: one pool's mapped bytes, through libpmem2.
//
// The mapping of a pool's backing with the functions pmem2 chose for it
// (taken once, when mapped), the OFD lock that keeps a second process out,
// and the persist-step counter the test hooks see. Pool code changes its
// media only through Write / Store + Persist, so every durable step passes
// the hooks (PoolHooks::Persisted, CrashAfterPersist) and the bounds check.
//
// Thread safety: the pool's lock serializes mutations (held exclusively).
// Readers holding it shared may read, check usability and find the media
// failed at the same time, so the failure (the first one found wins) and the
// size check's clock are synchronized here.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <libpmem2.h>

#include "media_guard.h"
#include "pmemd/log.h"
#include "validate.h"
#include "pmemd/fs.h"
#include "pmemd/mutex.h"
#include "pmemd/pool.h"
#include "pmemd/status.h"

namespace pmemd::pool_internal {

namespace pf = pool_format;

uint64_t NowNs(clockid_t clock = CLOCK_MONOTONIC);
// "dax0.0", or the path (with "@offset" when not 0): how messages name a backing.
std::string Where(const PoolBacking& b);
// Opens the backing; a file whose identity was checked is opened without
// following a symlink and must still be that file.
Result<UniqueFd> OpenBacking(const PoolBacking& b, int flags);
// "byte", "cache_line", "page".
const char* GranularityName(pmem2_granularity g);

// The mapping of one pool's backing with the functions pmem2 chose for it
// (taken once, when mapped), the OFD lock, and the persist-step counter the
// test hooks see.
//
// Every access is bounds-checked against the mapping and runs under
// RunGuarded: a bus error (the file truncated under the mapping, a full
// file system under a sparse file, a media error) marks the media failed
// and is returned as kIoError; from then on every access returns
// kFailedPrecondition with the same explanation and nothing touches the
// mapping again.
class Media {
 public:
  static Result<std::unique_ptr<Media>> Open(const PoolBacking& b, PoolHooks* hooks);
  ~Media() {
    if (map_) pmem2_map_delete(&map_);
    if (src_) pmem2_source_delete(&src_);
  }

  uint64_t size() const { return size_; }
  pmem2_granularity granularity() const { return granularity_; }
  bool crashed() const { return crashed_; }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  std::string failure() const {
    MutexLock lock(failure_mu_);
    return failure_;
  }
  // Who the failure messages name ("pool p0") and what they advise
  // ("detach-pool p0").
  void SetSubject(std::string subject, std::string advice) {
    subject_ = std::move(subject);
    advice_ = std::move(advice);
  }

  // Copies out of the media.
  // The mapping itself, for what lives on the media but is written by
  // other means (a dev pool's metadata array): use only inside Guarded.
  uint8_t* base() const { return base_; }

  Status Read(uint64_t off, void* dst, size_t len, std::string_view what) {
    PMEMD_RETURN_IF_ERROR(Check(off, len, what));
    return Guarded(what, [&] { std::memcpy(dst, base_ + off, len); });
  }
  // Copies and persists: the only way pool code changes the media.
  Status Write(uint64_t off, const void* src, size_t len, std::string_view step) {
    PMEMD_RETURN_IF_ERROR(Store(off, src, len, step));
    return Persist(off, len, step);
  }
  // Stores without persisting; a later Persist of the range makes it durable.
  Status Store(uint64_t off, const void* src, size_t len, std::string_view what = "store") {
    PMEMD_RETURN_IF_ERROR(Check(off, len, what));
    return Guarded(what, [&] { memcpy_(base_ + off, src, len, PMEM2_F_MEM_NOFLUSH); });
  }
  Status Zero(uint64_t off, size_t len, std::string_view what = "zero") {
    PMEMD_RETURN_IF_ERROR(Check(off, len, what));
    return Guarded(what, [&] { memset_(base_ + off, 0, len, PMEM2_F_MEM_NOFLUSH); });
  }
  Status Persist(uint64_t off, size_t len, std::string_view step) {
    PMEMD_RETURN_IF_ERROR(Check(off, len, step));
    if (granularity_ == PMEM2_GRANULARITY_PAGE) {
      // pmem2's page-granularity persist is msync, and it abort()s when
      // msync fails (EIO after a media error): call msync here instead, so
      // that the failure is this pool's, not the daemon's.
      const uintptr_t a = reinterpret_cast<uintptr_t>(base_ + off), page = kPoolPageSize;
      int err = 0;
      PMEMD_RETURN_IF_ERROR(Guarded(step, [&] {
        if (::msync(reinterpret_cast<void*>(a / page * page), len + a % page, MS_SYNC) != 0) err = errno;
      }));
      if (err) return Fail("msync of " + path_ + " failed: " + std::strerror(err), step);
    } else {
      PMEMD_RETURN_IF_ERROR(Guarded(step, [&] { persist_(base_ + off, len); }));
    }
    ++steps_;
    if (hooks_) hooks_->Persisted(base_, size_, off, len);
    if (hooks_ && hooks_->CrashAfterPersist(step, steps_)) {
      crashed_ = true;
      return Crashed();
    }
    return Status::Ok();
  }
  uint64_t steps() const { return steps_; }
  int fd() const { return fd_.get(); }
  Status Crashed() const {
    return Status::Internal("simulated crash after persist step " + std::to_string(steps_) +
                            ": the pool writes nothing more");
  }
  // Before a mutation: not crashed, not failed, and (a file) not shorter
  // than the pool. The size check alone would race with a truncation; the
  // guard catches what it misses. It also finds a file cut inside the data
  // area, which faults only the clients. An fstat costs ~1 us on a VM, as
  // much as the rest of a durable lease operation, so between checkpoints
  // (`force`) it runs at most every kSizeCheckNs.
  Status Usable(bool force = false) {
    if (crashed_) return Crashed();
    if (failed()) return FailedStatus(Code::kFailedPrecondition);
    if (!is_file_) return Status::Ok();
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO, no system call
    const uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
    if (!force && now - last_size_check_ns_.load(std::memory_order_relaxed) < kSizeCheckNs) return Status::Ok();
    last_size_check_ns_.store(now, std::memory_order_relaxed);
    struct stat st{};
    if (::fstat(fd_.get(), &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) < offset_ + size_)
      return Fail("the file " + path_ + " is now " + std::to_string(st.st_size) + " bytes, shorter than the pool's end at " +
                      std::to_string(offset_ + size_) + ": it was truncated",
                  "a size check");
    return Status::Ok();
  }
  // Allocates the backing's blocks for [off, off + len) of a file, so that
  // writing them cannot fail for want of space (a sparse file on a full
  // file system faults with SIGBUS instead). Nothing to do on a device.
  Status Reserve(uint64_t off, uint64_t len, const std::string& what) {
    if (!is_file_) return Status::Ok();
    int err = ::posix_fallocate(fd_.get(), static_cast<off_t>(offset_ + off), static_cast<off_t>(len));
    if (err == 0 || err == EOPNOTSUPP || err == EINVAL) return Status::Ok();  // nothing to reserve there
    if (err == ENOSPC || err == EDQUOT || err == EFBIG)
      return Status(Code::kNoSpace,
                    what + " needs " + std::to_string(len) + " bytes of " + path_ + " allocated for its metadata, and the file system cannot (" +
                        std::strerror(err) + "); free space there or choose another file",
                    err);
    return Status::FromErrno(err, "allocate " + std::to_string(len) + " bytes of " + path_);
  }

 // Runs f, a raw memory access to the mapping, with bus errors caught:
  // one marks the media failed and is returned as kIoError.
  template <typename F>
  Status Guarded(std::string_view what, F&& f) {
    if (auto fault = RunGuarded(base_, size_, f))
      return Fail(std::string(MediaFaultReason(fault->si_code)) + " at offset " + std::to_string(offset_ + fault->offset) +
                      " of " + path_,
                  what);
    return Status::Ok();
  }
  Status Check(uint64_t off, uint64_t len, std::string_view what) {
    if (crashed_) return Crashed();
    if (failed()) return FailedStatus(Code::kFailedPrecondition);
    if (!pf::RangeInside(off, len, size_))
      return Status::Corruption(subject_ + ": " + std::string(what) + " at offset " + std::to_string(off) + ", " +
                                std::to_string(len) + " bytes, lies outside the " + std::to_string(size_) +
                                "-byte mapping; the pool's metadata is damaged");
    return Status::Ok();
  }
 private:
  Media() = default;

  Status Fail(std::string why, std::string_view what) {
    std::string failure = subject_ + "'s media is no longer accessible (" + why + ", during " + std::string(what) +
                          ")" + (advice_.empty() ? "" : "; " + advice_);
    {
      MutexLock lock(failure_mu_);
      if (failure_.empty()) {  // a reader beside us may have found it first
        failure_ = std::move(failure);
        GetLogger("pool")->error("{}", failure_);
        failed_.store(true, std::memory_order_release);
      }
    }
    return FailedStatus(Code::kIoError);
  }
  Status FailedStatus(Code code) const { return Status(code, failure(), EIO); }

  static constexpr uint64_t kSizeCheckNs = 100'000'000;

  UniqueFd fd_;
  std::string path_, subject_, advice_;
  mutable Mutex failure_mu_;
  std::string failure_ GUARDED_BY(failure_mu_);
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> last_size_check_ns_{0};
  uint64_t offset_ = 0;
  bool is_file_ = false;
  pmem2_source* src_ = nullptr;
  pmem2_map* map_ = nullptr;
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  pmem2_granularity granularity_ = PMEM2_GRANULARITY_PAGE;
  pmem2_persist_fn persist_ = nullptr;
  pmem2_memcpy_fn memcpy_ = nullptr;
  pmem2_memset_fn memset_ = nullptr;
  PoolHooks* hooks_ = nullptr;  // borrowed (PoolOptions::hooks), tests only
  uint64_t steps_ = 0;
  bool crashed_ = false;
};

}  // namespace pmemd::pool_internal
