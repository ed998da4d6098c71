// pmemd-bench pool: what pools cost, in one run.
//
//   1. attach ("rebind"): a pool of each size (default 16, 64, 256 GiB,
//      sparse files) attached with each init strategy, round robin, median
//      of --repeats; for deferred both ready and complete times. Attaching
//      maps with pmem2, reads and replays the metadata and builds the
//      metadata array on fresh memory (page faults included), as the
//      kernel's memmap_init_zone_device does on rebind.
//   2. one block online and offline: latency of OnlineBlocks/OfflineBlocks
//      of one block (default 128 MiB = 32768 pages) on the smallest pool.
//   3. durable lease create+delete: pairs per second, against the cost of
//      persisting one log-record-sized write (576 bytes, memcpy + pmem2
//      persist) to a file mapped the same way in the same directory; the
//      ratio says how close a durable operation gets to its one persist.
//   4. lifecycle, per placement (--placements, default mem,dev) and size
//      (--lifecycle-sizes, default 16G,64G,256G): attach after a clean
//      detach and after a crash (a forked child attaches, onlines every
//      block and _exits without detaching); online-blocks all and
//      offline-blocks all right after a fresh attach, through Pool (not
//      through the daemon: the bench drives the library in-process); and
//      the process's RSS growth per GiB of pool once every block is online
//      (anonymous memory, i.e. DRAM, and shared file pages mapped). Every
//      time is also a ratio to the write limit measured in the same run:
//      StreamFill of the array's bytes (pages * 64) into pre-faulted memory.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <libpmem2.h>
#include <nlohmann/json.hpp>

#include "bench.h"
#include "pmemd/log.h"
#include "pmemd/memmap_store.h"
#include "pmemd/pool.h"

