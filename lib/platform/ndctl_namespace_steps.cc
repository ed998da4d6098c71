#include "platform/ndctl_namespace_steps.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "platform/device_users.h"
#include "platform/namespace_plan.h"
#include "platform/namespace_rules.h"
#include "platform/ndctl_lib.h"
#include "pmemd/fs.h"
#include "pmemd/log.h"
#include "pmemd/uuid.h"

namespace pmemd::nd {

namespace {

constexpr size_t kInfoBlockBytes = 8192;  // what ndctl zeroes: the pfn/dax/btt info block

enum ndctl_namespace_mode ModeOf(const std::string& mode) {
  if (mode == "fsdax") return NDCTL_NS_MODE_FSDAX;
  if (mode == "devdax") return NDCTL_NS_MODE_DEVDAX;
  if (mode == "sector") return NDCTL_NS_MODE_SECTOR;
  return NDCTL_NS_MODE_RAW;
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// Opens /dev/<bdev> exclusively, as ndctl_namespace_disable_safe() does: it
// fails with EBUSY while the device is mounted or held open.
Status CheckBlockDeviceFree(const std::string& bdev, const std::string& ns, const std::string& op) {
  if (bdev.empty()) return Status::Ok();
  std::string path = "/dev/" + bdev;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_EXCL | O_CLOEXEC));
  if (fd.valid()) return Status::Ok();
  int err = errno;
  if (err == EBUSY)
    return Status(Code::kBusy,
                  "cannot " + op + " " + ns + ": " + path +
                      " is in use (mounted, or held open by a process: EBUSY); unmount it (findmnt " + path +
                      ") or stop what holds it open (fuser -v " + path + "), then retry",
                  err);
  if (err == ENOENT) return Status::Ok();  // no device node (no devtmpfs): the kernel's unbind decides
  return Status::FromErrno(err, "cannot " + op + " " + ns + ": open " + path + " exclusively");
}

// The block device through which a namespace is in use: its pfn's or btt's
// when claimed, its own when raw; "" for devdax or a disabled namespace.
std::string ActiveBlockDevice(ndctl_namespace* ndns) {
  const char* bdev = nullptr;
  ndctl_pfn* pfn = ndctl_namespace_get_pfn(ndns);
  ndctl_btt* btt = ndctl_namespace_get_btt(ndns);
  ndctl_dax* dax = ndctl_namespace_get_dax(ndns);
  if (pfn && ndctl_pfn_is_enabled(pfn))
    bdev = ndctl_pfn_get_block_device(pfn);
  else if (btt && ndctl_btt_is_enabled(btt))
    bdev = ndctl_btt_get_block_device(btt);
  else if (!dax && ndctl_namespace_is_enabled(ndns))
    bdev = ndctl_namespace_get_block_device(ndns);
  return bdev ? bdev : "";
}

// Busy when another process holds one of a devdax namespace's character
// devices open or mapped: the kernel would unbind it under them
// (platform/device_users.h).
Status CheckDaxDevicesFree(ndctl_namespace* ndns, const std::string& ns, const std::string& op) {
  ndctl_dax* dax = ndctl_namespace_get_dax(ndns);
  daxctl_region* region = dax && ndctl_dax_is_enabled(dax) ? ndctl_dax_get_daxctl_region(dax) : nullptr;
  if (region == nullptr) return Status::Ok();
  daxctl_dev* dev;
  daxctl_dev_foreach(region, dev) {
    if (!daxctl_dev_is_enabled(dev)) continue;
    PMEMD_RETURN_IF_ERROR(CheckCharDeviceUnused(makedev(daxctl_dev_get_major(dev), daxctl_dev_get_minor(dev)),
                                                Str(daxctl_dev_get_devname(dev)), op + " " + ns));
  }
  return Status::Ok();
}

}  // namespace

