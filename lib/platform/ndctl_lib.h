// Pieces of libndctl/libdaxctl every part of the ndctl platform uses: RAII
// for the library objects, a fresh context whose log goes to the "platform"
// logger, field conversions as ndctl v76 prints them, and finding a region,
// namespace or dax device by name in a context.
//
// Thread safety: libndctl contexts are single-threaded; every function here
// works only on the context it is given, which the caller owns (borrowed
// pointers are valid for as long as that context).
#pragma once

#include <daxctl/libdaxctl.h>
#include <ndctl/libndctl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "pmemd/status.h"

namespace pmemd {

class EventBus;

namespace nd {

struct NdctlCtxUnref {
  void operator()(ndctl_ctx* c) const { ndctl_unref(c); }
};
using NdctlCtxPtr = std::unique_ptr<ndctl_ctx, NdctlCtxUnref>;

struct NdctlCmdUnref {
  void operator()(ndctl_cmd* c) const { ndctl_cmd_unref(c); }
};
using NdctlCmdPtr = std::unique_ptr<ndctl_cmd, NdctlCmdUnref>;

// A fresh library context. libndctl caches what it reads and has no way to
// drop those caches (ndctl_invalidate() only forgets that the bus list was
// read; existing objects keep their cached attributes), so every walk gets
// its own context. kUnavailable, naming what libndctl needs, when it fails.
Result<NdctlCtxPtr> NewNdctlCtx();

// A string from libndctl/libdaxctl: NULL (an attribute it could not read)
// becomes "".
std::string Str(const char* s);
// A NUMA node, or nullopt for the library's -1 ("none").
std::optional<int> NodeOrNone(int node);
// strerror of a library return code (negative errno) or an errno.
std::string Errno(int rc);
uint64_t MsSince(std::chrono::steady_clock::time_point t0);

// nullptr when no object of that name exists. FindDaxObj skips idle seeds
// (size 0) and, when `known` is given, appends the names it passed.
ndctl_region* FindRegionObj(ndctl_ctx* ctx, const std::string& dev);
ndctl_namespace* FindNamespaceObj(ndctl_ctx* ctx, const std::string& dev);
daxctl_dev* FindDaxObj(ndctl_ctx* ctx, const std::string& chardev, std::string* known);

// Publishes one event on `events` (borrowed; null: nothing).
void Publish(EventBus* events, const std::string& kind, const std::string& object, const std::string& from,
             const std::string& to, nlohmann::json detail);

}  // namespace nd
}  // namespace pmemd