namespace pmemd::bench {
namespace {

using Json = nlohmann::ordered_json;

const std::vector<OptionSpec> kFlags = {
    {0, "sizes", "sizes", ArgKind::kText, "pool sizes for the attach rows (default 16G,64G,256G; sparse files)", "LIST"},
    {0, "strategies", "strategies", ArgKind::kText, "init strategies (default all)", "LIST"},
    {0, "repeats", "repeats", ArgKind::kNumber, "rounds; medians are reported (default 3)"},
    {0, "block-size", "block-size", ArgKind::kSize, "block size (default 128M)"},
    {0, "pairs", "pairs", ArgKind::kNumber, "lease create+delete pairs (default 20000)"},
    {0, "lease-size", "lease-size", ArgKind::kSize, "size of each lease (default 2M)"},
    {0, "dir", "dir", ArgKind::kPath,
     "where the pool files go (default /dev/shm if writable, else /tmp); on a non-DAX file system persist is msync",
     "DIR"},
    {0, "no-warm", "no-warm", ArgKind::kNone,
     "do not touch and free the metadata array's memory before each attach (on a VM that reports free pages to "
     "the host, memory freed a moment ago costs a host fault per page on its next touch; see memmap)"},
    {0, "lifecycle-sizes", "lifecycle-sizes", ArgKind::kText, "pool sizes for the lifecycle rows (default 16G,64G,256G)",
     "LIST"},
    {0, "placements", "placements", ArgKind::kText, "memmap placements for the lifecycle rows (default mem,dev)", "LIST"},
    {0, "no-lifecycle", "no-lifecycle", ArgKind::kNone, "skip the lifecycle rows"},
    {0, "quick", "quick", ArgKind::kNone,
     "smoke run: --sizes 1G --lifecycle-sizes 1G --repeats 1 --pairs 200 --block-size 2M (flags given win)"},
    {0, "json", "json", ArgKind::kNone, "one JSON object instead of the tables"},
};

std::string Usage() { return FlagUsage("pool [flags]", kFlags); }

struct Config {
  std::vector<std::uint64_t> sizes{16ull << 30, 64ull << 30, 256ull << 30};
  std::vector<InitStrategy> strategies = AllInitStrategies();
  unsigned repeats = 3;
  std::uint64_t block_size = 128ull << 20;
  unsigned pairs = 20000;
  std::uint64_t lease_size = 2ull << 20;
  std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  bool json = false;
  bool warm = true;
  std::vector<std::uint64_t> lifecycle_sizes{16ull << 30, 64ull << 30, 256ull << 30};
  std::vector<PoolMemmap> placements{PoolMemmap::kMem, PoolMemmap::kDev};
  bool lifecycle = true;
};

// Maps, touches and frees `bytes` of anonymous memory, so that the next
// attach's page faults are the guest's own (as pmemd-bench memmap does).
void Warm(std::uint64_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  ::madvise(p, bytes, MADV_HUGEPAGE);
  for (std::uint64_t off = 0; off < bytes; off += 4096) static_cast<volatile char*>(p)[off] = 1;
  ::munmap(p, bytes);
}

Status Parse(const std::vector<std::string>& args, Config* c, bool* help) {
  PMEMD_ASSIGN_OR_RETURN(Flags f, Flags::Parse(kFlags, args));
  *help = f.help();
  if (f.Has("quick")) {  // first: the flags given win
    c->sizes = {1ull << 30};
    c->lifecycle_sizes = {1ull << 30};
    c->repeats = 1;
    c->pairs = 200;
    c->block_size = 2ull << 20;
  }
  if (f.Has("sizes")) {
    PMEMD_ASSIGN_OR_RETURN(c->sizes, ParseSizeList(f.Value("sizes")));
  }
  if (f.Has("lifecycle-sizes")) {
    PMEMD_ASSIGN_OR_RETURN(c->lifecycle_sizes, ParseSizeList(f.Value("lifecycle-sizes")));
  }
  if (f.Has("strategies")) {
    PMEMD_ASSIGN_OR_RETURN(c->strategies, f.List<InitStrategy>("strategies", ParseInitStrategy));
  }
  if (f.Has("placements")) {
    PMEMD_ASSIGN_OR_RETURN(c->placements, f.List<PoolMemmap>("placements", ParsePoolMemmap));
  }
  if (f.Has("repeats")) {
    PMEMD_ASSIGN_OR_RETURN(c->repeats, f.Count("repeats"));
  }
  if (f.Has("pairs")) {
    const std::string v = f.Value("pairs");
    char* end = nullptr;
    unsigned long n = std::strtoul(v.c_str(), &end, 10);
    if (v.empty() || *end || n == 0 || n > 100000000) return Status::InvalidArgument("--pairs takes a positive number");
    c->pairs = static_cast<unsigned>(n);
  }
  if (f.Has("block-size")) {
    PMEMD_ASSIGN_OR_RETURN(c->block_size, f.Size("block-size"));
  }
  if (f.Has("lease-size")) {
    PMEMD_ASSIGN_OR_RETURN(c->lease_size, f.Size("lease-size"));
  }
  if (f.Has("dir")) c->dir = f.Value("dir");
  c->lifecycle = !f.Has("no-lifecycle");
  c->json = f.Has("json");
  c->warm = !f.Has("no-warm");
  return Status::Ok();
}

// A sparse pool file, formatted, removed at the end.
class PoolFile {
 public:
  static Result<PoolFile> Create(const std::string& dir, std::uint64_t size, std::uint64_t block_size,
                                 PoolMemmap memmap = PoolMemmap::kDev) {
    PoolFile f;
    f.path_ = dir + "/pmemd-bench-pool-" + std::to_string(::getpid()) + "-" + std::to_string(size >> 20) + "M-" +
              std::string(PoolMemmapName(memmap));
    int fd = ::open(f.path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return Status::FromErrno(errno, "create " + f.path_);
    int rc = ::ftruncate(fd, static_cast<off_t>(size));
    ::close(fd);
    if (rc != 0) return Status::FromErrno(errno, "size " + f.path_);
    f.backing_ = {f.path_, 0, size, "", ""};
    PoolFormatOptions o;
    o.name = "bench";
    o.block_size = block_size;
    o.force = true;
    o.memmap = memmap;
    PMEMD_RETURN_IF_ERROR(Pool::Format(f.backing_, o));
    return f;
  }
  PoolFile() = default;
  PoolFile(PoolFile&& o) noexcept : path_(std::move(o.path_)), backing_(o.backing_) { o.path_.clear(); }
  ~PoolFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const PoolBacking& backing() const { return backing_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  PoolBacking backing_;
};

// The cost of one durable 576-byte write: memcpy into a pmem2 mapping of a
// file in the same directory, then pmem2's persist; round robin over 1 MiB.
Result<double> PersistRecordNs(const std::string& dir, unsigned n) {
  const std::string path = dir + "/pmemd-bench-record-" + std::to_string(::getpid());
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "create " + path);
  ::unlink(path.c_str());
  const std::size_t len = 1 << 20;
  if (::ftruncate(fd, len) != 0) return Status::FromErrno(errno, "size " + path);
  pmem2_source* src = nullptr;
  pmem2_config* cfg = nullptr;
  pmem2_map* map = nullptr;
  double ns = 0;
  if (pmem2_source_from_fd(&src, fd) == 0 && pmem2_config_new(&cfg) == 0 &&
      pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE) == 0 &&
      pmem2_map_new(&map, cfg, src) == 0) {
    auto* base = static_cast<char*>(pmem2_map_get_address(map));
    pmem2_memcpy_fn cp = pmem2_get_memcpy_fn(map);
    pmem2_persist_fn persist = pmem2_get_persist_fn(map);
    char rec[576];
    std::memset(rec, 0x5a, sizeof rec);
    std::size_t pos = 0;
    const std::uint64_t t0 = NowNs();
    for (unsigned i = 0; i < n; ++i) {
      rec[0] = static_cast<char>(i);
      cp(base + pos, rec, sizeof rec, PMEM2_F_MEM_NOFLUSH);
      persist(base + pos, sizeof rec);
      pos = (pos + 576) % (len - 576);
    }
    ns = static_cast<double>(NowNs() - t0) / n;
  }
  if (map) pmem2_map_delete(&map);
  if (cfg) pmem2_config_delete(&cfg);
  if (src) pmem2_source_delete(&src);
  ::close(fd);
  if (ns == 0) return Status::IoError(std::string("pmem2 mapping of ") + path + ": " + pmem2_errormsg());
  return ns;
}

// Write limit: StreamFill of `bytes` into pre-faulted memory, median of 3.
double WriteLimitNs(std::uint64_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 0;
  ::madvise(p, bytes, MADV_HUGEPAGE);
  (void)StreamFill(p, bytes, 0);  // faults it in
  std::vector<double> ns;
  for (int i = 0; i < 3; ++i) {
    const std::uint64_t t0 = NowNs();
    (void)StreamFill(p, bytes, 0x5a5a5a5a5a5a5a5aULL);
    ns.push_back(static_cast<double>(NowNs() - t0));
  }
  ::munmap(p, bytes);
  return Median(ns);
}

// The write limit of the media a dev pool's array lives on: StreamFill of
// `bytes` into a fresh shared mapping of a file in `dir` whose blocks are
// allocated (as a pool's memmap area is, at format), median of 3. A new
// mapping each time, as each attach maps the pool anew: on tmpfs every
// 4 KiB page then costs a fault, which the media imposes on any writer.
double MediaWriteLimitNs(const std::string& dir, std::uint64_t bytes) {
  std::string path = dir + "/pmemd-bench-limit-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return 0;
  ::unlink(path.c_str());
  std::vector<double> ns;
  if (::posix_fallocate(fd, 0, static_cast<off_t>(bytes)) == 0) {
    for (int i = 0; i < 3; ++i) {
      void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) break;
      const std::uint64_t t0 = NowNs();
      (void)StreamFill(p, bytes, 0x5a5a5a5a5a5a5a5aULL);
      ns.push_back(static_cast<double>(NowNs() - t0));
      ::munmap(p, bytes);
    }
  }
  ::close(fd);
  return ns.empty() ? 0 : Median(ns);
}

// kB fields of /proc/self/status.
struct Rss {
  double anon = 0, file = 0, shmem = 0;
};
Rss ReadRss() {
  Rss r;
  std::ifstream in("/proc/self/status");
  std::string key;
  double kb = 0;
  while (in >> key) {
    if (key == "RssAnon:" && in >> kb) r.anon = kb * 1024;
    else if (key == "RssFile:" && in >> kb) r.file = kb * 1024;
    else if (key == "RssShmem:" && in >> kb) r.shmem = kb * 1024;
  }
  return r;
}

struct LifecycleRow {
  PoolMemmap placement = PoolMemmap::kMem;
  std::uint64_t size = 0, array_bytes = 0;
  double limit_ns = 0;
  double media_limit_ns = 0;  // dev: the same bytes written to the media's own kind of mapping
  std::vector<double> clean, crash, online, offline;
  double rss_anon = 0, rss_mapped = 0;  // bytes after online-blocks all, over before attach
};

// A child attaches, onlines every block and _exits without detaching.
Status Crash(const PoolBacking& backing) {
  const pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno(errno, "fork");
  if (pid == 0) {
    auto pool = Pool::Attach(backing, PoolOptions{});
    if (!pool.ok()) ::_exit(3);
    auto r = (*pool)->OnlineBlocks(0, (*pool)->Describe().blocks_total);
    ::_exit(r.ok() && r->status.ok() ? 0 : 4);
  }
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return Status::IoError("the crashing child failed (status " + std::to_string(st) + ")");
  return Status::Ok();
}

Result<LifecycleRow> Lifecycle(const Config& cfg, PoolMemmap placement, std::uint64_t size) {
  LifecycleRow row;
  row.placement = placement;
  row.size = size;
  PMEMD_ASSIGN_OR_RETURN(PoolFile f, PoolFile::Create(cfg.dir, size, cfg.block_size, placement));
  row.array_bytes = size / kPoolPageSize * sizeof(PageDesc);
  row.limit_ns = WriteLimitNs(row.array_bytes);
  if (placement == PoolMemmap::kDev) row.media_limit_ns = MediaWriteLimitNs(cfg.dir, row.array_bytes);
  auto timed_attach = [&](std::vector<double>* into) -> Result<std::unique_ptr<Pool>> {
    if (cfg.warm && placement == PoolMemmap::kMem) Warm(row.array_bytes);
    const std::uint64_t t0 = NowNs();
    PMEMD_ASSIGN_OR_RETURN(auto pool, Pool::Attach(f.backing(), PoolOptions{}));
    pool->memmap().WaitComplete();
    into->push_back(static_cast<double>(NowNs() - t0));
    return pool;
  };
  { PMEMD_ASSIGN_OR_RETURN(auto pool, Pool::Attach(f.backing(), PoolOptions{})); }  // builds and seals (dev)
  for (unsigned r = 0; r < cfg.repeats; ++r) {
    {
      // After a clean detach: online all, offline all, detach (timed).
      const Rss before = ReadRss();
      std::vector<double> ignored;
      PMEMD_ASSIGN_OR_RETURN(auto pool, timed_attach(&row.clean));
      const std::uint64_t blocks = pool->Describe().blocks_total;
      std::uint64_t t0 = NowNs();
      auto on = pool->OnlineBlocks(0, blocks);
      row.online.push_back(static_cast<double>(NowNs() - t0));
      if (!on.ok()) return on.status();
      if (!on->status.ok()) return on->status;
      const Rss after = ReadRss();
      row.rss_anon = after.anon - before.anon;
      row.rss_mapped = (after.file + after.shmem) - (before.file + before.shmem);
      t0 = NowNs();
      auto off = pool->OfflineBlocks(0, blocks);
      row.offline.push_back(static_cast<double>(NowNs() - t0));
      if (!off.ok()) return off.status();
      if (!off->status.ok()) return off->status;
    }
    {
      PMEMD_RETURN_IF_ERROR(Crash(f.backing()));
      PMEMD_ASSIGN_OR_RETURN(auto pool, timed_attach(&row.crash));
      auto off = pool->OfflineBlocks(0, pool->Describe().blocks_total);  // back to all offline, clean detach
      if (!off.ok()) return off.status();
    }
  }
  return row;
}

int Run(const std::vector<std::string>& args) {
  Config cfg;
  bool help = false;
  if (Status s = Parse(args, &cfg, &help); !s.ok()) {
    std::fprintf(stderr, "pmemd-bench pool: %s\n", s.message().c_str());
    return 2;
  }
  if (help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  GetLogger("pool")->set_level(spdlog::level::warn);
  GetLogger("memmap")->set_level(spdlog::level::warn);
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "pmemd-bench pool: %s\n", s.ToString().c_str());
    return 1;
  };

