#include "pmemd/memmap.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace pmemd {
namespace {

constexpr std::uint64_t kOwner = 0xabcdef;

MemMapOptions SmallOptions(std::uint64_t pages, InitStrategy strategy, unsigned threads) {
  MemMapOptions o;
  o.pages = pages;
  o.base_pfn = 1000;
  o.section_pages = 64;
  o.owner = kOwner;
  o.node = 3;
  o.strategy = strategy;
  o.threads = threads;
  return o;
}

// The reference array: per-field, one thread, in caller-provided memory.
std::vector<PageDesc> Reference(MemMapOptions o) {
  std::vector<PageDesc> ref(o.pages == 0 ? 1 : o.pages);
  o.strategy = InitStrategy::kPerField;
  o.threads = 1;
  o.trace_hook = nullptr;
  o.memory = ref.data();
  o.memory_bytes = ref.size() * sizeof(PageDesc);
  auto map = MemMap::Create(o);
  EXPECT_TRUE(map.ok()) << map.status().ToString();
  ref.resize(o.pages);
  return ref;
}

// Builds `o` into fresh buffer memory (garbage-filled so that a descriptor
// left unwritten shows) and checks it byte for byte against `ref`.
void ExpectIdentical(MemMapOptions o, const std::vector<PageDesc>& ref, bool own_memory) {
  std::vector<PageDesc> buf(o.pages + 1);
  std::memset(static_cast<void*>(buf.data()), 0xa5, buf.size() * sizeof(PageDesc));
  if (!own_memory) {
    o.memory = buf.data();
    o.memory_bytes = o.pages * sizeof(PageDesc);
  }
  auto map = MemMap::Create(o);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  (*map)->WaitComplete();
  ASSERT_TRUE((*map)->IsComplete());
  if (o.pages > 0) {
    EXPECT_EQ(0, std::memcmp((*map)->data(), ref.data(), o.pages * sizeof(PageDesc)))
        << InitStrategyName(o.strategy) << " threads=" << o.threads << " pages=" << o.pages;
  }
  if (!own_memory) {
    // The descriptor after the array is untouched.
    const auto* tail = reinterpret_cast<const unsigned char*>(&buf[o.pages]);
    for (std::size_t i = 0; i < sizeof(PageDesc); ++i) ASSERT_EQ(tail[i], 0xa5);
  }
  MemMapStats st = (*map)->Stats();
  EXPECT_EQ(st.descriptors, o.pages);
  EXPECT_EQ(st.sections, o.pages == 0 ? 0 : (o.pages + o.section_pages - 1) / o.section_pages);
  EXPECT_EQ(st.strategy, o.strategy);
  EXPECT_FALSE(st.trace_fallback);
  EXPECT_EQ(st.fresh_memory, own_memory && o.pages > 0);
  EXPECT_GT(st.init_ns, 0u);
  EXPECT_LE(st.ready_ns, st.init_ns);
}

TEST(PageDescTest, LayoutIsOneCacheLine) {
  EXPECT_EQ(sizeof(PageDesc), 64u);
  EXPECT_EQ(alignof(PageDesc), 64u);
}

TEST(PageDescTest, AtomicAndPlainFlagAccessorsAgree) {
  PageDesc d{};
  d.SetLinksNonAtomic(5 * PageDesc::kPagesPerMemorySection + 7, 9, PageZone::kMovable);
  EXPECT_EQ(d.Section(), 5u);
  EXPECT_EQ(d.Node(), 9u);
  EXPECT_EQ(d.Zone(), PageZone::kMovable);
  EXPECT_FALSE(d.IsReserved());
  d.SetReserved();
  EXPECT_TRUE(d.IsReserved());
  d.ClearReserved();
  d.SetOfflineNonAtomic();
  EXPECT_TRUE(d.IsOffline());
  EXPECT_FALSE(d.IsReserved());
  d.ClearOfflineNonAtomic();
  d.SetFreeNonAtomic();
  d.SetLeased();
  d.SetHWPoison();
  EXPECT_TRUE(d.IsFree() && d.IsLeased() && d.IsHWPoison());
  EXPECT_TRUE(d.TestAndClearFlag(PageFlag::kFree));
  EXPECT_FALSE(d.TestAndClearFlag(PageFlag::kFree));
  // Flag updates never touch the section/node/zone bits.
  EXPECT_EQ(d.Section(), 5u);
  EXPECT_EQ(d.Node(), 9u);
  EXPECT_TRUE(d.TryLock());
  EXPECT_FALSE(d.TryLock());
  d.Unlock();
  EXPECT_TRUE(d.TryLock());
}

TEST(PageDescTest, RefCountAndMapCount) {
  PageDesc d{};
  d.SetRefCountNonAtomic(1);
  d.IncRef();
  EXPECT_EQ(d.RefCount(), 2);
  EXPECT_FALSE(d.DecRefAndTest());
  EXPECT_TRUE(d.DecRefAndTest());
  EXPECT_FALSE(d.TryIncRefUnlessZero());
  d.SetRefCount(3);
  EXPECT_TRUE(d.TryIncRefUnlessZero());
  EXPECT_EQ(d.RefCount(), 4);
  d.ResetMapCount();
  EXPECT_EQ(d.MapCount(), 0);
  d.SetMapCount(2);
  EXPECT_EQ(d.MapCount(), 2);
}

TEST(PageDescTest, ConcurrentAtomicFlagSetsLoseNothing) {
  PageDesc d{};
  std::thread a([&] { for (int i = 0; i < 1000; ++i) { d.SetLeased(); d.ClearLeased(); } d.SetLeased(); });
  std::thread b([&] { for (int i = 0; i < 1000; ++i) { d.SetFlag(PageFlag::kDirty); d.ClearFlag(PageFlag::kHead); } });
  a.join();
  b.join();
  EXPECT_TRUE(d.IsLeased());
  EXPECT_TRUE(d.TestFlag(PageFlag::kDirty));
}

TEST(InitStrategyTest, NamesRoundTrip) {
  for (InitStrategy s : AllInitStrategies()) {
    auto parsed = ParseInitStrategy(InitStrategyName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  auto bad = ParseInitStrategy("fast");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "unknown init strategy 'fast'; expected one of: per-field, per-field-nonatomic, "
            "template, template-stream, deferred");
}

TEST(MemMapTest, PerFieldDescribesEachPage) {
  MemMapOptions o = SmallOptions(200, InitStrategy::kPerField, 1);
  o.base_pfn = PageDesc::kPagesPerMemorySection * 3 - 100;  // crosses a memory section
  auto ref = Reference(o);
  for (std::uint64_t i = 0; i < o.pages; ++i) {
    const PageDesc& d = ref[i];
    const std::uint64_t pfn = o.base_pfn + i;
    ASSERT_EQ(d.Pfn(), pfn);
    ASSERT_EQ(d.Index(), i);
    ASSERT_EQ(d.Section(), pfn >> PageDesc::kPfnSectionShift);
    ASSERT_EQ(d.Node(), 3u);
    ASSERT_EQ(d.Zone(), PageZone::kDevice);
    ASSERT_EQ(d.Flags() & PageDesc::kFlagMask, PageDesc::FlagBit(PageFlag::kOffline));
    ASSERT_EQ(d.RefCount(), 1);
    ASSERT_EQ(d.MapCount(), 0);
    ASSERT_EQ(d.Owner(), kOwner);
    ASSERT_EQ(d.Private(), 0u);
    ASSERT_TRUE(d.IsListEmpty());
  }
  o.initial_state = PageInitState::kReserved;
  o.initial_refcount = 0;
  auto reserved = Reference(o);
  EXPECT_TRUE(reserved[0].IsReserved());
  EXPECT_FALSE(reserved[0].IsOffline());
  EXPECT_EQ(reserved[0].RefCount(), 0);
}

TEST(MemMapTest, EveryStrategyThreadCountAndSizeMatchesPerField) {
  const std::uint64_t kSection = 64;
  const std::uint64_t sizes[] = {0, 1, 7, kSection - 1, kSection, kSection + 1, 3 * kSection + 5,
                                 10 * kSection};
  for (std::uint64_t pages : sizes) {
    MemMapOptions base = SmallOptions(pages, InitStrategy::kPerField, 1);
    auto ref = Reference(base);
    for (InitStrategy s : AllInitStrategies()) {
      for (unsigned threads : {1u, 2u, 3u}) {
        MemMapOptions o = base;
        o.strategy = s;
        o.threads = threads;
        ExpectIdentical(o, ref, /*own_memory=*/false);
      }
    }
  }
}

TEST(MemMapTest, TemplateFixesSectionBitsAcrossMemorySections) {
  MemMapOptions base = SmallOptions(3 * PageDesc::kPagesPerMemorySection / 64, InitStrategy::kPerField, 1);
  // 1536 pages starting 700 before a memory-section boundary, in odd sections.
  base.base_pfn = 7 * PageDesc::kPagesPerMemorySection - 700;
  base.section_pages = 100;
  auto ref = Reference(base);
  for (InitStrategy s : AllInitStrategies()) {
    MemMapOptions o = base;
    o.strategy = s;
    o.threads = 2;
    ExpectIdentical(o, ref, false);
  }
}

TEST(MemMapTest, EveryStoreWidthMatchesPerField) {
  MemMapOptions base = SmallOptions(333, InitStrategy::kPerField, 1);
  auto ref = Reference(base);
  for (StoreWidth w : {StoreWidth::kPortable, StoreWidth::kSse2, StoreWidth::kAvx2,
                       StoreWidth::kAvx512}) {
    MemMapOptions o = base;
    o.strategy = InitStrategy::kTemplateStream;
    o.store = w;
    if (!StoreWidthSupported(w)) {
      auto map = MemMap::Create(o);
      ASSERT_FALSE(map.ok());
      EXPECT_EQ(map.status().code(), Code::kInvalidArgument);
      EXPECT_NE(map.status().message().find("not supported by this CPU"), std::string::npos);
      continue;
    }
    ExpectIdentical(o, ref, false);
    auto map = MemMap::Create([&] { auto p = o; p.pages = 1; return p; }());
    ASSERT_TRUE(map.ok());
    EXPECT_EQ((*map)->Stats().store, w);
  }
}

TEST(MemMapTest, DefaultSectionSizeAndOwnedMemory) {
  MemMapOptions base;
  base.pages = PageDesc::kPagesPerMemorySection + 1000;  // 2 sections, the last partial
  base.base_pfn = 0;
  base.strategy = InitStrategy::kPerField;
  base.threads = 1;
  auto ref = Reference(base);
  for (InitStrategy s : AllInitStrategies()) {
    for (bool huge : {true, false}) {
      MemMapOptions o = base;
      o.strategy = s;
      o.threads = 2;
      o.huge_pages = huge;
      ExpectIdentical(o, ref, /*own_memory=*/true);
    }
  }
}

TEST(MemMapTest, DefaultsDetectStoreWidthAndUseTemplateStream) {
  MemMapOptions o;
  o.pages = 10;
  auto map = MemMap::Create(o);
  ASSERT_TRUE(map.ok());
  MemMapStats st = (*map)->Stats();
  EXPECT_EQ(st.strategy, InitStrategy::kTemplateStream);
  EXPECT_EQ(st.store, DetectStoreWidth());
  EXPECT_GE(st.threads, 1u);
  EXPECT_TRUE(st.fresh_memory);
}

TEST(MemMapTest, RejectsBadOptionsWithHelpfulMessages) {
  auto expect_invalid = [](MemMapOptions o, std::string_view needle) {
    auto map = MemMap::Create(o);
    ASSERT_FALSE(map.ok()) << needle;
    EXPECT_EQ(map.status().code(), Code::kInvalidArgument);
    EXPECT_NE(map.status().message().find(needle), std::string::npos) << map.status().message();
  };
  MemMapOptions o;
  o.pages = 10;
  o.section_pages = 0;
  expect_invalid(o, "section_pages is 0; use a positive number");
  o = {};
  o.pages = 10;
  o.node = 5000;
  expect_invalid(o, "node 5000 does not fit 10 bits; use at most 1023");
  o = {};
  o.pages = 10;
  o.threads = 100000;
  expect_invalid(o, "threads 100000 is more than 1024");
  o = {};
  o.pages = 10;
  o.base_pfn = PageDesc::kMaxPfn - 3;
  expect_invalid(o, "does not fit the flags word's section bits");
  std::vector<PageDesc> buf(4);
  o = {};
  o.pages = 10;
  o.memory = buf.data();
  o.memory_bytes = buf.size() * sizeof(PageDesc);
  expect_invalid(o, "memory of 256 bytes is too small for 10 descriptors; need 640 bytes");
  o.pages = 2;
  o.memory = reinterpret_cast<char*>(buf.data()) + 8;
  expect_invalid(o, "is not 64-byte aligned");
  o = {};
  o.memory_bytes = 64;
  expect_invalid(o, "memory is null");
}

TEST(MemMapTest, TraceHookSeesEveryRefcountSetAndTemplatesFallBack) {
  for (InitStrategy s : AllInitStrategies()) {
    for (unsigned threads : {1u, 2u}) {
      MemMapOptions o = SmallOptions(3 * 64 + 9, s, threads);
      auto ref = Reference(o);
      std::vector<std::atomic<int>> seen(o.pages);
      std::atomic<int> bad_refcount{0};
      o.trace_hook = [&](std::uint64_t pfn, std::int32_t refcount) {
        seen.at(pfn - o.base_pfn).fetch_add(1, std::memory_order_relaxed);
        if (refcount != 1) bad_refcount.fetch_add(1);
      };
      std::vector<PageDesc> buf(o.pages);
      o.memory = buf.data();
      o.memory_bytes = buf.size() * sizeof(PageDesc);
      auto map = MemMap::Create(o);
      ASSERT_TRUE(map.ok());
      (*map)->WaitComplete();
      for (std::uint64_t i = 0; i < o.pages; ++i) {
        ASSERT_EQ(seen[i].load(), 1) << InitStrategyName(s) << " pfn index " << i;
      }
      EXPECT_EQ(bad_refcount.load(), 0);
      EXPECT_EQ(0, std::memcmp(buf.data(), ref.data(), o.pages * sizeof(PageDesc)));
      MemMapStats st = (*map)->Stats();
      const bool is_template = s == InitStrategy::kTemplate || s == InitStrategy::kTemplateStream;
      EXPECT_EQ(st.trace_fallback, is_template || s == InitStrategy::kDeferred);
      EXPECT_EQ(st.requested_strategy, s);
      EXPECT_EQ(st.strategy, is_template ? InitStrategy::kPerField : s);
      // Later sets through the map are traced too.
      (*map)->SetRefCount((*map)->Get(o.base_pfn + 5), 7);
      EXPECT_EQ(seen[5].load(), 2);
      EXPECT_EQ((*map)->Get(o.base_pfn + 5)->RefCount(), 7);
    }
  }
}

TEST(MemMapTest, EmptyMapIsCompleteAtOnce) {
  MemMapOptions o;
  o.strategy = InitStrategy::kDeferred;
  auto map = MemMap::Create(o);
  ASSERT_TRUE(map.ok());
  EXPECT_TRUE((*map)->IsComplete());
  (*map)->WaitComplete();
  EXPECT_EQ((*map)->Stats().sections, 0u);
  EXPECT_FALSE((*map)->Contains(0));
  EXPECT_TRUE((*map)->WaitReady(0, 0).ok());
  EXPECT_EQ((*map)->WaitReady(0, 1).code(), Code::kInvalidArgument);
}

// Deferred: many readers fetch descriptors while background threads run;
// every reader must see complete descriptors, and the sections a reader
// reaches first are grown on demand.
// Run with the portable store too: its plain stores are what ThreadSanitizer
// can see (it does not instrument streaming-store intrinsics), so under TSan
// that run checks that sections are published before readers use them.
void RunConcurrentReaders(StoreWidth store) {
  MemMapOptions o = SmallOptions(2048 * 16 + 3, InitStrategy::kDeferred, 2);
  o.store = store;
  o.section_pages = 16;
  auto ref = Reference(o);
  std::vector<PageDesc> buf(o.pages);
  o.memory = buf.data();
  o.memory_bytes = buf.size() * sizeof(PageDesc);
  auto created = MemMap::Create(o);
  ASSERT_TRUE(created.ok());
  MemMap& map = **created;
  // The last section is the farthest from both background threads' start:
  // this thread usually reaches it first and grows it (not always: on a busy
  // machine the background threads may get there first; the test below makes
  // on-demand growth certain).
  const std::uint64_t last_pfn = o.base_pfn + o.pages - 1;
  ASSERT_EQ(0, std::memcmp(map.Get(last_pfn), &ref[o.pages - 1], sizeof(PageDesc)));

  std::atomic<int> mismatches{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 8; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(r);
      for (int k = 0; k < 3000; ++k) {
        // Half of the readers walk down from the end, half jump around.
        const std::uint64_t i = r % 2 == 0 ? (o.pages - 1 - (k * 7 + r) % o.pages) : rng() % o.pages;
        const PageDesc* d = map.Get(o.base_pfn + i);
        if (std::memcmp(d, &ref[i], sizeof(PageDesc)) != 0) mismatches.fetch_add(1);
      }
    });
  }
  for (auto& t : readers) t.join();
  map.WaitComplete();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(0, std::memcmp(buf.data(), ref.data(), o.pages * sizeof(PageDesc)));
  MemMapStats st = map.Stats();
  EXPECT_EQ(st.strategy, InitStrategy::kDeferred);
  EXPECT_LE(st.sections_grown_on_demand, st.sections - 1);
  EXPECT_GT(st.init_ns, 0u);
  EXPECT_LE(st.ready_ns, st.init_ns);
  EXPECT_TRUE(map.IsComplete());
}

