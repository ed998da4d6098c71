#include "platform/inventory_cache.h"

#include <charconv>
#include <map>
#include <utility>
#include <vector>

#include "pmemd/events.h"
#include "pmemd/log.h"

namespace pmemd {

namespace {

constexpr std::string_view kMemoryPrefix = "/devices/system/memory/memory";

// memoryN's N from a devpath, or nullopt.
std::optional<uint64_t> BlockId(const std::string& devpath) {
  if (!devpath.starts_with(kMemoryPrefix)) return std::nullopt;
  uint64_t id = 0;
  const char* b = devpath.data() + kMemoryPrefix.size();
  const char* e = devpath.data() + devpath.size();
  auto [p, ec] = std::from_chars(b, e, id);
  if (ec != std::errc() || p != e || p == b) return std::nullopt;
  return id;
}

std::string NamespaceState(const Namespace& n) { return n.enabled ? n.mode : "disabled"; }

}  // namespace

InventoryCache::InventoryCache(std::unique_ptr<UeventSource> source, InventoryReaders readers, EventBus* events,
                               InventoryCacheOptions options)
    : source_(std::move(source)), readers_(std::move(readers)), events_(events), options_(options) {
  if (options_.watch) watcher_ = std::thread([this] { Watch(); });
}

InventoryCache::~InventoryCache() {
  stop_ = true;
  source_->Interrupt();
  if (watcher_.joinable()) watcher_.join();
}

void InventoryCache::Mark(const Uevent& e) {
  if (e.subsystem == "nd" || e.subsystem == "dax") {
    ++stats_.events;
    all_dirty_ = true;
    return;
  }
  if (e.subsystem != "memory") return;
  ++stats_.events;
  std::optional<uint64_t> id = BlockId(e.devpath);
  if (!id || (e.action != "online" && e.action != "offline" && e.action != "change")) {
    all_dirty_ = true;  // a block added or removed, or the memory root itself
    return;
  }
  if (all_dirty_) return;
  if (dirty_blocks_.size() >= options_.max_dirty_blocks) {
    all_dirty_ = true;
    dirty_blocks_.clear();
    return;
  }
  dirty_blocks_.insert(*id);
}

void InventoryCache::PumpLocked() {
  std::vector<Uevent> batch;
  batch.reserve(256);
  size_t left = options_.max_drain;
  while (left > 0) {
    batch.clear();
    Status st = source_->Drain(&batch, std::min<size_t>(left, 256));
    for (const auto& e : batch) Mark(e);
    left -= std::min(left, batch.size());
    if (!st.ok()) {
      ++stats_.resyncs;
      all_dirty_ = true;
      dirty_blocks_.clear();
      GetLogger("platform")->warn("{}; re-reading the whole inventory", st.message());
      continue;
    }
    if (batch.size() < 256) return;  // drained
  }
  // A storm: more events than one pass reads. What is still queued is newer
  // than this pass; re-reading everything covers it (and later passes
  // read the rest).
  all_dirty_ = true;
  dirty_blocks_.clear();
}

Status InventoryCache::RefreshLocked(bool publish) {
  auto now = std::chrono::steady_clock::now();
  if (model_ && now - read_at_ > options_.max_age) all_dirty_ = true;
  if (!all_dirty_ && model_ && !dirty_blocks_.empty()) {
    // A block of a kmem dax device changes its device's counts: re-read all.
    for (uint64_t id : dirty_blocks_)
      for (const auto& b : model_->memory_blocks)
        if (b.id == id && !b.dax_device.empty()) all_dirty_ = true;
  }
  std::optional<Inventory> before;
  if (publish && model_) before = *model_;
  if (all_dirty_ || !model_) {
    std::string fp = readers_.fingerprint ? readers_.fingerprint() : "";
    PMEMD_ASSIGN_OR_RETURN(Inventory inv, readers_.read_all());
    model_ = std::move(inv);
    fingerprint_ = std::move(fp);
    read_at_ = now;
    all_dirty_ = false;
    dirty_blocks_.clear();
    ++stats_.full_reads;
  } else if (!dirty_blocks_.empty()) {
    auto& blocks = model_->memory_blocks;
    for (uint64_t id : dirty_blocks_) {
      Result<MemoryBlock> b = readers_.read_block(id);
      auto it = std::find_if(blocks.begin(), blocks.end(), [&](const MemoryBlock& m) { return m.id == id; });
      if (!b.ok() && b.status().code() != Code::kNotFound) {
        all_dirty_ = true;
        return b.status();
      }
      ++stats_.block_reads;
      if (!b.ok()) {
        if (it != blocks.end()) blocks.erase(it);
      } else if (it != blocks.end()) {
        b->dax_device = it->dax_device;
        *it = std::move(*b);
      } else {
        blocks.insert(std::lower_bound(blocks.begin(), blocks.end(), id,
                                       [](const MemoryBlock& m, uint64_t v) { return m.id < v; }),
                      std::move(*b));
      }
    }
    dirty_blocks_.clear();
  } else {
    return Status::Ok();
  }
  if (before && !quiet_ && own_changes_ == 0) PublishDiff(*before, *model_);
  quiet_ = false;
  return Status::Ok();
}

Result<Inventory> InventoryCache::List() {
  MutexLock lock(mu_);
  PumpLocked();
  if (model_ && !all_dirty_ && readers_.fingerprint && readers_.fingerprint() != fingerprint_) all_dirty_ = true;
  bool clean = model_ && !all_dirty_ && dirty_blocks_.empty() &&
               std::chrono::steady_clock::now() - read_at_ <= options_.max_age;
  if (clean) {
    ++stats_.from_memory;
    return *model_;
  }
  PMEMD_RETURN_IF_ERROR(RefreshLocked(/*publish=*/true));
  return *model_;
}

void InventoryCache::BeginOwnChange() {
  MutexLock lock(mu_);
  ++own_changes_;
}

void InventoryCache::EndOwnChange() {
  MutexLock lock(mu_);
  PumpLocked();  // the operation's own uevents
  all_dirty_ = true;
  quiet_ = true;
  --own_changes_;
}

void InventoryCache::Invalidate() {
  MutexLock lock(mu_);
  all_dirty_ = true;
}

InventoryCacheStats InventoryCache::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

void InventoryCache::PublishDiff(const Inventory& before, const Inventory& after) {
  if (!events_) return;
  auto publish = [&](const char* kind, const std::string& object, const std::string& from, const std::string& to) {
    if (from == to) return;
    events_->Publish({.kind = kind, .object = object, .from = from, .to = to, .detail = {{"source", "external"}}});
  };
  auto diff = [&](const char* kind, const auto& a, const auto& b, auto key, auto state) {
    std::map<std::string, std::string> old_states, new_states;
    for (const auto& x : a) old_states[key(x)] = state(x);
    for (const auto& x : b) new_states[key(x)] = state(x);
    for (const auto& [k, s] : old_states) {
      auto it = new_states.find(k);
      publish(kind, k, s, it == new_states.end() ? "" : it->second);
    }
    for (const auto& [k, s] : new_states)
      if (!old_states.count(k)) publish(kind, k, "", s);
  };
  diff("namespace", before.namespaces, after.namespaces, [](const Namespace& n) { return n.dev; }, NamespaceState);
  diff("dax_device", before.dax_devices, after.dax_devices, [](const DaxDevice& d) { return d.chardev; },
       [](const DaxDevice& d) { return d.mode; });
  diff("memory_block", before.memory_blocks, after.memory_blocks,
       [](const MemoryBlock& m) { return "memory" + std::to_string(m.id); },
       [](const MemoryBlock& m) { return m.state; });
}

void InventoryCache::Watch() {
  while (!stop_) {
    if (!source_->Wait(std::chrono::milliseconds(500)) || stop_) continue;
    // Let a burst finish: one re-read per settle period at most.
    std::this_thread::sleep_for(options_.settle);
    MutexLock lock(mu_);
    PumpLocked();
    if (own_changes_ > 0 || !model_) continue;
    if (Status st = RefreshLocked(/*publish=*/true); !st.ok())
      GetLogger("platform")->warn("re-reading the inventory after uevents failed: {}", st.message());
  }
}

}  // namespace pmemd
