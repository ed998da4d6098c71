// Google Benchmark microbenchmarks for the memmap: one init strategy or
// write limit per case on a pre-faulted 64 MiB array (1 Mi descriptors, 4 GiB
// of device), and the Get() hot path. pmemd-bench memmap is the end-to-end
// comparison; these are for perf/profiling of one path at a time.
//
//   pmemd_gbench --benchmark_filter=Init
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>

#include "bench.h"
#include "pmemd/log.h"
#include "pmemd/memmap.h"
#include "pmemd/memmap_store.h"

namespace pmemd::bench {
namespace {

constexpr std::size_t kBytes = std::size_t{64} << 20;
constexpr std::uint64_t kPages = kBytes / sizeof(PageDesc);

PrefaultedBuffer& Buffer() {
  static PrefaultedBuffer buf = [] {
    GetLogger("memmap")->set_level(spdlog::level::warn);
    auto b = PrefaultedBuffer::Create(kBytes);
    if (!b.ok()) std::abort();
    return std::move(*b);
  }();
  return buf;
}

void SetBytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(kBytes));
  state.counters["ns_per_desc"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(kPages),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Arg 0: InitStrategy, arg 1: threads.
void BM_Init(benchmark::State& state) {
  const auto strategy = static_cast<InitStrategy>(state.range(0));
  MemMapOptions o;
  o.pages = kPages;
  o.strategy = strategy;
  o.threads = static_cast<unsigned>(state.range(1));
  o.memory = Buffer().data();
  o.memory_bytes = kBytes;
  for (auto _ : state) {
    auto map = MemMap::Create(o);
    if (!map.ok()) {
      state.SkipWithError(map.status().ToString().c_str());
      return;
    }
    (*map)->WaitComplete();
    benchmark::DoNotOptimize((*map)->data());
  }
  state.SetLabel(std::string(InitStrategyName(strategy)));
  SetBytes(state);
}

void InitArgs(benchmark::internal::Benchmark* b) {
  for (InitStrategy s : AllInitStrategies()) {
    for (int t : {1, 2}) b->Args({static_cast<int>(s), t});
  }
}
BENCHMARK(BM_Init)->Apply(InitArgs)->UseRealTime()->Unit(benchmark::kMillisecond);

// Arg 0: threads.
void BM_LimitMemset(benchmark::State& state) {
  const auto threads = static_cast<unsigned>(state.range(0));
  for (auto _ : state) {
    TimeSplit(kBytes, threads, [](std::size_t off, std::size_t n) {
      std::memset(static_cast<char*>(Buffer().data()) + off, 0x5a, n);
    });
  }
  SetBytes(state);
}
BENCHMARK(BM_LimitMemset)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_LimitStreamFill(benchmark::State& state) {
  const auto threads = static_cast<unsigned>(state.range(0));
  for (auto _ : state) {
    TimeSplit(kBytes, threads, [](std::size_t off, std::size_t n) {
      (void)StreamFill(static_cast<char*>(Buffer().data()) + off, n, 0x5a5a5a5a5a5a5a5aULL);
    });
  }
  SetBytes(state);
}
BENCHMARK(BM_LimitStreamFill)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// Time-to-ready of deferred on fresh memory: Create and destroy (the
// destructor stops the background threads early).
void BM_DeferredReady(benchmark::State& state) {
  GetLogger("memmap")->set_level(spdlog::level::warn);
  MemMapOptions o;
  o.pages = static_cast<std::uint64_t>(state.range(0)) << 20;  // Mi descriptors
  o.strategy = InitStrategy::kDeferred;
  for (auto _ : state) {
    const std::uint64_t t0 = NowNs();
    auto map = MemMap::Create(o);
    const std::uint64_t t1 = NowNs();
    if (!map.ok()) {
      state.SkipWithError(map.status().ToString().c_str());
      return;
    }
    state.SetIterationTime(static_cast<double>(t1 - t0) / 1e9);
  }
}
BENCHMARK(BM_DeferredReady)->Arg(4)->Arg(64)->UseManualTime()->Unit(benchmark::kMicrosecond);

// The hot path: Get() on a complete map, sequential pfns.
void BM_GetComplete(benchmark::State& state) {
  static std::unique_ptr<MemMap> map = [] {
    MemMapOptions o;
    o.pages = kPages;
    o.strategy = InitStrategy::kDeferred;
    o.memory = Buffer().data();
    o.memory_bytes = kBytes;
    auto m = MemMap::Create(o);
    if (!m.ok()) std::abort();
    (*m)->WaitComplete();
    return std::move(*m);
  }();
  std::uint64_t pfn = 0, sum = 0;
  for (auto _ : state) {
    sum += map->Get(pfn)->RefCount();
    pfn = (pfn + 1) & (kPages - 1);
  }
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_GetComplete);

}  // namespace
}  // namespace pmemd::bench