TEST(MemMapDeferredTest, EverySectionInitializedExactlyOnceUnderContention) {
  MemMapOptions o = SmallOptions(512 * 8, InitStrategy::kDeferred, 2);
  o.section_pages = 8;
  std::vector<std::atomic<int>> sets(o.pages);
  o.trace_hook = [&](std::uint64_t pfn, std::int32_t) {
    sets[pfn - o.base_pfn].fetch_add(1, std::memory_order_relaxed);
  };
  auto created = MemMap::Create(o);
  ASSERT_TRUE(created.ok());
  MemMap& map = **created;
  std::atomic<bool> go{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 8; ++r) {
    readers.emplace_back([&, r] {
      while (!go.load()) std::this_thread::yield();
      // Every reader walks the whole map from a different place, so sections
      // are raced for by readers and background threads alike.
      for (std::uint64_t k = 0; k < o.pages; k += 3) {
        const std::uint64_t i = (k + r * o.pages / 8) % o.pages;
        const PageDesc* d = map.Get(o.base_pfn + i);
        if (d->Pfn() != o.base_pfn + i || d->RefCount() != 1) std::abort();
      }
    });
  }
  go.store(true);
  for (auto& t : readers) t.join();
  map.WaitComplete();
  for (std::uint64_t i = 0; i < o.pages; ++i) ASSERT_EQ(sets[i].load(), 1) << "pfn index " << i;
  EXPECT_TRUE(map.Stats().trace_fallback);
}

