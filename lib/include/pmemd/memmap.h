// The memmap: pmemd's per-page metadata array.
//
// A pool describes every 4 KiB page of its device with one 64-byte PageDesc,
// modelled on the kernel's struct page; the array of them is a MemMap. A
// 256 GiB device has 67,108,864 descriptors (4 GiB of metadata), so building
// the array is the bulk of attaching a device, and MemMap is built to do it at
// the memory-write limit of the machine:
//
//   - InitStrategy chooses how each descriptor is written (the kernel's
//     per-field path, its non-atomic variant, a template copy with only the
//     PFN-dependent words fixed up, or the same with streaming stores), split
//     over N threads by section;
//   - kDeferred makes the array usable after its first section and finishes
//     the rest in background threads, growing a section on demand when Get()
//     reaches one that is not done yet;
//   - the array lives in memory that MemMap maps itself (transparent huge
//     pages, faulted in by the same threads that initialize it) or in memory
//     the caller provides (e.g. a region of a mapped device for map=dev
//     metadata).
//
// Thread safety:
//   - MemMap::Create is a factory; the returned MemMap may be used from any
//     number of threads. Get(), WaitReady(), WaitComplete(), Stats() and
//     SetRefCount() are safe to call concurrently, also while deferred
//     initialization is still running in the background.
//   - A PageDesc pointer obtained from Get() refers to a fully initialized
//     descriptor whose initialization happens-before the return of Get().
//     The descriptor's flags and refcount have atomic accessors (SetReserved,
//     IncRef, ...) that any thread may use; the *NonAtomic accessors and the
//     plain fields (owner, private word, index, list links) are for a thread
//     that owns the descriptor (holds its pool's lock, or the descriptor is
//     not yet published); PageDesc itself does no locking.
//   - Destroying a MemMap stops and joins its background threads; no other
//     thread may use it or its descriptors then.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "pmemd/memmap_store.h"
#include "pmemd/mutex.h"
#include "pmemd/status.h"

namespace pmemd {

// Bit numbers in the low part of PageDesc's flags word.
enum class PageFlag : std::uint8_t {
  kReserved = 0,  // not managed by a pool's allocator (device pages)
  kOffline = 1,   // part of a block that is not online; refcount 1
  kFree = 2,      // in a free list; the private word holds the buddy order
  kLeased = 3,    // handed out to a client; owner() holds the lease id
  kHWPoison = 4,  // media error: never hand out again
  kDirty = 5,     // contents changed since the last flush or scrub
  kLocked = 6,    // a thread holds this descriptor's bit lock (TryLock())
  kHead = 7,      // first page of a multi-page extent
};

// Zone-like bits of the flags word, as the kernel keeps the zone in
// page->flags. Pools use kDevice.
enum class PageZone : std::uint8_t { kNormal = 0, kMovable = 1, kDevice = 2 };

// One 4 KiB page's metadata: 64 bytes, one cache line, like struct page.
//
// The flags word packs, as the kernel does, the memory section (the 128 MiB
// block the PFN falls in) into the top bits, then the node and zone, with the
// per-page flag bits at the bottom:
//
//   63          37 36      27 26  24 23           0
//   | section     | node     | zone | flag bits    |
//
// List links are PFNs, not pointers, so that the array means the same thing
// wherever it is mapped (map=dev metadata lives on the device itself);
// kNoPfn marks an empty link. The refcount and mapcount share a word.
class alignas(64) PageDesc {
 public:
  static constexpr int kFlagBits = 24;
  static constexpr int kZoneShift = 24;
  static constexpr int kZoneBits = 3;
  static constexpr int kNodeShift = 27;
  static constexpr int kNodeBits = 10;
  static constexpr int kSectionShift = 37;
  static constexpr int kSectionBits = 27;
  // A memory section (hotplug block) is 2^15 pages = 128 MiB, as on x86-64.
  static constexpr int kPfnSectionShift = 15;
  static constexpr std::uint64_t kPagesPerMemorySection = std::uint64_t{1} << kPfnSectionShift;
  static constexpr std::uint64_t kMaxNode = (std::uint64_t{1} << kNodeBits) - 1;
  // The largest PFN whose section number fits the flags word.
  static constexpr std::uint64_t kMaxPfn =
      (std::uint64_t{1} << (kSectionBits + kPfnSectionShift)) - 1;
  static constexpr std::uint64_t kFlagMask = (std::uint64_t{1} << kFlagBits) - 1;
  static constexpr std::uint64_t kNoPfn = ~std::uint64_t{0};

