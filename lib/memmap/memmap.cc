// MemMap: building the per-page metadata array.
//
// Layers, as in the kernel's mm_init.c: a strategy decides how one
// descriptor range is written (FillRange), a section is the unit threads and
// deferred growth work on (InitSection), and the map drives sections either
// eagerly over N threads (RunEager) or deferred (StartDeferred,
// BackgroundWorker, GrowOnDemand).
#include "pmemd/memmap.h"

#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include "memmap/store.h"
#include "pmemd/log.h"
#include "pmemd/size.h"

namespace pmemd {

// The template strategies treat a descriptor as 8 words; this pins the words
// they fix up to the fields the per-field path writes.
struct PageDescLayout {
  static_assert(offsetof(PageDesc, flags_) == 0);
  static_assert(offsetof(PageDesc, refcount_) == 8);
  static_assert(offsetof(PageDesc, mapcount_) == 12);
  static_assert(offsetof(PageDesc, owner_) == 16);
  static_assert(offsetof(PageDesc, private_) == 24);
  static_assert(offsetof(PageDesc, index_) == 8 * memmap_internal::kIndexWord);
  static_assert(offsetof(PageDesc, next_) == 40);
  static_assert(offsetof(PageDesc, prev_) == 48);
  static_assert(offsetof(PageDesc, pfn_) == 8 * memmap_internal::kPfnWord);
};

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint8_t kUninit = 0;
constexpr std::uint8_t kClaimed = 1;
constexpr std::uint8_t kReady = 2;

constexpr unsigned kMaxThreads = 1024;
constexpr std::size_t kHugePageSize = std::size_t{2} << 20;
constexpr std::size_t kPageSize = 4096;
constexpr std::uint64_t kSectionBitsMask = ~std::uint64_t{0} << PageDesc::kSectionShift;

constexpr std::array<InitStrategy, 5> kStrategies = {
    InitStrategy::kPerField, InitStrategy::kPerFieldNonAtomic, InitStrategy::kTemplate,
    InitStrategy::kTemplateStream, InitStrategy::kDeferred};

// How a range of descriptors is written.
enum class FillMode { kPerFieldAtomic, kPerFieldPlain, kTemplateCopy };

std::uint64_t FaultCount() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<std::uint64_t>(ru.ru_minflt) + static_cast<std::uint64_t>(ru.ru_majflt);
}

std::uint64_t NsSince(Clock::time_point start) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

}  // namespace

// Everything the fill paths need, built once in Create (the "context
// parameter" of the kernel's memmap_init_range), plus the owned memory.
struct MemMap::Impl {
  MemMapOptions opts;
  InitStrategy strategy = InitStrategy::kTemplateStream;  // effective
  FillMode mode = FillMode::kTemplateCopy;
  bool trace_fallback = false;
  const memmap_internal::StoreOps* ops = nullptr;
  const PageRefTraceHook* trace = nullptr;  // null when tracing is off
  std::uint64_t state_flag = 0;             // the initial PageFlag bit
  std::uint64_t tmpl[8] = {};               // template, PFN-dependent parts cleared
  unsigned threads = 1;

  void* map_base = nullptr;  // owned mapping, if any
  std::size_t map_len = 0;
  bool huge_pages = false;

  Clock::time_point start;
  std::uint64_t faults_at_start = 0;
  std::uint64_t ready_ns = 0;
  std::atomic<std::uint64_t> init_ns{0};
  std::atomic<std::uint64_t> page_faults{0};
  std::atomic<bool> faulted{false};
  std::shared_ptr<spdlog::logger> log;

  ~Impl() {
    if (map_base != nullptr) munmap(map_base, map_len);
  }

  // The kernel's __init_single_page + __init_zone_device_page: zero the
  // descriptor, then set each field. With kAtomic the refcount is an atomic
  // store and each flag a locked read-modify-write (SetPageReserved); without
  // it, plain stores (__SetPageReserved), valid because no other thread can
  // see the descriptor yet.
  template <bool kAtomic>
  void InitPerField(PageDesc* d, std::uint64_t pfn, const PageRefTraceHook* hook) const {
    std::memset(static_cast<void*>(d), 0, sizeof(PageDesc));
    d->SetLinksNonAtomic(pfn, opts.node, opts.zone);
    if constexpr (kAtomic) {
      d->SetRefCount(opts.initial_refcount);
    } else {
      d->SetRefCountNonAtomic(opts.initial_refcount);
    }
    if (hook != nullptr) (*hook)(pfn, opts.initial_refcount);  // page_ref_set
    d->ResetMapCount();
    d->InitListLinks();
    d->SetOwner(opts.owner);
    d->SetIndex(pfn - opts.base_pfn);
    d->SetPfn(pfn);
    const auto flag = opts.initial_state == PageInitState::kOffline ? PageFlag::kOffline
                                                                    : PageFlag::kReserved;
    if constexpr (kAtomic) {
      d->SetFlag(flag);
    } else {
      d->SetFlagNonAtomic(flag);
    }
  }