  // 1. Attach, per size and strategy, round robin.
  std::vector<PoolFile> files;
  for (std::uint64_t size : cfg.sizes) {
    auto f = PoolFile::Create(cfg.dir, size, cfg.block_size);
    if (!f.ok()) return fail(f.status());
    files.push_back(std::move(*f));
  }
  struct Cell {
    std::vector<double> ready, complete;
    std::uint64_t pages = 0;
  };
  std::map<std::pair<std::size_t, InitStrategy>, Cell> cells;
  for (unsigned r = 0; r < cfg.repeats; ++r)
    for (std::size_t i = 0; i < files.size(); ++i)
      for (InitStrategy s : cfg.strategies) {
        PoolOptions o;
        o.strategy = s;
        if (cfg.warm) Warm(cfg.sizes[i] / kPoolPageSize * sizeof(PageDesc));
        const std::uint64_t t0 = NowNs();
        auto pool = Pool::Attach(files[i].backing(), o);
        if (!pool.ok()) return fail(pool.status());
        const std::uint64_t ready = NowNs() - t0;
        (*pool)->memmap().WaitComplete();
        const std::uint64_t complete = NowNs() - t0;
        Cell& c = cells[{i, s}];
        c.ready.push_back(static_cast<double>(ready));
        c.complete.push_back(static_cast<double>(complete));
        c.pages = (*pool)->memmap().pages();
      }