// Disables a namespace the safe way (nothing mounted or held open, no
// process mapping its dax device, not system-ram) and releases its
// pfn/dax/btt claim, so its personality can be changed.
Status CheckNamespaceUnused(ndctl_namespace* ndns, const std::string& op) {
  const std::string dev = Str(ndctl_namespace_get_devname(ndns));
  PMEMD_RETURN_IF_ERROR(CheckBlockDeviceFree(ActiveBlockDevice(ndns), dev, op));
  return CheckDaxDevicesFree(ndns, dev, op);
}

Status DisableAndRelease(ndctl_namespace* ndns, const std::string& op) {
  const std::string dev = Str(ndctl_namespace_get_devname(ndns));
  PMEMD_RETURN_IF_ERROR(CheckNamespaceUnused(ndns, op));
  int rc = ndctl_namespace_disable_invalidate(ndns);
  if (rc < 0 || ndctl_namespace_is_active(ndns))
    return Status(Code::kBusy,
                  "cannot " + op + " " + dev + ": the kernel refused to disable it (" + Errno(rc ? rc : -EBUSY) +
                      "); something still uses it: unmount it, stop processes mapping it, then retry",
                  rc < 0 ? -rc : EBUSY);
  return Status::Ok();
}

namespace {

// ndctl's zero_info_block(): enable the namespace raw and zero its first
// 8 KiB, so that no old pfn/dax/btt info block claims it again (a label-less
// namespace has no uuid that would tell an old info block from a new one).
Status ZeroInfoBlock(ndctl_namespace* ndns, const std::shared_ptr<spdlog::logger>& log) {
  const std::string dev = Str(ndctl_namespace_get_devname(ndns));
  ndctl_namespace_set_raw_mode(ndns, 1);
  struct RawModeOff {
    ndctl_namespace* ndns;
    ~RawModeOff() {
      ndctl_namespace_set_raw_mode(ndns, 0);
      ndctl_namespace_disable_invalidate(ndns);
    }
  } off{ndns};
  int rc = ndctl_namespace_enable(ndns);
  if (rc < 0) {
    log->warn("{}: cannot enable it raw to clear its info block ({}); continuing as ndctl does", dev, Errno(rc));
    return Status::Ok();
  }
  const char* bdev = ndctl_namespace_get_block_device(ndns);
  if (!bdev || !bdev[0]) return Status::IoError(dev + ": enabled raw but has no block device to clear");
  std::string path = std::string("/dev/") + bdev;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_DIRECT | O_EXCL | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "open " + path + " to clear " + dev + "'s info block");
  std::unique_ptr<void, FreeDeleter> zero(std::aligned_alloc(4096, kInfoBlockBytes));
  std::unique_ptr<void, FreeDeleter> old(std::aligned_alloc(4096, kInfoBlockBytes));
  if (!zero || !old) return Status::Internal("out of memory for an info block buffer");
  std::memset(zero.get(), 0, kInfoBlockBytes);
  ssize_t n = ::pread(fd.get(), old.get(), kInfoBlockBytes, 0);
  if (n == static_cast<ssize_t>(kInfoBlockBytes) && std::memcmp(zero.get(), old.get(), kInfoBlockBytes) == 0)
    return Status::Ok();
  n = ::pwrite(fd.get(), zero.get(), kInfoBlockBytes, 0);
  if (n != static_cast<ssize_t>(kInfoBlockBytes))
    return Status::FromErrno(n < 0 ? errno : EIO, "clear " + dev + "'s info block through " + path);
  log->debug("{}: cleared its info block through {}", dev, path);
  return Status::Ok();
}

}  // namespace

// ndctl's namespace_prep_reconfig(): disabled, released, forced raw, and the
// old info block cleared.
Status PrepareReconfig(ndctl_namespace* ndns, const std::string& op, const std::shared_ptr<spdlog::logger>& log) {
  PMEMD_RETURN_IF_ERROR(DisableAndRelease(ndns, op));
  ndctl_namespace_set_enforce_mode(ndns, NDCTL_NS_MODE_RAW);
  return ZeroInfoBlock(ndns, log);
}

