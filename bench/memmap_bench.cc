// pmemd-bench memmap: how fast the per-page metadata array initializes,
// against the write limit of this machine measured in the same run.
//
// For every size: one pre-faulted THP buffer; per round, for every thread
// count, the two limits (memset of a non-zero byte, a streaming fill of a
// non-zero pattern) and every init strategy write that same buffer, round
// robin, so that drift hits every row alike; medians over the rounds. Then
// the end-to-end rows build MemMaps on fresh memory (mmap, page faults and
// init), with 4 KiB pages on one thread against the default set-up, and the
// time-to-ready of deferred. Finally the targets from the design issue are
// checked against the largest size (docs/performance.md).
#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench.h"
#include "pmemd/log.h"
#include "pmemd/memmap.h"
#include "pmemd/memmap_store.h"

namespace pmemd::bench {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::uint64_t kDescBytes = sizeof(PageDesc);
constexpr std::uint64_t kDevicePerDesc = 4096;

const std::vector<OptionSpec> kFlags = {
    {0, "sizes", "sizes", ArgKind::kText, "descriptor-array sizes (default 256M,1G,4G = 16, 64, 256 GiB of device)",
     "LIST"},
    {0, "repeats", "repeats", ArgKind::kNumber, "rounds per size; medians are reported (default 7)"},
    {0, "threads", "threads", ArgKind::kText, "thread counts (default 1,<CPUs>)", "LIST"},
    {0, "strategies", "strategies", ArgKind::kText,
     "init strategies (default all: per-field, per-field-nonatomic, template, template-stream, deferred)", "LIST"},
    {0, "no-e2e", "no-e2e", ArgKind::kNone, "skip the end-to-end rows on fresh memory"},
    {0, "e2e-repeats", "e2e-repeats", ArgKind::kNumber, "rounds of the end-to-end rows (default 3)"},
    {0, "no-warm", "no-warm", ArgKind::kNone, "do not touch and free the memory before each end-to-end row"},
    {0, "verify", "verify", ArgKind::kNone, "check every array against per-field byte for byte"},
    {0, "quick", "quick", ArgKind::kNone, "smoke run: --sizes 4M --repeats 1 --e2e-repeats 1 --verify (flags given win)"},
    {0, "check", "check", ArgKind::kNone, "exit 1 when a target is missed"},
    {0, "json", "json", ArgKind::kNone, "one JSON object instead of the tables"},
    {0, "verbose", "verbose", ArgKind::kNone, "keep the memmap logger's info lines"},
};

std::string Usage() { return FlagUsage("memmap [flags]", kFlags); }

struct Config {
  std::vector<std::uint64_t> sizes{256ull << 20, 1ull << 30, 4ull << 30};
  unsigned repeats = 7;
  unsigned e2e_repeats = 3;
  // Before each end-to-end row, map, touch and free as much memory as the row
  // will use. On a VM whose balloon reports free pages to the host, memory
  // freed a few seconds earlier has been handed back and its next first
  // touch also pays a host-side fault (several seconds per GiB here); the
  // warm-up makes the rows measure the guest's page faults, reproducibly.
  bool warm = true;
  std::vector<unsigned> threads;
  std::vector<InitStrategy> strategies = AllInitStrategies();
  bool e2e = true, verify = false, quick = false, check = false, json = false, verbose = false;
};

// One measured variant on the pre-faulted buffer.
struct Row {
  std::string name;
  bool limit = false;
  unsigned threads = 1;
  std::vector<double> ns;        // to completion
  std::vector<double> ready_ns;  // deferred only
};

// One end-to-end set-up on fresh memory.
struct E2eRow {
  std::string name;
  bool huge_pages = true;
  unsigned threads = 1;  // 0: default (one per CPU)
  InitStrategy strategy = InitStrategy::kTemplateStream;
  bool is_default = false;
  std::vector<double> ns, ready_ns;
  std::uint64_t faults = 0;
  unsigned threads_used = 0;
};

struct SizeResult {
  std::uint64_t bytes = 0, pages = 0;
  std::vector<Row> rows;
  std::vector<E2eRow> e2e;
  // Deferred time-to-ready on fresh memory, default set-up: many cheap
  // samples (each map is destroyed as soon as it is ready, which stops its
  // background threads), as one sample is easily disturbed on a shared box.
  std::vector<double> ready_ns;
};

constexpr unsigned kReadySamples = 21;

double Gbps(std::uint64_t bytes, double ns) { return ns > 0 ? static_cast<double>(bytes) / ns : 0; }

Status ParseArgs(const std::vector<std::string>& args, Config* cfg, bool* help) {
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  cfg->threads = cpus > 1 ? std::vector<unsigned>{1, cpus} : std::vector<unsigned>{1};
  PMEMD_ASSIGN_OR_RETURN(Flags f, Flags::Parse(kFlags, args));
  *help = f.help();
  const bool sizes_set = f.Has("sizes"), repeats_set = f.Has("repeats"), e2e_repeats_set = f.Has("e2e-repeats");
  if (sizes_set) {
    PMEMD_ASSIGN_OR_RETURN(cfg->sizes, ParseSizeList(f.Value("sizes")));
  }
  if (repeats_set) {
    PMEMD_ASSIGN_OR_RETURN(cfg->repeats, f.Count("repeats"));
  }
  if (e2e_repeats_set) {
    PMEMD_ASSIGN_OR_RETURN(cfg->e2e_repeats, f.Count("e2e-repeats"));
  }
  if (f.Has("threads")) {
    PMEMD_ASSIGN_OR_RETURN(cfg->threads, ParseCountList(f.Value("threads")));
  }
  if (f.Has("strategies")) {
    PMEMD_ASSIGN_OR_RETURN(cfg->strategies, f.List<InitStrategy>("strategies", ParseInitStrategy));
  }
  cfg->warm = !f.Has("no-warm");
  cfg->e2e = !f.Has("no-e2e");
  cfg->verify = f.Has("verify");
  cfg->quick = f.Has("quick");
  cfg->check = f.Has("check");
  cfg->json = f.Has("json");
  cfg->verbose = f.Has("verbose");
  if (cfg->quick) {
    if (!sizes_set) cfg->sizes = {4ull << 20};
    if (!repeats_set) cfg->repeats = 1;
    if (!e2e_repeats_set) cfg->e2e_repeats = 1;
    cfg->verify = true;
  }
  std::sort(cfg->threads.begin(), cfg->threads.end());
  cfg->threads.erase(std::unique(cfg->threads.begin(), cfg->threads.end()), cfg->threads.end());
  for (std::uint64_t s : cfg->sizes) {
    if (s % kDescBytes != 0) {
      return Status::InvalidArgument("size " + std::to_string(s) +
                                     " is not a multiple of the 64-byte descriptor; use e.g. 256M");
    }
  }
  return Status::Ok();
}

// Builds a MemMap of `pages` in `memory` (nullptr: fresh memory of its own)
// and returns it with the wall time to ready and to complete.
struct Timed {
  std::unique_ptr<MemMap> map;
  double ready_ns = 0, ns = 0;
};

Result<Timed> TimeCreate(MemMapOptions o) {
  const std::uint64_t t0 = NowNs();
  auto map = MemMap::Create(o);
  const std::uint64_t t1 = NowNs();
  if (!map.ok()) return map.status();
  (*map)->WaitComplete();
  const std::uint64_t t2 = NowNs();
  return Timed{std::move(*map), static_cast<double>(t1 - t0), static_cast<double>(t2 - t0)};
}

Status VerifyAgainst(const void* got, const std::vector<PageDesc>& ref, const std::string& what) {
  if (std::memcmp(got, ref.data(), ref.size() * kDescBytes) == 0) return Status::Ok();
  return Status::Internal(what + " produced an array that differs from per-field");
}

Result<SizeResult> RunSize(const Config& cfg, std::uint64_t bytes) {
  SizeResult res;
  res.bytes = bytes;
  res.pages = bytes / kDescBytes;
  PMEMD_ASSIGN_OR_RETURN(PrefaultedBuffer buf, PrefaultedBuffer::Create(bytes));

  std::vector<PageDesc> ref;
  if (cfg.verify) {
    ref.resize(res.pages);
    MemMapOptions o;
    o.pages = res.pages;
    o.strategy = InitStrategy::kPerField;
    o.threads = 1;
    o.memory = ref.data();
    o.memory_bytes = bytes;
    auto map = MemMap::Create(o);
    if (!map.ok()) return map.status();
  }

  for (unsigned t : cfg.threads) {
    res.rows.push_back({"memset", true, t, {}, {}});
    res.rows.push_back({"nt-fill", true, t, {}, {}});
    for (InitStrategy s : cfg.strategies) {
      res.rows.push_back({std::string(InitStrategyName(s)), false, t, {}, {}});
    }
  }
  for (unsigned r = 0; r < cfg.repeats; ++r) {
    for (Row& row : res.rows) {
      if (row.name == "memset") {
        row.ns.push_back(static_cast<double>(TimeSplit(bytes, row.threads, [&](std::size_t off, std::size_t n) {
          std::memset(static_cast<char*>(buf.data()) + off, 0x5a, n);
        })));
        continue;
      }
      if (row.name == "nt-fill") {
        row.ns.push_back(static_cast<double>(TimeSplit(bytes, row.threads, [&](std::size_t off, std::size_t n) {
          (void)StreamFill(static_cast<char*>(buf.data()) + off, n, 0x5a5a5a5a5a5a5a5aULL);
        })));
        continue;
      }
      MemMapOptions o;
      o.pages = res.pages;
      PMEMD_ASSIGN_OR_RETURN(o.strategy, ParseInitStrategy(row.name));
      o.threads = row.threads;
      o.memory = buf.data();
      o.memory_bytes = bytes;
      PMEMD_ASSIGN_OR_RETURN(Timed timed, TimeCreate(o));
      row.ns.push_back(timed.ns);
      row.ready_ns.push_back(timed.ready_ns);
      if (cfg.verify) {
        PMEMD_RETURN_IF_ERROR(VerifyAgainst(buf.data(), ref,
                                            row.name + " with " + std::to_string(row.threads) + " threads"));
      }
    }
  }

  if (!cfg.e2e) return res;
  { PrefaultedBuffer drop = std::move(buf); }  // give its memory back before the fresh maps
  res.e2e = {
      {"4 KiB pages, template-stream", false, 1, InitStrategy::kTemplateStream, false, {}, {}, 0, 0},
      {"4 KiB pages, template", false, 1, InitStrategy::kTemplate, false, {}, {}, 0, 0},
      {"THP, template-stream", true, 1, InitStrategy::kTemplateStream, false, {}, {}, 0, 0},
      {"THP, template-stream (default set-up)", true, 0, InitStrategy::kTemplateStream, true, {}, {}, 0, 0},
      {"THP, template, default threads", true, 0, InitStrategy::kTemplate, false, {}, {}, 0, 0},
      {"THP, deferred (default threads)", true, 0, InitStrategy::kDeferred, false, {}, {}, 0, 0},
  };
  for (unsigned r = 0; r < cfg.e2e_repeats; ++r) {
    for (E2eRow& row : res.e2e) {
      if (cfg.warm) {
        PMEMD_ASSIGN_OR_RETURN(PrefaultedBuffer warm, PrefaultedBuffer::Create(bytes));
      }
      MemMapOptions o;
      o.pages = res.pages;
      o.strategy = row.strategy;
      o.threads = row.threads;
      o.huge_pages = row.huge_pages;
      PMEMD_ASSIGN_OR_RETURN(Timed timed, TimeCreate(o));
      row.ns.push_back(timed.ns);
      row.ready_ns.push_back(timed.ready_ns);
      const MemMapStats st = timed.map->Stats();
      row.faults = st.page_faults;
      row.threads_used = st.threads;
      if (cfg.verify) {
        PMEMD_RETURN_IF_ERROR(VerifyAgainst(timed.map->data(), ref, "end-to-end " + row.name));
      }
    }
  }
  // Time-to-ready series. The first sample only warms up (thread stacks,
  // the allocator); the memory each sample touches is freed and reused by
  // the next.
  for (unsigned r = 0; r <= (cfg.quick ? 3 : kReadySamples); ++r) {
    MemMapOptions o;
    o.pages = res.pages;
    o.strategy = InitStrategy::kDeferred;
    const std::uint64_t t0 = NowNs();
    auto map = MemMap::Create(o);
    const std::uint64_t t1 = NowNs();
    if (!map.ok()) return map.status();
    if (r > 0) res.ready_ns.push_back(static_cast<double>(t1 - t0));
  }
  return res;
}

const Row* FindRow(const SizeResult& s, std::string_view name, unsigned threads) {
  for (const Row& r : s.rows) {
    if (r.name == name && r.threads == threads) return &r;
  }
  return nullptr;
}

struct Target {
  std::string name;
  std::string rule;  // ">= 0.9"
  std::optional<double> measured;
  double bound = 0;
  bool at_least = true;
  std::string note;
  bool met() const { return measured && (at_least ? *measured >= bound : *measured <= bound); }
};

std::vector<Target> CheckTargets(const Config& cfg, const std::vector<SizeResult>& sizes) {
  std::vector<Target> targets;
  if (sizes.empty()) return targets;
  const SizeResult& big = sizes.back();
  const SizeResult& small = sizes.front();
  const unsigned tmax = cfg.threads.back();
  auto median = [](const std::vector<double>& v) { return Median(v); };
  const std::string at = " (" + HumanBytes(big.bytes) + ")";

  {
    Target t{"template-stream 1 thread, throughput / nt-fill 1 thread" + at, ">= 0.90", {}, 0.9, true, ""};
    const Row* ts = FindRow(big, "template-stream", 1);
    const Row* nt = FindRow(big, "nt-fill", 1);
    if (ts && nt) t.measured = median(nt->ns) / median(ts->ns);
    targets.push_back(t);
  }
  {
    Target t{"per-field time / template-stream time, 1 thread" + at, ">= 3.00", {}, 3.0, true, ""};
    const Row* pf = FindRow(big, "per-field", 1);
    const Row* ts = FindRow(big, "template-stream", 1);
    if (pf && ts) t.measured = median(pf->ns) / median(ts->ns);
    targets.push_back(t);
  }
  {
    Target t{"template-stream " + std::to_string(tmax) + " threads / 1 thread, throughput" + at,
             ">= 1.70", {}, 1.7, true, ""};
    const Row* t1 = FindRow(big, "template-stream", 1);
    const Row* tn = FindRow(big, "template-stream", tmax);
    if (t1 && tn && tmax > 1) t.measured = median(t1->ns) / median(tn->ns);
    targets.push_back(t);
  }
  {
    Target t{"deferred time-to-ready, " + HumanBytes(big.bytes) + " / " + HumanBytes(small.bytes) +
                 " (fresh memory, default set-up)",
             "<= 1.50", {}, 1.5, false, ""};
    auto ready = [](const SizeResult& s) -> std::optional<double> {
      if (s.ready_ns.empty()) return std::nullopt;
      return Median(s.ready_ns);
    };
    if (sizes.size() > 1 && ready(big) && ready(small)) t.measured = *ready(big) / *ready(small);
    targets.push_back(t);
  }
  {
    Target t{"deferred completion / best eager strategy, " + std::to_string(tmax) + " threads" + at,
             "<= 1.20", {}, 1.2, false, ""};
    const Row* d = FindRow(big, "deferred", tmax);
    double best = 0;
    std::string best_name;
    for (const Row& r : big.rows) {
      if (r.limit || r.name == "deferred") continue;
      if (best == 0 || median(r.ns) < best) {
        best = median(r.ns);
        best_name = r.name + " " + std::to_string(r.threads) + "t";
      }
    }
    if (d && best > 0) {
      t.measured = median(d->ns) / best;
      t.note = "best eager: " + best_name;
    }
    targets.push_back(t);
  }
  {
    Target t{"end-to-end on fresh memory, best 4 KiB 1 thread / default set-up" + at, ">= 3.00", {}, 3.0,
             true, ""};
    double best4k = 0, def = 0;
    for (const E2eRow& e : big.e2e) {
      if (!e.huge_pages && e.threads == 1 && (best4k == 0 || Median(e.ns) < best4k)) best4k = Median(e.ns);
      if (e.is_default) def = Median(e.ns);
    }
    if (best4k > 0 && def > 0) t.measured = best4k / def;
    targets.push_back(t);
  }
  return targets;
}

Json ToJson(const Config& cfg, const std::vector<SizeResult>& sizes, const std::vector<Target>& targets) {
  Json j;
  j["command"] = "memmap";
  j["cpus"] = std::max(1u, std::thread::hardware_concurrency());
  j["store"] = StoreWidthName(DetectStoreWidth());
  j["repeats"] = cfg.repeats;
  j["e2e_repeats"] = cfg.e2e_repeats;
  j["e2e_warm"] = cfg.warm;
  j["threads"] = cfg.threads;
  j["quick"] = cfg.quick;
  j["verified"] = cfg.verify;
  Json js = Json::array();
  for (const SizeResult& s : sizes) {
    Json o;
    o["descriptor_bytes"] = s.bytes;
    o["descriptors"] = s.pages;
    o["device_bytes"] = s.pages * kDevicePerDesc;
    Json rows = Json::array();
    for (const Row& r : s.rows) {
      const double ns = Median(r.ns);
      const Row* ms = FindRow(s, "memset", r.threads);
      const Row* nt = FindRow(s, "nt-fill", r.threads);
      Json jr;
      jr["name"] = r.name;
      jr["kind"] = r.limit ? "limit" : "strategy";
      jr["threads"] = r.threads;
      jr["median_ns"] = static_cast<std::uint64_t>(ns);
      jr["ns_per_descriptor"] = ns / static_cast<double>(s.pages);
      jr["gb_per_s"] = Gbps(s.bytes, ns);
      jr["vs_memset"] = ms ? Median(ms->ns) / ns : 0;
      jr["vs_nt_fill"] = nt ? Median(nt->ns) / ns : 0;
      if (!r.ready_ns.empty() && r.name == "deferred") {
        jr["ready_ns"] = static_cast<std::uint64_t>(Median(r.ready_ns));
      }
      rows.push_back(jr);
    }
    o["prefaulted"] = rows;
    Json e2e = Json::array();
    for (const E2eRow& e : s.e2e) {
      Json je;
      je["name"] = e.name;
      je["pages"] = e.huge_pages ? "thp" : "4k";
      je["strategy"] = InitStrategyName(e.strategy);
      je["threads"] = e.threads_used;
      je["default_setup"] = e.is_default;
      je["median_ns"] = static_cast<std::uint64_t>(Median(e.ns));
      je["gb_per_s"] = Gbps(s.bytes, Median(e.ns));
      je["ready_ns"] = static_cast<std::uint64_t>(Median(e.ready_ns));
      je["page_faults"] = e.faults;
      e2e.push_back(je);
    }
    o["end_to_end"] = e2e;
    if (!s.ready_ns.empty()) {
      Json r;
      r["samples"] = s.ready_ns.size();
      r["median_ns"] = static_cast<std::uint64_t>(Median(s.ready_ns));
      r["min_ns"] = static_cast<std::uint64_t>(*std::min_element(s.ready_ns.begin(), s.ready_ns.end()));
      r["max_ns"] = static_cast<std::uint64_t>(*std::max_element(s.ready_ns.begin(), s.ready_ns.end()));
      o["deferred_ready"] = r;
    }
    js.push_back(o);
  }
  j["sizes"] = js;
  Json jt = Json::array();
  for (const Target& t : targets) {
    Json o;
    o["name"] = t.name;
    o["target"] = t.rule;
    if (t.measured) {
      o["measured"] = *t.measured;
    } else {
      o["measured"] = nullptr;
    }
    o["met"] = t.met();
    if (!t.note.empty()) o["note"] = t.note;
    jt.push_back(o);
  }
  j["targets"] = jt;
  return j;
}

void PrintHuman(const Config& cfg, const std::vector<SizeResult>& sizes, const std::vector<Target>& targets) {
  std::string threads;
  for (unsigned t : cfg.threads) {
    if (!threads.empty()) threads += ',';
    threads += std::to_string(t);
  }
  std::printf("pmemd-bench memmap: %u CPUs, streaming stores %s, median of %u, threads %s%s\n",
              std::max(1u, std::thread::hardware_concurrency()),
              std::string(StoreWidthName(DetectStoreWidth())).c_str(), cfg.repeats, threads.c_str(),
              cfg.verify ? ", every array verified against per-field" : "");
  for (const SizeResult& s : sizes) {
    std::printf("\n== %s of descriptors: %llu pages = %s of device ==\n", HumanBytes(s.bytes).c_str(),
                static_cast<unsigned long long>(s.pages), HumanBytes(s.pages * kDevicePerDesc).c_str());
    std::printf("pre-faulted THP memory, the same buffer for every row\n");
    std::printf("%-22s %3s %11s %9s %8s %10s %10s\n", "variant", "thr", "median ms", "ns/desc", "GB/s",
                "vs memset", "vs nt-fill");
    for (const Row& r : s.rows) {
      const double ns = Median(r.ns);
      const Row* ms = FindRow(s, "memset", r.threads);
      const Row* nt = FindRow(s, "nt-fill", r.threads);
      std::string name = r.limit ? r.name + " (limit)" : r.name;
      std::printf("%-22s %3u %11.2f %9.3f %8.2f %10.2f %10.2f", name.c_str(), r.threads, ns / 1e6,
                  ns / static_cast<double>(s.pages), Gbps(s.bytes, ns), ms ? Median(ms->ns) / ns : 0,
                  nt ? Median(nt->ns) / ns : 0);
      if (r.name == "deferred") std::printf("   ready after %.3f ms", Median(r.ready_ns) / 1e6);
      std::printf("\n");
    }
    if (s.e2e.empty()) continue;
    std::printf("\nend to end on fresh memory (mmap, page faults and init), median of %u%s\n",
                cfg.e2e_repeats, cfg.warm ? ", host-warm (see --no-warm)" : "");
    std::printf("%-38s %3s %11s %8s %10s %11s\n", "set-up", "thr", "median ms", "GB/s", "faults",
                "ready ms");
    for (const E2eRow& e : s.e2e) {
      const double ns = Median(e.ns);
      std::printf("%-38s %3u %11.2f %8.2f %10llu %11.3f\n", e.name.c_str(), e.threads_used, ns / 1e6,
                  Gbps(s.bytes, ns), static_cast<unsigned long long>(e.faults), Median(e.ready_ns) / 1e6);
    }
    if (!s.ready_ns.empty()) {
      std::printf("deferred time-to-ready, fresh memory, default set-up: median %.3f ms over %zu samples "
                  "(min %.3f, max %.3f)\n",
                  Median(s.ready_ns) / 1e6, s.ready_ns.size(),
                  *std::min_element(s.ready_ns.begin(), s.ready_ns.end()) / 1e6,
                  *std::max_element(s.ready_ns.begin(), s.ready_ns.end()) / 1e6);
    }
  }
  std::printf("\ntargets%s\n", cfg.quick ? " (quick run: sizes too small to mean anything)" : "");
  for (const Target& t : targets) {
    if (t.measured) {
      std::printf("  %-78s %6.2f %s  %s%s%s\n", t.name.c_str(), *t.measured, t.rule.c_str(),
                  t.met() ? "met" : "MISSED", t.note.empty() ? "" : "  ", t.note.c_str());
    } else {
      std::printf("  %-78s %6s %s  not measured\n", t.name.c_str(), "-", t.rule.c_str());
    }
  }
}

int RunMemMapBench(const std::vector<std::string>& args) {
  Config cfg;
  bool help = false;
  if (Status s = ParseArgs(args, &cfg, &help); !s.ok()) {
    std::fprintf(stderr, "pmemd-bench memmap: %s\n%s", s.message().c_str(), Usage().c_str());
    return 2;
  }
  if (help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  if (!cfg.verbose) GetLogger("memmap")->set_level(spdlog::level::warn);
  std::vector<SizeResult> results;
  for (std::uint64_t bytes : cfg.sizes) {
    auto r = RunSize(cfg, bytes);
    if (!r.ok()) {
      std::fprintf(stderr, "pmemd-bench memmap: %s of descriptors: %s\n", HumanBytes(bytes).c_str(),
                   r.status().ToString().c_str());
      return 1;
    }
    results.push_back(std::move(*r));
  }
  const std::vector<Target> targets = CheckTargets(cfg, results);
  if (cfg.json) {
    std::printf("%s\n", ToJson(cfg, results, targets).dump(2).c_str());
  } else {
    PrintHuman(cfg, results, targets);
  }
  if (cfg.check) {
    for (const Target& t : targets) {
      if (!t.met()) return 1;
    }
  }
  return 0;
}

const bool kRegistered = RegisterCommand(
    {"memmap", "initialize page-descriptor arrays with every strategy against the write limit",
     &RunMemMapBench});

}  // namespace
}  // namespace pmemd::bench