TEST(MemMapDeferredTest, ConcurrentReadersSeeOnlyInitializedDescriptors) {
  RunConcurrentReaders(StoreWidth::kPortable);
  RunConcurrentReaders(StoreWidth::kAuto);
}

// The trace hook stalls the one background thread in section 1, so every
// later section must be grown on demand, and a reader of section 1 waits for
// the background thread instead of initializing it a second time.
TEST(MemMapDeferredTest, GrowsOnDemandWhileTheBackgroundThreadIsStalled) {
  MemMapOptions o = SmallOptions(64 * 8, InitStrategy::kDeferred, 1);
  o.section_pages = 8;
  auto ref = Reference(o);
  std::vector<std::atomic<int>> sets(o.pages);
  std::atomic<bool> release{false};
  o.trace_hook = [&](std::uint64_t pfn, std::int32_t) {
    if (pfn == o.base_pfn + 8) {
      while (!release.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    sets[pfn - o.base_pfn].fetch_add(1, std::memory_order_relaxed);
  };
  auto created = MemMap::Create(o);
  ASSERT_TRUE(created.ok());
  MemMap& map = **created;
  for (std::uint64_t i = 2 * 8; i < o.pages; ++i) {
    ASSERT_EQ(0, std::memcmp(map.Get(o.base_pfn + i), &ref[i], sizeof(PageDesc)));
  }
  EXPECT_FALSE(map.IsComplete());
  std::atomic<bool> section1_read{false};
  std::thread reader([&] {
    const PageDesc* d = map.Get(o.base_pfn + 9);  // waits for section 1
    section1_read.store(std::memcmp(d, &ref[9], sizeof(PageDesc)) == 0);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  release.store(true);
  reader.join();
  EXPECT_TRUE(section1_read.load());
  map.WaitComplete();
  EXPECT_EQ(0, std::memcmp(map.data(), ref.data(), o.pages * sizeof(PageDesc)));
  for (std::uint64_t i = 0; i < o.pages; ++i) ASSERT_EQ(sets[i].load(), 1) << "pfn index " << i;
  const std::uint64_t grown = map.Stats().sections_grown_on_demand;
  EXPECT_TRUE(grown == 62 || grown == 63) << grown;  // 63: the reader claimed section 1 first
}

TEST(MemMapDeferredTest, WaitReadyGrowsARangeAndChecksBounds) {
  MemMapOptions o = SmallOptions(64 * 40, InitStrategy::kDeferred, 1);
  auto ref = Reference(o);
  auto created = MemMap::Create(o);
  ASSERT_TRUE(created.ok());
  MemMap& map = **created;
  const std::uint64_t first = o.base_pfn + 64 * 37 + 3;
  ASSERT_TRUE(map.WaitReady(first, 100).ok());
  for (std::uint64_t pfn = first; pfn < first + 100; ++pfn) {
    ASSERT_EQ(0, std::memcmp(map.Get(pfn), &ref[pfn - o.base_pfn], sizeof(PageDesc)));
  }
  Status s = map.WaitReady(o.base_pfn + o.pages - 10, 11);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("outside the memmap [1000, 3560)"), std::string::npos) << s.message();
  EXPECT_EQ(map.WaitReady(o.base_pfn - 1).code(), Code::kInvalidArgument);
  map.WaitComplete();
  EXPECT_EQ(0, std::memcmp(map.data(), ref.data(), o.pages * sizeof(PageDesc)));
}

TEST(MemMapDeferredTest, DestroyWhileBackgroundThreadsRunJoinsThem) {
  for (int round = 0; round < 5; ++round) {
    MemMapOptions o = SmallOptions(64 * 500, InitStrategy::kDeferred, 2);
    auto map = MemMap::Create(o);
    ASSERT_TRUE(map.ok());
    EXPECT_EQ((*map)->Get(o.base_pfn)->Pfn(), o.base_pfn);  // the first section is ready
    // Destroyed here, most likely before the background threads finish.
  }
}

TEST(MemMapDeferredTest, SingleSectionIsCompleteWhenCreateReturns) {
  MemMapOptions o = SmallOptions(10, InitStrategy::kDeferred, 2);
  auto map = MemMap::Create(o);
  ASSERT_TRUE(map.ok());
  EXPECT_TRUE((*map)->IsComplete());
  EXPECT_EQ((*map)->Stats().threads, 0u);
}

}  // namespace
}  // namespace pmemd