  static constexpr std::uint64_t FlagBit(PageFlag f) {
    return std::uint64_t{1} << static_cast<unsigned>(f);
  }
  static constexpr std::uint64_t MemorySection(std::uint64_t pfn) {
    return pfn >> kPfnSectionShift;
  }
  // The non-flag bits of the flags word for a page at `pfn`.
  static constexpr std::uint64_t LinkBits(std::uint64_t pfn, std::uint32_t node, PageZone zone) {
    return (MemorySection(pfn) << kSectionShift) |
           (std::uint64_t{node} << kNodeShift) |
           (std::uint64_t{static_cast<std::uint8_t>(zone)} << kZoneShift);
  }

  // --- Flags word -------------------------------------------------------
  // Atomic forms: a relaxed locked read-modify-write of the flags word, like
  // the kernel's set_bit(); safe against concurrent flag updates.
  bool TestFlag(PageFlag f) const { return (Flags() & FlagBit(f)) != 0; }
  void SetFlag(PageFlag f) { FlagsRef().fetch_or(FlagBit(f), std::memory_order_relaxed); }
  void ClearFlag(PageFlag f) { FlagsRef().fetch_and(~FlagBit(f), std::memory_order_relaxed); }
  // Returns the old value; acquire/release ordered like test_and_set_bit().
  bool TestAndSetFlag(PageFlag f) {
    return (FlagsRef().fetch_or(FlagBit(f), std::memory_order_acq_rel) & FlagBit(f)) != 0;
  }
  bool TestAndClearFlag(PageFlag f) {
    return (FlagsRef().fetch_and(~FlagBit(f), std::memory_order_acq_rel) & FlagBit(f)) != 0;
  }
  // Non-atomic forms (plain |= and &=, like __SetPageReserved): ONLY for a
  // descriptor no other thread can see yet (during initialization) or one
  // whose flags every other thread leaves alone. Mixing them with concurrent
  // atomic updates loses bits.
  void SetFlagNonAtomic(PageFlag f) { flags_ |= FlagBit(f); }
  void ClearFlagNonAtomic(PageFlag f) { flags_ &= ~FlagBit(f); }

  // The whole word (atomic relaxed load) and its fields.
  std::uint64_t Flags() const { return FlagsRef().load(std::memory_order_relaxed); }
  std::uint64_t Section() const { return Flags() >> kSectionShift; }
  std::uint32_t Node() const {
    return static_cast<std::uint32_t>((Flags() >> kNodeShift) & kMaxNode);
  }
  PageZone Zone() const {
    return static_cast<PageZone>((Flags() >> kZoneShift) & ((1u << kZoneBits) - 1));
  }
  // Replaces the section/node/zone bits with plain stores, like the kernel's
  // set_page_links(): initialization only.
  void SetLinksNonAtomic(std::uint64_t pfn, std::uint32_t node, PageZone zone) {
    flags_ = (flags_ & kFlagMask) | LinkBits(pfn, node, zone);
  }

  bool IsReserved() const { return TestFlag(PageFlag::kReserved); }
  void SetReserved() { SetFlag(PageFlag::kReserved); }
  void ClearReserved() { ClearFlag(PageFlag::kReserved); }
  void SetReservedNonAtomic() { SetFlagNonAtomic(PageFlag::kReserved); }
  void ClearReservedNonAtomic() { ClearFlagNonAtomic(PageFlag::kReserved); }

  bool IsOffline() const { return TestFlag(PageFlag::kOffline); }
  void SetOffline() { SetFlag(PageFlag::kOffline); }
  void ClearOffline() { ClearFlag(PageFlag::kOffline); }
  void SetOfflineNonAtomic() { SetFlagNonAtomic(PageFlag::kOffline); }
  void ClearOfflineNonAtomic() { ClearFlagNonAtomic(PageFlag::kOffline); }

  bool IsFree() const { return TestFlag(PageFlag::kFree); }
  void SetFree() { SetFlag(PageFlag::kFree); }
  void ClearFree() { ClearFlag(PageFlag::kFree); }
  void SetFreeNonAtomic() { SetFlagNonAtomic(PageFlag::kFree); }
  void ClearFreeNonAtomic() { ClearFlagNonAtomic(PageFlag::kFree); }

  bool IsLeased() const { return TestFlag(PageFlag::kLeased); }
  void SetLeased() { SetFlag(PageFlag::kLeased); }
  void ClearLeased() { ClearFlag(PageFlag::kLeased); }
  void SetLeasedNonAtomic() { SetFlagNonAtomic(PageFlag::kLeased); }
  void ClearLeasedNonAtomic() { ClearFlagNonAtomic(PageFlag::kLeased); }