  void BuildTemplate() {
    PageDesc t;
    InitPerField<true>(&t, opts.base_pfn, nullptr);  // a template, not a page: no trace
    std::memcpy(tmpl, &t, sizeof t);
    tmpl[0] &= ~kSectionBitsMask;
    tmpl[memmap_internal::kIndexWord] = 0;
    tmpl[memmap_internal::kPfnWord] = 0;
  }

  // FillRange through the caller's guard, when there is one.
  void Fill(PageDesc* descs, std::uint64_t first, std::uint64_t last) {
    if (!opts.guard) {
      FillRange(descs, first, last);
      return;
    }
    struct Args {
      const Impl* im;
      PageDesc* descs;
      std::uint64_t first, last;
    } a{this, descs, first, last};
    auto fn = [](void* p) {
      auto* x = static_cast<Args*>(p);
      x->im->FillRange(x->descs, x->first, x->last);
    };
    if (!opts.guard(fn, &a)) faulted.store(true, std::memory_order_relaxed);
  }

  // Writes descriptors [first, last) of the array at descs.
  void FillRange(PageDesc* descs, std::uint64_t first, std::uint64_t last) const {
    const std::uint64_t base = opts.base_pfn;
    switch (mode) {
      case FillMode::kPerFieldAtomic:
        for (std::uint64_t i = first; i < last; ++i) InitPerField<true>(descs + i, base + i, trace);
        return;
      case FillMode::kPerFieldPlain:
        for (std::uint64_t i = first; i < last; ++i) InitPerField<false>(descs + i, base + i, trace);
        return;
      case FillMode::kTemplateCopy:
        break;
    }
    // The section bits change only at memory-section boundaries: copy runs
    // that share one flags word.
    for (std::uint64_t i = first; i < last;) {
      const std::uint64_t pfn = base + i;
      const std::uint64_t section = PageDesc::MemorySection(pfn);
      const std::uint64_t run_end = (section + 1) << PageDesc::kPfnSectionShift;
      const std::uint64_t n = std::min(last - i, run_end - pfn);
      std::uint64_t words[8];
      std::memcpy(words, tmpl, sizeof words);
      words[0] |= section << PageDesc::kSectionShift;
      words[memmap_internal::kIndexWord] = i;
      words[memmap_internal::kPfnWord] = pfn;
      ops->fill_desc(descs + i, n, words);
      i += n;
    }
  }
};

std::string_view InitStrategyName(InitStrategy strategy) {
  switch (strategy) {
    case InitStrategy::kPerField: return "per-field";
    case InitStrategy::kPerFieldNonAtomic: return "per-field-nonatomic";
    case InitStrategy::kTemplate: return "template";
    case InitStrategy::kTemplateStream: return "template-stream";
    case InitStrategy::kDeferred: return "deferred";
  }
  return "unknown";
}

Result<InitStrategy> ParseInitStrategy(std::string_view name) {
  std::string known;
  for (InitStrategy s : kStrategies) {
    if (InitStrategyName(s) == name) return s;
    if (!known.empty()) known += ", ";
    known += InitStrategyName(s);
  }
  return Status::InvalidArgument("unknown init strategy '" + std::string(name) +
                                 "'; expected one of: " + known);
}

const std::vector<InitStrategy>& AllInitStrategies() {
  static const std::vector<InitStrategy> all(kStrategies.begin(), kStrategies.end());
  return all;
}

