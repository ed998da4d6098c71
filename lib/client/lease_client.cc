#include "pmemd/lease_client.h"

#include <libpmem2.h>

#include <utility>
#include <vector>

namespace pmemd {
namespace {

Status Pmem2Error(const std::string& what) {
  return Status::IoError(what + " failed: " + pmem2_errormsg());
}

}  // namespace

Result<LeaseView> LeaseView::Open(Client& client, const std::string& pool, const std::string& lease) {
  std::vector<UniqueFd> fds;
  PMEMD_ASSIGN_OR_RETURN(nlohmann::json l, client.Call("open-lease", {{"pool", pool}, {"name", lease}}, &fds));
  const size_t index = l.value("fd", size_t{0});
  if (index >= fds.size())
    return Status::Internal("open-lease of " + lease + " answered without a descriptor (" +
                            std::to_string(fds.size()) + " came); is the daemon older than open-lease?");
  const uint64_t offset = l.value("offset", uint64_t{0}), size = l.value("size", uint64_t{0});
  pmem2_source* src = nullptr;
  if (pmem2_source_from_fd(&src, fds[index].get()) != 0) return Pmem2Error("pmem2_source_from_fd");
  struct SourceGuard {
    pmem2_source* s;
    ~SourceGuard() { pmem2_source_delete(&s); }
  } source_guard{src};
  size_t alignment = 0;
  if (pmem2_source_alignment(src, &alignment) != 0) return Pmem2Error("pmem2_source_alignment");
  // The mapping starts on the device's alignment (2 MiB on a typical
  // device-dax); the view starts at the lease.
  const uint64_t start = offset / alignment * alignment, lead = offset - start;
  const uint64_t length = (lead + size + alignment - 1) / alignment * alignment;
  pmem2_config* cfg = nullptr;
  if (pmem2_config_new(&cfg) != 0) return Pmem2Error("pmem2_config_new");
  struct ConfigGuard {
    pmem2_config* c;
    ~ConfigGuard() { pmem2_config_delete(&c); }
  } config_guard{cfg};
  if (pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE) != 0 ||
      pmem2_config_set_offset(cfg, start) != 0 || pmem2_config_set_length(cfg, length) != 0)
    return Pmem2Error("configuring the mapping of lease " + lease);
  LeaseView v;
  if (pmem2_map_new(&v.map_, cfg, src) != 0)
    return Pmem2Error("mapping lease " + lease + " (" + std::to_string(size) + " bytes at offset " +
                      std::to_string(offset) + ")");
  v.data_ = static_cast<char*>(pmem2_map_get_address(v.map_)) + lead;
  v.size_ = size;
  v.persist_ = pmem2_get_persist_fn(v.map_);
  v.lease_ = std::move(l);
  return v;  // the descriptor closes here: the mapping does not need it
}

LeaseView::LeaseView(LeaseView&& other) noexcept { *this = std::move(other); }

LeaseView& LeaseView::operator=(LeaseView&& other) noexcept {
  if (this != &other) {
    Reset();
    map_ = std::exchange(other.map_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    persist_ = std::exchange(other.persist_, nullptr);
    lease_ = std::move(other.lease_);
  }
  return *this;
}

LeaseView::~LeaseView() { Reset(); }

void LeaseView::Reset() {
  if (map_ != nullptr) pmem2_map_delete(&map_);
  map_ = nullptr;
  data_ = nullptr;
  size_ = 0;
}

void LeaseView::Persist(const void* addr, size_t len) const {
  if (persist_ != nullptr) persist_(addr, len);
}

}  // namespace pmemd