  bool IsHWPoison() const { return TestFlag(PageFlag::kHWPoison); }
  void SetHWPoison() { SetFlag(PageFlag::kHWPoison); }
  void ClearHWPoison() { ClearFlag(PageFlag::kHWPoison); }
  void SetHWPoisonNonAtomic() { SetFlagNonAtomic(PageFlag::kHWPoison); }
  void ClearHWPoisonNonAtomic() { ClearFlagNonAtomic(PageFlag::kHWPoison); }

  // A bit lock on the descriptor (PageFlag::kLocked): acquire on success,
  // release on Unlock().
  bool TryLock() { return !TestAndSetFlag(PageFlag::kLocked); }
  void Unlock() { FlagsRef().fetch_and(~FlagBit(PageFlag::kLocked), std::memory_order_release); }

  // --- Reference count --------------------------------------------------
  // Atomic forms. SetRefCount is a relaxed store, like the kernel's
  // set_page_count(); it does not fire the page-ref trace hook, which
  // belongs to the MemMap (use MemMap::SetRefCount for traced sets).
  std::int32_t RefCount() const { return RefRef().load(std::memory_order_relaxed); }
  void SetRefCount(std::int32_t v) { RefRef().store(v, std::memory_order_relaxed); }
  void IncRef() { RefRef().fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; true when it was the last (acquire/release ordered,
  // so the caller may then reuse the page).
  bool DecRefAndTest() { return RefRef().fetch_sub(1, std::memory_order_acq_rel) == 1; }
  // Takes a reference unless the count is zero (the page is being freed).
  bool TryIncRefUnlessZero() {
    std::int32_t v = RefRef().load(std::memory_order_relaxed);
    while (v != 0) {
      if (RefRef().compare_exchange_weak(v, v + 1, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  // Plain store: ONLY for a descriptor no other thread can see yet.
  void SetRefCountNonAtomic(std::int32_t v) { refcount_ = v; }

  // Number of mappings; stored biased by -1 as the kernel's _mapcount.
  std::int32_t MapCount() const { return mapcount_ + 1; }
  void ResetMapCount() { mapcount_ = -1; }
  void SetMapCount(std::int32_t v) { mapcount_ = v - 1; }

  // --- Plain fields (owner's lock) --------------------------------------
  // The pool or lease that owns the page (0: none).
  std::uint64_t Owner() const { return owner_; }
  void SetOwner(std::uint64_t owner) { owner_ = owner; }
  // The private word: the buddy order while PageFlag::kFree is set, else the
  // owner's.
  std::uint64_t Private() const { return private_; }
  void SetPrivate(std::uint64_t v) { private_ = v; }
  unsigned BuddyOrder() const { return static_cast<unsigned>(private_); }
  void SetBuddyOrder(unsigned order) { private_ = order; }
  // The page's index within its device (pfn - base pfn of the MemMap).
  std::uint64_t Index() const { return index_; }
  void SetIndex(std::uint64_t v) { index_ = v; }
  std::uint64_t Pfn() const { return pfn_; }
  void SetPfn(std::uint64_t v) { pfn_ = v; }
  // Free-list links (PFNs; kNoPfn for none).
  std::uint64_t Next() const { return next_; }
  std::uint64_t Prev() const { return prev_; }
  void SetNext(std::uint64_t pfn) { next_ = pfn; }
  void SetPrev(std::uint64_t pfn) { prev_ = pfn; }
  void InitListLinks() { next_ = prev_ = kNoPfn; }
  bool IsListEmpty() const { return next_ == kNoPfn && prev_ == kNoPfn; }

 private:
  friend struct PageDescLayout;

  std::atomic_ref<std::uint64_t> FlagsRef() const {
    return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(flags_));
  }
  std::atomic_ref<std::int32_t> RefRef() const {
    return std::atomic_ref<std::int32_t>(const_cast<std::int32_t&>(refcount_));
  }

  // Word 0. PFN-dependent: section bits.
  std::uint64_t flags_;
  // Word 1.
  std::int32_t refcount_;
  std::int32_t mapcount_;
  // Words 2-3.
  std::uint64_t owner_;
  std::uint64_t private_;
  // Word 4. PFN-dependent.
  std::uint64_t index_;
  // Words 5-6.
  std::uint64_t next_;
  std::uint64_t prev_;
  // Word 7. PFN-dependent.
  std::uint64_t pfn_;
};

static_assert(sizeof(PageDesc) == 64, "PageDesc must be one 64-byte cache line");
static_assert(alignof(PageDesc) == 64, "PageDesc must be cache-line aligned");
static_assert(std::is_trivially_copyable_v<PageDesc>, "PageDesc is copied as bytes");
static_assert(std::is_standard_layout_v<PageDesc>, "PageDesc has a fixed layout");

// How descriptors are written. Every strategy produces byte-identical arrays.
enum class InitStrategy {
  // The kernel's original path: zero the descriptor, then set each field;
  // flags with atomic read-modify-writes (a locked `or` per flag).
  kPerField,
  // The same with plain stores for flags and refcount, as the array is
  // private during initialization (the kernel's __SetPageReserved change).
  kPerFieldNonAtomic,
  // One template built by the per-field path, copied into every descriptor
  // with only the PFN-dependent words (section bits, index, pfn) fixed up.
  kTemplate,
  // The template copy with streaming stores of the detected width and one
  // fence per thread at the end.
  kTemplateStream,
  // The first section synchronously, the rest (template-stream) by
  // background threads; Get() grows a missing section on demand.
  kDeferred,
};

// "per-field", "per-field-nonatomic", "template", "template-stream", "deferred".
std::string_view InitStrategyName(InitStrategy strategy);
// The inverse; an unknown name is an InvalidArgument listing the known ones.
Result<InitStrategy> ParseInitStrategy(std::string_view name);
// Every strategy, in the order above.
const std::vector<InitStrategy>& AllInitStrategies();

// The state a descriptor starts in.
enum class PageInitState {
  // Hotplugged memory: PageFlag::kOffline, refcount 1. Onlining clears
  // Offline, drops the refcount to 0 and frees the page. Pools use this.
  kOffline,
  // Device (ZONE_DEVICE) pages: PageFlag::kReserved, refcount 1.
  kReserved,
};

// Called with (pfn, refcount) for every refcount set, like the kernel's
// page_ref_set tracepoint. Called from the initializing threads (several at
// once when threads > 1 or deferred), so it must be thread-safe; it may run
// under the MemMap's growth lock, so it must not call back into the MemMap.
using PageRefTraceHook = std::function<void(std::uint64_t pfn, std::int32_t refcount)>;

struct MemMapOptions {
  // Number of descriptors (4 KiB pages). 0 gives an empty map.
  std::uint64_t pages = 0;
  // PFN of the first page; descriptor i describes base_pfn + i.
  std::uint64_t base_pfn = 0;
  // Initialization unit (threads split work by section, deferred grows by
  // section), in descriptors: 32768 = 128 MiB of device, 2 MiB of metadata.
  std::uint64_t section_pages = PageDesc::kPagesPerMemorySection;

  PageInitState initial_state = PageInitState::kOffline;
  std::int32_t initial_refcount = 1;
  std::uint64_t owner = 0;  // pool id written into every descriptor
  std::uint32_t node = 0;   // at most PageDesc::kMaxNode
  PageZone zone = PageZone::kDevice;

  InitStrategy strategy = InitStrategy::kTemplateStream;
  // Initializing threads (the caller counts as one for eager strategies;
  // deferred starts this many background threads). 0: one per CPU.
  unsigned threads = 0;
  // Streaming store width for template-stream and deferred; kAuto detects.
  StoreWidth store = StoreWidth::kAuto;

  // When set, every refcount set during initialization calls it, and the
  // template strategies fall back to per-field (a copy would bypass it).
  PageRefTraceHook trace_hook;

  // Memory the MemMap maps itself: transparent huge pages when true
  // (MADV_HUGEPAGE), 4 KiB pages (MADV_NOHUGEPAGE) when false. Either way
  // pages are faulted in by the threads that initialize them.
  bool huge_pages = true;
  // Caller-provided memory (e.g. a region of a mapped device): at least
  // pages * 64 bytes, 64-byte aligned, kept alive and not otherwise used
  // until the MemMap is destroyed. nullptr: the MemMap maps its own.
  void* memory = nullptr;
  std::size_t memory_bytes = 0;
  // The caller-provided memory already holds this map's descriptors, all
  // initialized (a pool's memmap dev area after a clean detach): nothing is
  // written and the map is complete at once, whatever the strategy.
  bool adopt = false;
  // Runs fn(arg), a fill of part of the caller-provided memory, and returns
  // false when an access faulted and cut it short (a pool passes its media
  // guard: a truncated file or a media error). Every initializing thread
  // calls it for its own fills. A map whose fill faulted reports it in
  // Stats().faulted and its descriptors are not to be trusted.
  std::function<bool(void (*fn)(void*), void* arg)> guard;
};

struct MemMapStats {
  InitStrategy strategy = InitStrategy::kTemplateStream;            // what ran
  InitStrategy requested_strategy = InitStrategy::kTemplateStream;  // what was asked
  bool trace_fallback = false;  // a template strategy fell back to per-field for tracing
  unsigned threads = 0;         // initializing threads actually used
  StoreWidth store = StoreWidth::kPortable;  // width of the template copies
  std::uint64_t descriptors = 0;
  std::uint64_t sections = 0;
  // Create() start to every descriptor initialized (0 while deferred
  // initialization is still running).
  std::uint64_t init_ns = 0;
  // Create() start to the map being usable (== init_ns unless deferred).
  std::uint64_t ready_ns = 0;
  // The MemMap mapped its own memory, so initialization faulted it in and
  // init_ns includes the page faults; false for caller-provided memory.
  bool fresh_memory = false;
  bool huge_pages = false;  // MADV_HUGEPAGE was requested
  // Page faults taken by the process while initializing (getrusage; counts
  // other threads' faults too). 0 while deferred initialization runs.
  std::uint64_t page_faults = 0;
  std::uint64_t sections_grown_on_demand = 0;
  bool adopted = false;  // MemMapOptions::adopt: nothing was written
  bool faulted = false;  // a guarded fill faulted (MemMapOptions::guard)
};

class MemMap {
 public:
  // Builds and initializes the array (or, for kDeferred, its first section,
  // leaving the rest to background threads). Logs one info line on the
  // "memmap" logger when every descriptor is initialized.
  static Result<std::unique_ptr<MemMap>> Create(const MemMapOptions& options);

  ~MemMap();
  MemMap(const MemMap&) = delete;
  MemMap& operator=(const MemMap&) = delete;

  // The descriptor of `pfn` (precondition: Contains(pfn)), initialized. The
  // hot path: once every section is done this is one never-taken branch and
  // an index; while deferred initialization runs it grows the section on
  // demand if needed (waiting if a background thread is on it).
  PageDesc* Get(std::uint64_t pfn) {
    if (!all_ready_.load(std::memory_order_acquire)) [[unlikely]] {
      EnsureSection((pfn - base_pfn_) / section_pages_);
    }
    return descs_ + (pfn - base_pfn_);
  }

  bool Contains(std::uint64_t pfn) const { return pfn - base_pfn_ < pages_; }
  std::uint64_t base_pfn() const { return base_pfn_; }
  std::uint64_t pages() const { return pages_; }
  std::uint64_t sections() const { return sections_; }
  std::uint64_t section_pages() const { return section_pages_; }
  std::uint64_t PfnOf(const PageDesc* desc) const {
    return base_pfn_ + static_cast<std::uint64_t>(desc - descs_);
  }
  // The raw array, for bulk readers: only after WaitComplete() (or for an
  // eager strategy) is every element initialized.
  const PageDesc* data() const { return descs_; }

  // Makes sure every descriptor of [pfn, pfn + count) is initialized,
  // growing sections on demand; InvalidArgument if the range is outside the
  // map. Returns at once when initialization is complete.
  Status WaitReady(std::uint64_t pfn, std::uint64_t count = 1);
  // Blocks until every section is initialized.
  void WaitComplete();
  bool IsComplete() const { return all_ready_.load(std::memory_order_acquire); }

  // Sets a descriptor's refcount and reports it to the trace hook if set.
  void SetRefCount(PageDesc* desc, std::int32_t v);

  MemMapStats Stats() const;

 private:
  struct Impl;
  explicit MemMap(std::unique_ptr<Impl> impl);

  void EnsureSection(std::uint64_t section);
  void GrowOnDemand(std::uint64_t section);
  void InitSection(std::uint64_t section);
  // Marks a section ready and, for the last one, the whole map.
  void PublishSection(std::uint64_t section);
  void RunEager();
  void StartDeferred();
  void BackgroundWorker(std::uint64_t first, std::uint64_t last);
  void FinishInit();

  // Hot-path members first.
  std::atomic<bool> all_ready_{false};
  PageDesc* descs_ = nullptr;
  std::uint64_t base_pfn_ = 0;
  std::uint64_t section_pages_ = 1;
  std::uint64_t pages_ = 0;
  std::uint64_t sections_ = 0;

  std::unique_ptr<Impl> impl_;

  // Deferred initialization. Per section: kUninit -> kClaimed (one thread
  // won the claim) -> kReady (published with release).
  std::unique_ptr<std::atomic<std::uint8_t>[]> section_state_;
  std::atomic<std::uint64_t> sections_ready_{0};
  std::atomic<std::uint64_t> grown_on_demand_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> start_gate_{false};  // opened when the first section is done
  Mutex mu_;    // serializes on-demand growth; guards cv_ waits
  CondVar cv_;  // a section became ready
  std::vector<std::thread> workers_;
};

}  // namespace pmemd