namespace {

Status Validate(const MemMapOptions& o) {
  if (o.adopt && o.memory == nullptr)
    return Status::InvalidArgument("adopt needs the memory that holds the descriptors; pass memory and memory_bytes");
  if (o.section_pages == 0) {
    return Status::InvalidArgument("section_pages is 0; use a positive number of descriptors "
                                   "(default 32768 = 128 MiB of device)");
  }
  if (o.pages > (std::uint64_t{1} << 52)) {
    return Status::InvalidArgument("pages " + std::to_string(o.pages) +
                                   " is too large; at most 2^52 descriptors fit a memmap");
  }
  if (o.pages > 0 && (o.base_pfn > PageDesc::kMaxPfn || o.pages - 1 > PageDesc::kMaxPfn - o.base_pfn)) {
    return Status::InvalidArgument(
        "pfn range [" + std::to_string(o.base_pfn) + ", " + std::to_string(o.base_pfn + o.pages) +
        ") does not fit the flags word's section bits; the last pfn must be at most " +
        std::to_string(PageDesc::kMaxPfn));
  }
  if (o.node > PageDesc::kMaxNode) {
    return Status::InvalidArgument("node " + std::to_string(o.node) + " does not fit " +
                                   std::to_string(PageDesc::kNodeBits) + " bits; use at most " +
                                   std::to_string(PageDesc::kMaxNode));
  }
  if (static_cast<unsigned>(o.zone) >= (1u << PageDesc::kZoneBits)) {
    return Status::InvalidArgument("zone " + std::to_string(static_cast<unsigned>(o.zone)) +
                                   " does not fit the flags word; use a PageZone value");
  }
  if (o.threads > kMaxThreads) {
    return Status::InvalidArgument("threads " + std::to_string(o.threads) + " is more than " +
                                   std::to_string(kMaxThreads) +
                                   "; use at most that (0 for one per CPU)");
  }
  if (o.memory == nullptr && o.memory_bytes != 0) {
    return Status::InvalidArgument("memory_bytes is " + std::to_string(o.memory_bytes) +
                                   " but memory is null; pass both or neither");
  }
  if (o.memory != nullptr) {
    if (reinterpret_cast<std::uintptr_t>(o.memory) % alignof(PageDesc) != 0) {
      return Status::InvalidArgument("memory at " +
                                     std::to_string(reinterpret_cast<std::uintptr_t>(o.memory)) +
                                     " is not 64-byte aligned; PageDesc needs 64-byte alignment");
    }
    if (o.memory_bytes / sizeof(PageDesc) < o.pages) {
      return Status::InvalidArgument("memory of " + std::to_string(o.memory_bytes) +
                                     " bytes is too small for " + std::to_string(o.pages) +
                                     " descriptors; need " +
                                     std::to_string(o.pages * sizeof(PageDesc)) + " bytes");
    }
  }
  return Status::Ok();
}

// Maps `bytes` of anonymous memory, 2 MiB aligned when huge pages are wanted
// so that every full 2 MiB of it can be a transparent huge page. Nothing is
// faulted in here: the initializing threads do that on first touch.
Status MapMemory(std::size_t bytes, bool want_huge, void** base,
                 std::size_t* len, bool* huge, const std::shared_ptr<spdlog::logger>& log) {
  const std::size_t align = want_huge ? kHugePageSize : kPageSize;
  const std::size_t length = AlignUp(bytes, align);
  const std::size_t reserve = length + (want_huge ? kHugePageSize : 0);
  void* raw = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
  if (raw == MAP_FAILED) {
    return Status::FromErrno(errno, "mmap " + std::to_string(reserve) +
                                        " bytes of anonymous memory for the memmap");
  }
  auto addr = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (addr + align - 1) / align * align;
  if (aligned > addr) munmap(raw, aligned - addr);
  const std::uintptr_t end = aligned + length;
  if (addr + reserve > end) munmap(reinterpret_cast<void*>(end), addr + reserve - end);
  *base = reinterpret_cast<void*>(aligned);
  *len = length;
  *huge = false;
  if (want_huge) {
    if (madvise(*base, length, MADV_HUGEPAGE) == 0) {
      *huge = true;
    } else {
      log->debug("madvise(MADV_HUGEPAGE) failed ({}); the memmap uses 4 KiB pages",
                 std::strerror(errno));
    }
  } else {
    // Even under THP=always: the caller asked for 4 KiB pages.
    (void)madvise(*base, length, MADV_NOHUGEPAGE);
  }
  return Status::Ok();
}

}  // namespace