  // 2. One block online and offline on the smallest pool.
  std::vector<double> on_ns, off_ns;
  std::uint64_t block_pages = cfg.block_size / kPoolPageSize;
  {
    auto pool = Pool::Attach(files[0].backing(), PoolOptions{});
    if (!pool.ok()) return fail(pool.status());
    (*pool)->memmap().WaitComplete();
    const unsigned n = std::max(5u, cfg.repeats * 5);
    for (unsigned i = 0; i < n; ++i) {
      std::uint64_t t0 = NowNs();
      auto r = (*pool)->OnlineBlocks(0, 1);
      on_ns.push_back(static_cast<double>(NowNs() - t0));
      if (!r.ok() || !r->status.ok()) return fail(r.ok() ? r->status : r.status());
      t0 = NowNs();
      r = (*pool)->OfflineBlocks(0, 1);
      off_ns.push_back(static_cast<double>(NowNs() - t0));
      if (!r.ok() || !r->status.ok()) return fail(r.ok() ? r->status : r.status());
    }
  }

  // 3. Durable lease create+delete against one record's persist.
  double pair_ns = 0, record_ns = 0;
  std::uint64_t checkpoints_bytes = 0;
  {
    auto pool = Pool::Attach(files[0].backing(), PoolOptions{});
    if (!pool.ok()) return fail(pool.status());
    auto r = (*pool)->OnlineBlocks(0, std::min<std::uint64_t>((*pool)->Describe().blocks_total, 4));
    if (!r.ok() || !r->status.ok()) return fail(r.ok() ? r->status : r.status());
    auto rec = PersistRecordNs(cfg.dir, cfg.pairs);  // before and after: drift hits both alike
    if (!rec.ok()) return fail(rec.status());
    LeaseSpec spec;
    spec.size = cfg.lease_size;
    spec.align = cfg.lease_size % (2ull << 20) == 0 ? 2ull << 20 : 4096;
    const std::uint64_t t0 = NowNs();
    for (unsigned i = 0; i < cfg.pairs; ++i) {
      spec.name = "l" + std::to_string(i % 64);
      auto l = (*pool)->CreateLease(spec);
      if (!l.ok()) return fail(l.status());
      if (Status s = (*pool)->DeleteLease(spec.name); !s.ok()) return fail(s);
    }
    pair_ns = static_cast<double>(NowNs() - t0) / cfg.pairs;
    auto rec2 = PersistRecordNs(cfg.dir, cfg.pairs);
    if (!rec2.ok()) return fail(rec2.status());
    record_ns = (*rec + *rec2) / 2;
    checkpoints_bytes = (*pool)->Describe().log_size;
  }

