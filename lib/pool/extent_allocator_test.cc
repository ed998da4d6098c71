// ExtentAllocator against a reference model: a page bitmap. Random
// allocate/free sequences must never overlap, never leak, honour the
// alignment and conserve capacity.
#include "extent_allocator.h"

#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace pmemd {
namespace {

constexpr uint64_t kPage = 4096;

TEST(ExtentAllocatorTest, FreeCoalescesAndRefusesDoubleFree) {
  ExtentAllocator a;
  EXPECT_TRUE(a.Free(0, 4 * kPage));
  EXPECT_TRUE(a.Free(8 * kPage, 4 * kPage));
  EXPECT_TRUE(a.Free(4 * kPage, 4 * kPage));
  EXPECT_EQ(a.extent_count(), 1u);
  EXPECT_EQ(a.free_bytes(), 12 * kPage);
  EXPECT_FALSE(a.Free(2 * kPage, kPage)) << "already free";
  EXPECT_EQ(a.free_bytes(), 12 * kPage);
}

TEST(ExtentAllocatorTest, AlignmentAndBestFit) {
  ExtentAllocator a;
  const uint64_t M2 = 2ull << 20;
  ASSERT_TRUE(a.Free(kPage, 3 * M2));          // unaligned start
  ASSERT_TRUE(a.Free(10 * M2, M2));            // an exact 2M hole
  auto off = a.Allocate(M2, M2);
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ(*off, 10 * M2) << "best fit takes the exact hole";
  off = a.Allocate(M2, M2);
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ(*off % M2, 0u);
  EXPECT_EQ(a.MaxExtent(M2), M2);
  ASSERT_TRUE(a.Allocate(M2, M2).has_value());
  EXPECT_EQ(a.MaxExtent(M2), 0u) << "what is left cannot hold an aligned 2M extent";
  EXPECT_EQ(a.free_bytes(), M2) << "the unaligned head and tail";
  EXPECT_FALSE(a.Allocate(M2, M2).has_value());
  EXPECT_EQ(a.Available(kPage), a.free_bytes());
}

TEST(ExtentAllocatorTest, IsolateTakesEveryFreeByteInRange) {
  ExtentAllocator a;
  ASSERT_TRUE(a.Free(0, 100 * kPage));
  ASSERT_TRUE(a.Take(10 * kPage, 5 * kPage));
  auto got = a.Isolate(8 * kPage, 20 * kPage);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (Extent{8 * kPage, 2 * kPage}));
  EXPECT_EQ(got[1], (Extent{15 * kPage, 13 * kPage}));
  EXPECT_EQ(a.free_bytes(), 100 * kPage - 20 * kPage);
  for (const auto& e : got) EXPECT_TRUE(a.Free(e.offset, e.length));
  EXPECT_EQ(a.free_bytes(), 95 * kPage);
}

TEST(ExtentAllocatorTest, RandomSequencesMatchTheReferenceModel) {
  const uint64_t aligns[] = {kPage, 2ull << 20};
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    std::mt19937_64 rng(seed);
    const uint64_t pages = 4096;  // 16 MiB
    std::vector<int> owner(pages, 0);  // the model: 0 free, else allocation id
    ExtentAllocator a;
    ASSERT_TRUE(a.Free(0, pages * kPage));
    std::map<int, std::pair<uint64_t, uint64_t>> live;
    int next = 1;
    for (int step = 0; step < 1000; ++step) {
      if (live.empty() || rng() % 3 != 0) {
        uint64_t align = aligns[rng() % 2];
        uint64_t size = (1 + rng() % (align == kPage ? 200 : 3)) * align;
        auto off = a.Allocate(size, align);
        // The model: is there an aligned free run of that size?
        bool model_fits = false;
        for (uint64_t p = 0; p < pages && !model_fits;) {
          if (owner[p]) {
            ++p;
            continue;
          }
          uint64_t e = p;
          while (e < pages && owner[e] == 0) ++e;
          uint64_t start = (p + align / kPage - 1) / (align / kPage) * (align / kPage);
          model_fits = start + size / kPage <= e;
          p = e;
        }
        ASSERT_EQ(off.has_value(), model_fits) << "seed " << seed << " step " << step;
        if (!off) continue;
        ASSERT_EQ(*off % align, 0u);
        for (uint64_t i = 0; i < size / kPage; ++i) {
          ASSERT_EQ(owner[*off / kPage + i], 0) << "overlap at seed " << seed << " step " << step;
          owner[*off / kPage + i] = next;
        }
        live[next++] = {*off, size};
      } else {
        auto it = live.begin();
        std::advance(it, rng() % live.size());
        for (uint64_t i = 0; i < it->second.second / kPage; ++i) owner[it->second.first / kPage + i] = 0;
        ASSERT_TRUE(a.Free(it->second.first, it->second.second));
        live.erase(it);
      }
      uint64_t model_free = 0;
      for (int o : owner) model_free += o == 0;
      ASSERT_EQ(a.free_bytes(), model_free * kPage) << "capacity not conserved, seed " << seed;
    }
    for (auto& [id, e] : live) ASSERT_TRUE(a.Free(e.first, e.second));
    EXPECT_EQ(a.extent_count(), 1u) << "no leak: everything coalesces back";
    EXPECT_EQ(a.free_bytes(), pages * kPage);
  }
}

}  // namespace
}  // namespace pmemd