MemMap::MemMap(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MemMap::~MemMap() {
  stop_.store(true, std::memory_order_relaxed);
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

Result<std::unique_ptr<MemMap>> MemMap::Create(const MemMapOptions& options) {
  const Clock::time_point start = Clock::now();
  const std::uint64_t faults_at_start = FaultCount();
  PMEMD_RETURN_IF_ERROR(Validate(options));

  auto impl = std::make_unique<Impl>();
  Impl& im = *impl;
  im.opts = options;
  im.start = start;
  im.faults_at_start = faults_at_start;
  im.log = GetLogger("memmap");
  im.state_flag = PageDesc::FlagBit(options.initial_state == PageInitState::kOffline
                                        ? PageFlag::kOffline
                                        : PageFlag::kReserved);
  if (im.opts.trace_hook) im.trace = &im.opts.trace_hook;

  // Choose the implementation once.
  PMEMD_ASSIGN_OR_RETURN(StoreWidth width, ResolveStoreWidth(options.store));
  im.strategy = options.strategy;
  im.ops = &memmap_internal::GetStoreOps(StoreWidth::kPortable);
  switch (options.strategy) {
    case InitStrategy::kPerField: im.mode = FillMode::kPerFieldAtomic; break;
    case InitStrategy::kPerFieldNonAtomic: im.mode = FillMode::kPerFieldPlain; break;
    case InitStrategy::kTemplate: im.mode = FillMode::kTemplateCopy; break;
    case InitStrategy::kTemplateStream:
    case InitStrategy::kDeferred:
      im.mode = FillMode::kTemplateCopy;
      im.ops = &memmap_internal::GetStoreOps(width);
      break;
  }
  if (im.trace != nullptr && im.mode == FillMode::kTemplateCopy) {
    // A copy bypasses the refcount set, so the trace would miss it (as the
    // kernel disables its template path when page_ref_set is on).
    im.mode = FillMode::kPerFieldAtomic;
    im.ops = &memmap_internal::GetStoreOps(StoreWidth::kPortable);
    im.trace_fallback = true;
    if (im.strategy != InitStrategy::kDeferred) im.strategy = InitStrategy::kPerField;
  }
  im.BuildTemplate();

  const std::uint64_t pages = options.pages;
  const std::uint64_t sections = pages == 0 ? 0 : (pages - 1) / options.section_pages + 1;
  unsigned threads = options.threads == 0 ? std::max(1u, std::thread::hardware_concurrency())
                                          : options.threads;
  const std::uint64_t parallel_sections =
      options.strategy == InitStrategy::kDeferred ? (sections > 0 ? sections - 1 : 0) : sections;
  im.threads = static_cast<unsigned>(std::min<std::uint64_t>(threads, parallel_sections));
  if (im.threads == 0 && options.strategy != InitStrategy::kDeferred && sections > 0) im.threads = 1;

  PageDesc* descs = nullptr;
  if (options.memory != nullptr) {
    descs = static_cast<PageDesc*>(options.memory);
  } else if (pages > 0) {
    PMEMD_RETURN_IF_ERROR(MapMemory(pages * sizeof(PageDesc), options.huge_pages,
                                    &im.map_base, &im.map_len, &im.huge_pages, im.log));
    descs = static_cast<PageDesc*>(im.map_base);
  }

  std::unique_ptr<MemMap> map(new MemMap(std::move(impl)));
  map->descs_ = descs;
  map->base_pfn_ = options.base_pfn;
  map->section_pages_ = options.section_pages;
  map->pages_ = pages;
  map->sections_ = sections;

  if (options.adopt) {
    Impl& m = *map->impl_;
    m.threads = 0;
    m.ready_ns = NsSince(m.start);
    m.init_ns.store(std::max<std::uint64_t>(m.ready_ns, 1), std::memory_order_release);
    map->sections_ready_.store(sections, std::memory_order_relaxed);
    map->all_ready_.store(true, std::memory_order_release);
    m.log->info("adopted {} initialised pages in {:.3f} ms", pages, static_cast<double>(m.ready_ns) / 1e6);
  } else if (options.strategy == InitStrategy::kDeferred && sections > 0) {
    map->StartDeferred();
  } else {
    map->RunEager();
  }
  return map;
}

void MemMap::InitSection(std::uint64_t section) {
  const std::uint64_t first = section * section_pages_;
  const std::uint64_t last = std::min(first + section_pages_, pages_);
  impl_->Fill(descs_, first, last);
  // Drain streaming stores before the section is published (release).
  impl_->ops->fence();
}

void MemMap::RunEager() {
  Impl& im = *impl_;
  const unsigned n = im.threads;
  // Helpers wait at the gate until all of them exist: a thread that faults
  // in memory holds the mmap lock for reading, which would stall the mmap of
  // the next thread's stack.
  std::atomic<bool> gate{false};
  auto run = [this, n](unsigned t) {
    const std::uint64_t s0 = sections_ * t / n, s1 = sections_ * (t + 1) / n;
    const std::uint64_t first = std::min(s0 * section_pages_, pages_);
    const std::uint64_t last = std::min(s1 * section_pages_, pages_);
    impl_->Fill(descs_, first, last);
    impl_->ops->fence();  // one fence per thread, at the end
  };
  std::vector<std::thread> helpers;
  unsigned t = n == 0 ? 0 : 1;
  try {
    for (; t < n; ++t) {
      helpers.emplace_back([&gate, run, t] {
        gate.wait(false, std::memory_order_acquire);
        run(t);
      });
    }
  } catch (const std::system_error& e) {
    im.log->warn("could not start memmap thread {} of {} ({}); initializing its share here", t, n,
                 e.what());
  }
  gate.store(true, std::memory_order_release);
  gate.notify_all();
  if (n > 0) run(0);
  for (unsigned rest = t; rest < n; ++rest) run(rest);
  for (auto& h : helpers) h.join();  // join gives happens-before for all descriptors
  im.threads = t;
  sections_ready_.store(sections_, std::memory_order_relaxed);
  im.ready_ns = NsSince(im.start);
  FinishInit();
  all_ready_.store(true, std::memory_order_release);
}

void MemMap::StartDeferred() {
  Impl& im = *impl_;
  section_state_ = std::make_unique<std::atomic<std::uint8_t>[]>(sections_);
  section_state_[0].store(kClaimed, std::memory_order_relaxed);
  // Start the background threads first, held at a gate until the first
  // section is done: thread creation mmaps a stack, which would wait for the
  // mmap lock behind their page faults if they were already running, and the
  // first section gets the memory bandwidth to itself.
  const unsigned n = im.threads;
  const std::uint64_t rest = sections_ - 1;
  auto share = [rest, n](unsigned w) {
    return std::pair<std::uint64_t, std::uint64_t>{1 + rest * w / n, 1 + rest * (w + 1) / n};
  };
  unsigned started = 0;
  try {
    for (; started < n; ++started) {
      workers_.emplace_back([this, range = share(started)] {
        start_gate_.wait(false, std::memory_order_acquire);
        BackgroundWorker(range.first, range.second);
      });
    }
  } catch (const std::system_error& e) {
    im.log->warn("could not start memmap background thread {} of {} ({}); initializing its share "
                 "before returning", started, n, e.what());
  }
  im.threads = started;
  InitSection(0);
  im.ready_ns = NsSince(im.start);
  start_gate_.store(true, std::memory_order_release);
  start_gate_.notify_all();
  for (unsigned w = started; w < n; ++w) BackgroundWorker(share(w).first, share(w).second);
  // Publish the first section last: if it completes the map, FinishInit
  // sees the final thread count.
  PublishSection(0);
}

void MemMap::BackgroundWorker(std::uint64_t first, std::uint64_t last) {
  for (std::uint64_t s = first; s < last; ++s) {
    if (stop_.load(std::memory_order_relaxed)) return;
    std::uint8_t expected = kUninit;
    if (!section_state_[s].compare_exchange_strong(expected, kClaimed, std::memory_order_acq_rel)) {
      continue;  // grown on demand by a reader
    }
    InitSection(s);
    PublishSection(s);
  }
}

void MemMap::PublishSection(std::uint64_t section) {
  section_state_[section].store(kReady, std::memory_order_release);
  // The read-modify-writes on sections_ready_ form one release sequence, so
  // the thread that counts the last section has every section's writes
  // before it, and passes them on through all_ready_.
  if (sections_ready_.fetch_add(1, std::memory_order_acq_rel) + 1 == sections_) {
    FinishInit();
    all_ready_.store(true, std::memory_order_release);
  }
  { MutexLock lock(mu_); }  // a waiter is either before its check or in wait()
  cv_.NotifyAll();
}

void MemMap::EnsureSection(std::uint64_t section) {
  assert(section < sections_ && "MemMap::Get: pfn outside the map");
  if (section_state_[section].load(std::memory_order_acquire) == kReady) return;
  GrowOnDemand(section);
}

void MemMap::GrowOnDemand(std::uint64_t section) {
  MutexLock lock(mu_);
  for (;;) {
    std::uint8_t state = section_state_[section].load(std::memory_order_acquire);
    if (state == kReady) return;
    if (state == kUninit &&
        section_state_[section].compare_exchange_strong(state, kClaimed, std::memory_order_acq_rel)) {
      // Under the lock, like the kernel's deferred_grow_zone: one section at
      // a time; the claim makes it idempotent against the background threads.
      InitSection(section);
      grown_on_demand_.fetch_add(1, std::memory_order_relaxed);
      lock.Unlock();
      PublishSection(section);
      return;
    }
    if (state == kClaimed) cv_.Wait(mu_);  // a background thread is on it
  }
}

void MemMap::FinishInit() {
  Impl& im = *impl_;
  const std::uint64_t ns = NsSince(im.start);
  im.page_faults.store(FaultCount() - im.faults_at_start, std::memory_order_relaxed);
  im.init_ns.store(ns, std::memory_order_release);
  const double ms = static_cast<double>(ns) / 1e6;
  const std::string_view fallback =
      im.trace_fallback ? "; template copy off while page-ref tracing is on" : "";
  if (im.opts.strategy == InitStrategy::kDeferred) {
    im.log->info("initialised {} pages in {:.3f} ms (strategy {}, {} threads, {}; ready after "
                 "{:.3f} ms, {} sections grown on demand{})",
                 pages_, ms, InitStrategyName(im.strategy), im.threads,
                 StoreWidthName(im.ops->width), static_cast<double>(im.ready_ns) / 1e6,
                 grown_on_demand_.load(std::memory_order_relaxed), fallback);
  } else {
    im.log->info("initialised {} pages in {:.3f} ms (strategy {}, {} threads, {}{})", pages_, ms,
                 InitStrategyName(im.strategy), im.threads, StoreWidthName(im.ops->width),
                 fallback);
  }
}

Status MemMap::WaitReady(std::uint64_t pfn, std::uint64_t count) {
  if (count == 0) return Status::Ok();
  if (pfn < base_pfn_ || pfn - base_pfn_ > pages_ || count > pages_ - (pfn - base_pfn_)) {
    return Status::InvalidArgument("pfn range [" + std::to_string(pfn) + ", +" +
                                   std::to_string(count) + ") is outside the memmap [" +
                                   std::to_string(base_pfn_) + ", " +
                                   std::to_string(base_pfn_ + pages_) + ")");
  }
  if (all_ready_.load(std::memory_order_acquire)) return Status::Ok();
  const std::uint64_t first = (pfn - base_pfn_) / section_pages_;
  const std::uint64_t last = (pfn - base_pfn_ + count - 1) / section_pages_;
  for (std::uint64_t s = first; s <= last; ++s) EnsureSection(s);
  return Status::Ok();
}

void MemMap::WaitComplete() {
  if (all_ready_.load(std::memory_order_acquire)) return;
  MutexLock lock(mu_);
  while (!all_ready_.load(std::memory_order_acquire)) cv_.Wait(mu_);
}

void MemMap::SetRefCount(PageDesc* desc, std::int32_t v) {
  desc->SetRefCount(v);
  if (impl_->trace != nullptr) (*impl_->trace)(PfnOf(desc), v);
}

MemMapStats MemMap::Stats() const {
  const Impl& im = *impl_;
  MemMapStats s;
  s.strategy = im.strategy;
  s.requested_strategy = im.opts.strategy;
  s.trace_fallback = im.trace_fallback;
  s.threads = im.threads;
  s.store = im.ops->width;
  s.descriptors = pages_;
  s.sections = sections_;
  const bool done = all_ready_.load(std::memory_order_acquire);
  s.init_ns = done ? im.init_ns.load(std::memory_order_acquire) : 0;
  s.ready_ns = im.ready_ns;
  s.fresh_memory = im.map_base != nullptr;
  s.huge_pages = im.huge_pages;
  s.page_faults = done ? im.page_faults.load(std::memory_order_relaxed) : 0;
  s.sections_grown_on_demand = grown_on_demand_.load(std::memory_order_relaxed);
  s.adopted = im.opts.adopt;
  s.faulted = im.faulted.load(std::memory_order_relaxed);
  return s;
}

}  // namespace pmemd