// An idle seed can hold a uuid without a size: what a create interrupted
// between writing the uuid and the size leaves (pmemd killed; the kernel
// keeps the uuid until the size is written back to 0). The kernel refuses to
// rename such a namespace (EBUSY: there is no label to move the uuid to), so
// before configuring it, give it back the way ndctl_namespace_delete() does:
// size 0 drops the uuid. That frees `ndns`; the returned object replaces it.
Result<ndctl_namespace*> ClearStaleUuid(ndctl_ctx* ctx, ndctl_namespace* ndns, const std::string& dev) {
  static constexpr unsigned char kNullUuid[16] = {};
  unsigned char uu[16];
  ndctl_namespace_get_uuid(ndns, uu);
  if (ndctl_namespace_get_size(ndns) != 0 || std::memcmp(uu, kNullUuid, sizeof uu) == 0) return ndns;
  const std::string stale = FormatUuid(uu);
  if (int rc = ndctl_namespace_delete(ndns); rc < 0)
    return Status(Code::kIoError, "create " + dev + ": it holds the uuid " + stale + " of an interrupted create " +
                                      "and clearing it failed (" + Errno(rc) + "); the kernel log (dmesg) says why",
                  -rc);
  GetLogger("platform")->info("{}: cleared the uuid {} that an interrupted create left on it", dev, stale);
  ndns = FindNamespaceObj(ctx, dev);
  if (!ndns) return Status::Unavailable(dev + " disappeared while clearing its stale uuid; retry");
  return ndns;
}

// What a failed write of a namespace's uuid means. The kernel's uuid_store
// answers EINVAL when the uuid is not unique on the bus (nd_is_uuid_unique:
// another namespace's label, or a pfn/dax/btt info block, holds it); the
// planner checks both first, so this is a uuid that appeared meanwhile.
Status UuidWriteStatus(const std::string& what, const std::string& uuid, int rc) {
  if (rc >= 0) return Status::Ok();
  if (rc == -EINVAL)
    return Status(Code::kAlreadyExists,
                  what + ": the kernel refused uuid " + uuid + " (EINVAL): a namespace or an fsdax/devdax/sector "
                  "info block on the bus already uses it; list shows it as uuid or raw_uuid; choose another uuid",
                  EINVAL);
  Code code = rc == -EBUSY ? Code::kBusy : Code::kIoError;
  return Status(code, what + ": setting the uuid failed (" + Errno(rc) + "); the kernel log (dmesg) says why", -rc);
}