  // 4. Lifecycle per placement and size, one pool file at a time.
  std::vector<LifecycleRow> rows;
  if (cfg.lifecycle)
    for (PoolMemmap m : cfg.placements)
      for (std::uint64_t size : cfg.lifecycle_sizes) {
        auto row = Lifecycle(cfg, m, size);
        if (!row.ok()) return fail(row.status());
        rows.push_back(std::move(*row));
      }
  auto ms = [](const std::vector<double>& v) { return Median(v) / 1e6; };
  auto per_gib = [](double bytes, std::uint64_t size) { return bytes / (static_cast<double>(size) / (1ull << 30)); };

  const double on = Median(on_ns), off = Median(off_ns);
  const double ratio = (pair_ns / 2) / record_ns;
  if (cfg.json) {
    Json j;
    j["dir"] = cfg.dir;
    j["block_size"] = cfg.block_size;
    j["repeats"] = cfg.repeats;
    j["warm"] = cfg.warm;
    Json attach = Json::array();
    for (std::size_t i = 0; i < files.size(); ++i)
      for (InitStrategy s : cfg.strategies) {
        const Cell& c = cells[{i, s}];
        attach.push_back({{"pool_size", cfg.sizes[i]}, {"pages", c.pages}, {"strategy", InitStrategyName(s)},
                          {"ready_ms", Median(c.ready) / 1e6}, {"complete_ms", Median(c.complete) / 1e6}});
      }
    j["attach"] = attach;
    j["block"] = {{"pages", block_pages}, {"online_us", on / 1e3}, {"offline_us", off / 1e3}};
    Json lc = Json::array();
    for (const LifecycleRow& r : rows) {
      const double lim = r.limit_ns / 1e6;
      lc.push_back({{"placement", PoolMemmapName(r.placement)},
                    {"pool_size", r.size},
                    {"array_bytes", r.array_bytes},
                    {"write_limit_ms", lim},
                    {"attach_clean_ms", ms(r.clean)},
                    {"attach_clean_over_limit", ms(r.clean) / lim},
                    {"attach_crash_ms", ms(r.crash)},
                    {"attach_crash_over_limit", ms(r.crash) / lim},
                    {"media_write_limit_ms", r.media_limit_ns / 1e6},
                    {"attach_crash_over_media_limit", r.media_limit_ns ? ms(r.crash) / (r.media_limit_ns / 1e6) : 0.0},
                    {"online_all_ms", ms(r.online)},
                    {"online_all_over_limit", ms(r.online) / lim},
                    {"offline_all_ms", ms(r.offline)},
                    {"offline_all_over_limit", ms(r.offline) / lim},
                    {"rss_anon_per_gib", per_gib(r.rss_anon, r.size)},
                    {"rss_mapped_per_gib", per_gib(r.rss_mapped, r.size)},
                    {"rss_anon_over_array", r.rss_anon / static_cast<double>(r.array_bytes)}});
    }
    j["lifecycle"] = lc;
    j["lease"] = {{"pairs", cfg.pairs},          {"lease_size", cfg.lease_size}, {"pair_us", pair_ns / 1e3},
                  {"ops_per_s", 2e9 / pair_ns},  {"record_persist_us", record_ns / 1e3},
                  {"op_over_record_persist", ratio}, {"log_size", checkpoints_bytes}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("pool files in %s, block size %s, medians of %u rounds%s\n\n", cfg.dir.c_str(),
              HumanBytes(cfg.block_size).c_str(), cfg.repeats, cfg.warm ? ", memory warmed before each attach" : "");
  std::printf("attach (rebind): pmem2 map, metadata, replay, metadata array on fresh memory\n");
  std::printf("  %-10s %-20s %12s %14s %14s\n", "pool", "strategy", "pages", "ready ms", "complete ms");
  for (std::size_t i = 0; i < files.size(); ++i)
    for (InitStrategy s : cfg.strategies) {
      const Cell& c = cells[{i, s}];
      std::printf("  %-10s %-20s %12llu %14.2f %14.2f\n", HumanBytes(cfg.sizes[i]).c_str(),
                  std::string(InitStrategyName(s)).c_str(), static_cast<unsigned long long>(c.pages),
                  Median(c.ready) / 1e6, Median(c.complete) / 1e6);
    }
  std::printf("\none block (%llu pages): online %.1f us, offline %.1f us (durable, median of %zu)\n",
              static_cast<unsigned long long>(block_pages), on / 1e3, off / 1e3, on_ns.size());
  std::printf("\ndurable lease create+delete (%s leases, %u pairs): %.2f us per pair, %.0f ops/s\n",
              HumanBytes(cfg.lease_size).c_str(), cfg.pairs, pair_ns / 1e3, 2e9 / pair_ns);
  std::printf("one 576-byte record persisted (memcpy + pmem2 persist): %.2f us\n", record_ns / 1e3);
  std::printf("ratio, one durable lease operation / one record persist: %.2f\n", ratio);
  if (!rows.empty()) {
    std::printf("\nlifecycle through Pool (in-process, not through the daemon), median of %u; x = over the write\n"
                "limit (StreamFill of the array's bytes into pre-faulted memory, this run)\n",
                cfg.repeats);
    std::printf("  %-4s %-7s %9s %9s %16s %16s %16s %16s %12s %12s\n", "mm", "pool", "array", "limit ms",
                "clean attach ms", "crash attach ms", "online all ms", "offline all ms", "anon/GiB", "mapped/GiB");
    for (const LifecycleRow& r : rows) {
      const double lim = r.limit_ns / 1e6;
      std::printf("  %-4s %-7s %9s %9.2f %8.2f (%5.2fx) %8.2f (%5.2fx) %8.2f (%5.2fx) %8.2f (%5.2fx) %12s %12s\n",
                  std::string(PoolMemmapName(r.placement)).c_str(), HumanBytes(r.size).c_str(),
                  HumanBytes(r.array_bytes).c_str(), lim, ms(r.clean), ms(r.clean) / lim, ms(r.crash),
                  ms(r.crash) / lim, ms(r.online), ms(r.online) / lim, ms(r.offline), ms(r.offline) / lim,
                  HumanBytes(static_cast<std::uint64_t>(std::max(0.0, per_gib(r.rss_anon, r.size)))).c_str(),
                  HumanBytes(static_cast<std::uint64_t>(std::max(0.0, per_gib(r.rss_mapped, r.size)))).c_str());
    }
    std::printf("\ndev rebuild after a crash against the media's own write limit (StreamFill of the array's bytes\n"
                "into a fresh shared mapping of an allocated file in %s, this run)\n", cfg.dir.c_str());
    for (const LifecycleRow& r : rows)
      if (r.media_limit_ns)
        std::printf("  %-7s media limit %9.2f ms, crash attach %9.2f ms (%5.2fx)\n", HumanBytes(r.size).c_str(),
                    r.media_limit_ns / 1e6, ms(r.crash), ms(r.crash) / (r.media_limit_ns / 1e6));
  }
  return 0;
}

const bool kRegistered =
    RegisterCommand({"pool", "attach per init strategy, block online/offline, durable lease throughput, lifecycle",
                     &Run});

}  // namespace
}  // namespace pmemd::bench
