#include "platform/ndctl_lib.h"

#include <syslog.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "pmemd/events.h"
#include "pmemd/log.h"

namespace pmemd::nd {

namespace {

// libndctl and libdaxctl log through a callback; route them into the
// "platform" logger. Their errors stay warnings: the library reports things
// (an unsupported command, a missing optional attribute) that List() treats
// as "not available" rather than as failures.
void LogLibraryLine(const char* lib, int priority, const char* fn, const char* format,
                    va_list args) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, format, args);
  size_t n = std::strlen(buf);
  while (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
  auto log = GetLogger("platform");
  if (priority <= LOG_ERR)
    log->warn("{}: {}: {}", lib, fn, buf);
  else
    log->debug("{}: {}: {}", lib, fn, buf);
}

void NdctlLog(ndctl_ctx*, int priority, const char*, int, const char* fn, const char* format,
              va_list args) {
  LogLibraryLine("libndctl", priority, fn, format, args);
}

void DaxctlLog(daxctl_ctx*, int priority, const char*, int, const char* fn, const char* format,
               va_list args) {
  LogLibraryLine("libdaxctl", priority, fn, format, args);
}

// A fresh library context. libndctl caches what it reads and has no way to
// drop those caches (ndctl_invalidate() only forgets that the bus list was
// read; existing objects keep their cached attributes), so every snapshot gets
}  // namespace

Result<NdctlCtxPtr> NewNdctlCtx() {
  ndctl_ctx* raw = nullptr;
  int rc = ndctl_new(&raw);
  if (rc < 0 || raw == nullptr) {
    int err = rc < 0 ? -rc : ENXIO;
    return Status(Code::kUnavailable,
                  std::string("libndctl cannot create a context (ndctl_new: ") +
                      std::strerror(err) +
                      "); it needs working libudev and libkmod: check that /run/udev and "
                      "/lib/modules/$(uname -r) are present and that the process is not "
                      "out of memory",
                  err);
  }
  NdctlCtxPtr ctx(raw);
  ndctl_set_log_fn(ctx.get(), NdctlLog);
  if (daxctl_ctx* dctx = ndctl_get_daxctl_ctx(ctx.get())) daxctl_set_log_fn(dctx, DaxctlLog);
  return ctx;
}

// A string from libndctl/libdaxctl: NULL (an attribute it could not read)
// becomes "".
std::string Str(const char* s) { return s ? s : ""; }

std::optional<int> NodeOrNone(int node) {
  if (node < 0) return std::nullopt;
  return node;
}
std::string Errno(int rc) { return std::strerror(rc < 0 ? -rc : rc); }

uint64_t MsSince(std::chrono::steady_clock::time_point t0) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
}


ndctl_region* FindRegionObj(ndctl_ctx* ctx, const std::string& dev) {
  ndctl_bus* bus;
  ndctl_bus_foreach(ctx, bus) {
    ndctl_region* region;
    ndctl_region_foreach(bus, region) {
      if (dev == Str(ndctl_region_get_devname(region))) return region;
    }
  }
  return nullptr;
}

ndctl_namespace* FindNamespaceObj(ndctl_ctx* ctx, const std::string& dev) {
  ndctl_bus* bus;
  ndctl_bus_foreach(ctx, bus) {
    ndctl_region* region;
    ndctl_region_foreach(bus, region) {
      ndctl_namespace* ndns;
      ndctl_namespace_foreach(region, ndns) {
        if (dev == Str(ndctl_namespace_get_devname(ndns))) return ndns;
      }
    }
  }
  return nullptr;
}

daxctl_dev* FindDaxObj(ndctl_ctx* ctx, const std::string& chardev, std::string* known) {
  daxctl_ctx* dctx = ndctl_get_daxctl_ctx(ctx);
  if (!dctx) return nullptr;
  daxctl_region* dregion;
  daxctl_region_foreach(dctx, dregion) {
    daxctl_dev* dev;
    daxctl_dev_foreach(dregion, dev) {
      const char* name = daxctl_dev_get_devname(dev);
      if (!name || daxctl_dev_get_size(dev) == 0) continue;
      if (chardev == name) return dev;
      if (known) *known += (known->empty() ? "" : ", ") + std::string(name);
    }
  }
  return nullptr;
}

// ndctl's region_get_namespace(): the 0th namespace when it is idle, else

void Publish(EventBus* events, const std::string& kind, const std::string& object, const std::string& from,
             const std::string& to, nlohmann::json detail) {
  if (!events) return;
  events->Publish({.kind = kind, .object = object, .from = from, .to = to, .detail = std::move(detail)});
}

}  // namespace pmemd::nd