// Gives a disabled, configured namespace its personality: the pfn (fsdax),
// dax (devdax) or btt (sector) seed of its region claims it and is enabled,
// or (raw) the namespace is enabled itself. `claim_uuid` is the pfn/dax/btt
// info block's uuid.
Status ApplyPersonality(ndctl_region* region, ndctl_namespace* ndns, const NamespacePlan& plan,
                        const std::string& claim_uuid) {
  const std::string dev = Str(ndctl_namespace_get_devname(ndns));
  unsigned char uu[16];
  if (!ParseUuid(claim_uuid, uu)) return Status::Internal("bad claim uuid " + claim_uuid);
  // Opportunistic, as in ndctl: kernels before 4.13 lack the attribute.
  ndctl_namespace_set_enforce_mode(ndns, ModeOf(plan.mode));
  auto fail = [&](const std::string& step, int rc) {
    return Status(Code::kIoError,
                  "configure " + dev + " as " + plan.mode + ": " + step + " failed (" + Errno(rc) +
                      "); the kernel log (dmesg) says why",
                  rc < 0 ? -rc : rc);
  };
  enum ndctl_pfn_loc loc = plan.map == "mem" ? NDCTL_PFN_LOC_RAM : NDCTL_PFN_LOC_PMEM;
  int rc = 0;
  if (plan.mode == "fsdax") {
    ndctl_pfn* pfn = ndctl_region_get_pfn_seed(region);
    if (!pfn) return Status::Unavailable(plan.region + " has no pfn seed for fsdax; is nd_pmem loaded?");
    if ((rc = ndctl_pfn_set_uuid(pfn, uu)) < 0) return fail("setting the pfn uuid", rc);
    if ((rc = ndctl_pfn_set_location(pfn, loc)) < 0) return fail("setting the pfn location", rc);
    if (ndctl_pfn_has_align(pfn) && (rc = ndctl_pfn_set_align(pfn, plan.align)) < 0)
      return fail("setting the pfn alignment", rc);
    if ((rc = ndctl_pfn_set_namespace(pfn, ndns)) < 0) return fail("attaching the pfn device", rc);
    if ((rc = ndctl_pfn_enable(pfn)) < 0) {
      ndctl_pfn_set_namespace(pfn, nullptr);
      return fail("enabling " + Str(ndctl_pfn_get_devname(pfn)), rc);
    }
  } else if (plan.mode == "devdax") {
    ndctl_dax* dax = ndctl_region_get_dax_seed(region);
    if (!dax) return Status::Unavailable(plan.region + " has no dax seed for devdax; is dax_pmem loaded?");
    if ((rc = ndctl_dax_set_uuid(dax, uu)) < 0) return fail("setting the dax uuid", rc);
    if ((rc = ndctl_dax_set_location(dax, loc)) < 0) return fail("setting the dax location", rc);
    if ((rc = ndctl_dax_set_align(dax, plan.align)) < 0) return fail("setting the dax alignment", rc);
    if ((rc = ndctl_dax_set_namespace(dax, ndns)) < 0) return fail("attaching the dax device", rc);
    if ((rc = ndctl_dax_enable(dax)) < 0) {
      ndctl_dax_set_namespace(dax, nullptr);
      return fail("enabling " + Str(ndctl_dax_get_devname(dax)), rc);
    }
  } else if (plan.mode == "sector") {
    ndctl_btt* btt = ndctl_region_get_btt_seed(region);
    if (!btt) return Status::Unavailable(plan.region + " has no btt seed for sector mode; is nd_btt loaded?");
    if ((rc = ndctl_btt_set_uuid(btt, uu)) < 0) return fail("setting the btt uuid", rc);
    if ((rc = ndctl_btt_set_sector_size(btt, plan.sector_size)) < 0) return fail("setting the btt sector size", rc);
    if ((rc = ndctl_btt_set_namespace(btt, ndns)) < 0) return fail("attaching the btt device", rc);
    if ((rc = ndctl_btt_enable(btt)) < 0) {
      ndctl_btt_set_namespace(btt, nullptr);
      return fail("enabling " + Str(ndctl_btt_get_devname(btt)), rc);
    }
  } else {
    if ((rc = ndctl_namespace_enable(ndns)) < 0) return fail("enabling the namespace", rc);
  }
  return Status::Ok();
}

// Sets the namespace's own sector size (fsdax, raw) when the kernel offers
// a choice; 512 is the default and always fine.
Status SetNamespaceSectorSize(ndctl_namespace* ndns, const NamespacePlan& plan) {
  if (plan.mode == "sector" || plan.mode == "devdax" || plan.sector_size == 0) return Status::Ok();
  int num = ndctl_namespace_get_num_sector_sizes(ndns);
  for (int i = 0; i < num; ++i)
    if (ndctl_namespace_get_supported_sector_size(ndns, i) == plan.sector_size) {
      int rc = ndctl_namespace_set_sector_size(ndns, plan.sector_size);
      if (rc < 0)
        return Status(Code::kIoError, "set " + plan.dev + "'s sector size to " + std::to_string(plan.sector_size) +
                                          ": " + Errno(rc), -rc);
      return Status::Ok();
    }
  if (plan.sector_size == 512) return Status::Ok();
  return Status::InvalidArgument(plan.dev + " does not support sector_size " + std::to_string(plan.sector_size) +
                                 " in " + plan.mode + " mode; use 512");
}

// The memory blocks (whole, aligned) that hold a dax device's range, with

}  // namespace pmemd::nd
