// pmemd-bench: shared pieces for the benchmark subcommands.
//
// Each subcommand lives in its own bench/<name>_bench.cc and registers itself
// with one line:
//
//   const bool kRegistered = pmemd::bench::RegisterCommand(
//       {"pool", "allocate and free extents in a pool", &RunPoolBench});
//
// bench/CMakeLists.txt picks up every *_bench.cc, so adding a subcommand
// needs no other edit. A command gets its arguments (after its name) and
// returns the process exit code; it prints a human table by default and one
// JSON object with --json.
//
// Thread safety: RegisterCommand runs during static initialization; the rest
// are plain functions without shared state.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pmemd/options.h"
#include "pmemd/status.h"

namespace pmemd::bench {

using CommandFn = int (*)(const std::vector<std::string>& args);

struct Command {
  std::string name;     // kebab-case verb: "memmap"
  std::string summary;  // one line for `pmemd-bench --help`
  CommandFn run;
};

// Adds a command to the table; returns true so that it can initialize a
// namespace-scope constant.
bool RegisterCommand(Command command);
// Every registered command, sorted by name.
std::vector<Command> Commands();

// "256M,1G,4G" -> bytes (K, M, G, T are powers of 1024; plain numbers are
// bytes). Empty items or unknown suffixes are InvalidArgument.
Result<std::vector<std::uint64_t>> ParseSizeList(std::string_view list);
// "idle,batch" -> {"idle", "batch"}, each one of `allowed`; anything else is
// InvalidArgument naming `flag` and the allowed words.
Result<std::vector<std::string>> ParseChoiceList(std::string_view list, const std::vector<std::string>& allowed,
                                                 std::string_view flag);
// "1,2" -> {1, 2}; at least 1 each.
Result<std::vector<unsigned>> ParseCountList(std::string_view list);
// 268435456 -> "256 MiB".
std::string HumanBytes(std::uint64_t bytes);

double Median(std::vector<double> values);

// A command's flags, parsed from its table by the parser pmemctl and pmemd
// use (pmemd/options.h: --flag value, --flag=value, abbreviations):
//
//   const std::vector<OptionSpec> kFlags = {
//       {0, "repeats", "repeats", ArgKind::kNumber, "rounds per size (default 7)"}, ...};
//   PMEMD_ASSIGN_OR_RETURN(Flags f, Flags::Parse(kFlags, args));
//   if (f.Has("repeats")) { PMEMD_ASSIGN_OR_RETURN(cfg->repeats, f.Count("repeats")); }
//
// --help/-h is added to every table; positional arguments are refused.
class Flags {
 public:
  static Result<Flags> Parse(std::span<const OptionSpec> specs, const std::vector<std::string>& args);
  bool help() const { return p_.switches.count("help") > 0; }
  bool Has(const std::string& key) const { return p_.Has(key); }
  std::string Value(const std::string& key) const { return p_.Get(key); }
  Result<std::uint64_t> Size(const std::string& key) const;  // one size ("2M")
  Result<unsigned> Count(const std::string& key) const;      // one count ("16")
  // A comma-separated list, each item through `one` ("a,b" -> {one("a"), one("b")}).
  template <typename T, typename Fn>
  Result<std::vector<T>> List(const std::string& key, Fn one) const;

 private:
  explicit Flags(ParsedOptions p) : p_(std::move(p)) {}
  ParsedOptions p_;
};

// "usage: pmemd-bench <synopsis>\n" and a line per flag of `specs` (and --help).
std::string FlagUsage(const std::string& synopsis, std::span<const OptionSpec> specs);

inline std::uint64_t NowNs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// Anonymous memory on transparent huge pages, 2 MiB aligned, faulted in at
// construction by writing a non-zero byte to every byte of it, so that later
// measurements see neither faults nor zero pages.
class PrefaultedBuffer {
 public:
  static Result<PrefaultedBuffer> Create(std::size_t bytes);
  PrefaultedBuffer(PrefaultedBuffer&& other) noexcept;
  PrefaultedBuffer& operator=(PrefaultedBuffer&& other) noexcept;
  PrefaultedBuffer(const PrefaultedBuffer&) = delete;
  PrefaultedBuffer& operator=(const PrefaultedBuffer&) = delete;
  ~PrefaultedBuffer();

  void* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  PrefaultedBuffer(void* map, std::size_t map_len, void* data, std::size_t size)
      : map_(map), map_len_(map_len), data_(data), size_(size) {}
  void* map_ = nullptr;
  std::size_t map_len_ = 0;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

// Splits [0, bytes) into `threads` contiguous 64-byte aligned parts and runs
// fn(part_begin, part_bytes) on each, the caller taking the first part (as
// MemMap's eager strategies do). Returns the wall time in ns, thread start-up
// included.
template <typename Fn>
std::uint64_t TimeSplit(std::size_t bytes, unsigned threads, Fn fn);

}  // namespace pmemd::bench

#include <thread>

namespace pmemd::bench {

template <typename Fn>
std::uint64_t TimeSplit(std::size_t bytes, unsigned threads, Fn fn) {
  const std::size_t lines = bytes / 64;
  const std::uint64_t start = NowNs();
  std::vector<std::thread> helpers;
  auto part = [&](unsigned t) {
    const std::size_t l0 = lines * t / threads, l1 = lines * (t + 1) / threads;
    fn(l0 * 64, (l1 - l0) * 64);
  };
  for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(part, t);
  part(0);
  for (auto& h : helpers) h.join();
  return NowNs() - start;
}

template <typename T, typename Fn>
Result<std::vector<T>> Flags::List(const std::string& key, Fn one) const {
  const std::string v = Value(key);
  std::vector<T> out;
  for (std::size_t pos = 0;;) {
    const std::size_t comma = v.find(',', pos);
    PMEMD_ASSIGN_OR_RETURN(T item, one(v.substr(pos, comma - pos)));
    out.push_back(std::move(item));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace pmemd::bench
