#include "media.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "format.h"
#include "pmemd/log.h"
#include "validate.h"

namespace pmemd::pool_internal {

namespace pf = pool_format;

namespace {

// pmem2 returns -errno for OS failures and its own PMEM2_E_* (far below
// -4096) otherwise.
int Pmem2Errno(int rc) { return rc < 0 && rc > -4096 ? -rc : 0; }

std::string Pmem2Error(const std::string& what, int rc) {
  return what + ": " + pmem2_errormsg() + " (pmem2 error " + std::to_string(rc) + ")";
}

}  // namespace

uint64_t NowNs(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

std::string Where(const PoolBacking& b) {
  if (!b.device.empty()) return b.device;
  return b.offset ? b.path + "@" + std::to_string(b.offset) : b.path;
}

namespace {

// The pid recorded by whoever holds the lock, for the error message.
std::string HolderPid(int fd, uint64_t offset) {
  pf::AttachInfo ai{};
  if (::pread(fd, &ai, sizeof ai, static_cast<off_t>(offset + pf::kAttachInfoOffset)) == sizeof ai &&
      ai.magic == pf::kAttachMagic && ai.pid != 0)
    return " (pid " + std::to_string(ai.pid) + ")";
  return "";
}

}  // namespace

Result<UniqueFd> OpenBacking(const PoolBacking& b, int flags) {
  const bool pinned = b.file_ino != 0;
  UniqueFd fd(b.opened_fd >= 0 ? ::fcntl(b.opened_fd, F_DUPFD_CLOEXEC, 0)
                               : ::open(b.path.c_str(), flags | O_CLOEXEC | (pinned ? O_NOFOLLOW : 0)));
  if (!fd.valid()) return Status::FromErrno(errno, "open " + b.path);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat " + b.path);
  if (pinned && (st.st_dev != b.file_dev || st.st_ino != b.file_ino))
    return Status::FailedPrecondition(b.path + " was replaced by another file while pmemd was opening it; "
                                      "make sure nothing else renames files there, then retry");
  return fd;
}

Result<std::unique_ptr<Media>> Media::Open(const PoolBacking& b, PoolHooks* hooks) {
  std::unique_ptr<Media> m(new Media());
  m->hooks_ = hooks;
  PMEMD_ASSIGN_OR_RETURN(m->fd_, OpenBacking(b, O_RDWR));
  struct stat st{};
  if (::fstat(m->fd_.get(), &st) != 0) return Status::FromErrno(errno, "stat " + b.path);
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    return Status::InvalidArgument(b.path + " is not a regular file or a dax device");
  m->path_ = b.path;
  m->subject_ = Where(b);
  m->offset_ = b.offset;
  m->is_file_ = S_ISREG(st.st_mode);
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) < b.offset + b.size)
    return Status::InvalidArgument(b.path + " holds " + std::to_string(st.st_size) + " bytes, fewer than offset " +
                                   std::to_string(b.offset) + " + size " + std::to_string(b.size));
  // An OFD lock on the pool's bytes: a second process (or a second open in
  // this one) cannot attach or format it while this is held. Byte-range, so
  // that pools on different dax devices of one emulated region file coexist.
  struct flock fl{};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(b.offset);
  fl.l_len = static_cast<off_t>(b.size);
  if (::fcntl(m->fd_.get(), F_OFD_SETLK, &fl) != 0) {
    int err = errno;
    if (err == EAGAIN || err == EACCES)
      return Status(Code::kBusy,
                    "the pool on " + Where(b) + " is attached by another process" + HolderPid(m->fd_.get(), b.offset) +
                        "; detach it there (detach-pool) or stop that process first",
                    EBUSY);
    return Status::FromErrno(err, "lock " + b.path);
  }
  int rc = pmem2_source_from_fd(&m->src_, m->fd_.get());
  if (rc) return Status(Code::kIoError, Pmem2Error("pmem2_source_from_fd " + b.path, rc), Pmem2Errno(rc));
  pmem2_config* cfg = nullptr;
  rc = pmem2_config_new(&cfg);
  if (rc) return Status(Code::kIoError, Pmem2Error("pmem2_config_new", rc));
  struct CfgDel {
    pmem2_config* c;
    ~CfgDel() { pmem2_config_delete(&c); }
  } cfg_del{cfg};
  // PAGE is the weakest requirement: real pmem reports byte or cache-line
  // granularity, a plain file page (persist is then msync).
  if ((rc = pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE)) ||
      (rc = pmem2_config_set_offset(cfg, b.offset)) || (rc = pmem2_config_set_length(cfg, b.size)))
    return Status(Code::kInvalidArgument, Pmem2Error("configure the mapping of " + Where(b), rc));
  rc = pmem2_map_new(&m->map_, cfg, m->src_);
  if (rc) return Status(Code::kIoError, Pmem2Error("pmem2_map_new " + Where(b), rc), Pmem2Errno(rc));
  m->base_ = static_cast<uint8_t*>(pmem2_map_get_address(m->map_));
  m->size_ = pmem2_map_get_size(m->map_);
  m->granularity_ = pmem2_map_get_store_granularity(m->map_);
  m->persist_ = pmem2_get_persist_fn(m->map_);
  m->memcpy_ = pmem2_get_memcpy_fn(m->map_);
  m->memset_ = pmem2_get_memset_fn(m->map_);
  return m;
}

const char* GranularityName(pmem2_granularity g) {
  switch (g) {
    case PMEM2_GRANULARITY_BYTE: return "byte";
    case PMEM2_GRANULARITY_CACHE_LINE: return "cache_line";
    case PMEM2_GRANULARITY_PAGE: return "page";
  }
  return "unknown";
}

}  // namespace pmemd::pool_internal
