#include "bench.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>

namespace pmemd::bench {

namespace {
std::map<std::string, Command>& Registry() {
  static std::map<std::string, Command> registry;
  return registry;
}
}  // namespace

bool RegisterCommand(Command command) {
  std::string name = command.name;
  Registry().emplace(std::move(name), std::move(command));
  return true;
}

std::vector<Command> Commands() {
  std::vector<Command> out;
  for (const auto& [name, c] : Registry()) out.push_back(c);
  return out;
}

namespace {
std::vector<std::string_view> SplitCommas(std::string_view list) {
  std::vector<std::string_view> items;
  while (true) {
    const std::size_t comma = list.find(',');
    items.push_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return items;
}

bool ParseU64(std::string_view s, std::uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *out = v;
  return true;
}
}  // namespace

Result<std::vector<std::string>> ParseChoiceList(std::string_view list, const std::vector<std::string>& allowed,
                                                 std::string_view flag) {
  std::vector<std::string> out;
  for (std::string_view item : SplitCommas(list)) {
    if (std::find(allowed.begin(), allowed.end(), item) == allowed.end()) {
      std::string words;
      for (const auto& a : allowed) words += (words.empty() ? "" : ", ") + a;
      return Status::InvalidArgument(std::string(flag) + ": unknown '" + std::string(item) + "'; use " + words);
    }
    out.emplace_back(item);
  }
  return out;
}

Result<std::vector<std::uint64_t>> ParseSizeList(std::string_view list) {
  std::vector<std::uint64_t> sizes;
  for (std::string_view item : SplitCommas(list)) {
    std::string_view digits = item;
    int shift = 0;
    if (!item.empty()) {
      switch (item.back()) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        case 'T': case 't': shift = 40; break;
        default: break;
      }
      if (shift != 0) digits.remove_suffix(1);
    }
    std::uint64_t v = 0;
    if (!ParseU64(digits, &v) || v == 0 || v > (~std::uint64_t{0} >> (shift + 1))) {
      return Status::InvalidArgument("bad size '" + std::string(item) + "' in '" +
                                     std::string(list) +
                                     "'; expected a comma-separated list like 256M,1G,4G");
    }
    sizes.push_back(v << shift);
  }
  return sizes;
}

Result<std::vector<unsigned>> ParseCountList(std::string_view list) {
  std::vector<unsigned> counts;
  for (std::string_view item : SplitCommas(list)) {
    std::uint64_t v = 0;
    if (!ParseU64(item, &v) || v == 0 || v > 1024) {
      return Status::InvalidArgument("bad count '" + std::string(item) + "' in '" +
                                     std::string(list) +
                                     "'; expected a comma-separated list of numbers 1..1024 like 1,2");
    }
    counts.push_back(static_cast<unsigned>(v));
  }
  return counts;
}

std::string HumanBytes(std::uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (v == static_cast<double>(static_cast<std::uint64_t>(v))) {
    std::snprintf(buf, sizeof buf, "%.0f %s", v, kUnits[u]);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f %s", v, kUnits[u]);
  }
  return buf;
}

namespace {
const OptionSpec kHelp = {'h', "help", "help", ArgKind::kNone, "show this help"};
}  // namespace

Result<Flags> Flags::Parse(std::span<const OptionSpec> specs, const std::vector<std::string>& args) {
  std::vector<OptionSpec> all(specs.begin(), specs.end());
  all.push_back(kHelp);
  PMEMD_ASSIGN_OR_RETURN(ParsedOptions p, ParseOptions(all, args));
  if (!p.positional.empty()) return Status::InvalidArgument("unexpected argument '" + p.positional[0] + "'");
  return Flags(std::move(p));
}

Result<std::uint64_t> Flags::Size(const std::string& key) const {
  PMEMD_ASSIGN_OR_RETURN(auto l, ParseSizeList(Value(key)));
  if (l.size() != 1) return Status::InvalidArgument("--" + key + " takes one size, got '" + Value(key) + "'");
  return l[0];
}

Result<unsigned> Flags::Count(const std::string& key) const {
  PMEMD_ASSIGN_OR_RETURN(auto l, ParseCountList(Value(key)));
  if (l.size() != 1) return Status::InvalidArgument("--" + key + " takes one number, got '" + Value(key) + "'");
  return l[0];
}

std::string FlagUsage(const std::string& synopsis, std::span<const OptionSpec> specs) {
  std::vector<OptionSpec> all(specs.begin(), specs.end());
  all.push_back(kHelp);
  return "usage: pmemd-bench " + synopsis + "\n" + OptionHelp(all);
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

Result<PrefaultedBuffer> PrefaultedBuffer::Create(std::size_t bytes) {
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  const std::size_t len = (bytes + kHuge - 1) / kHuge * kHuge;
  void* raw = mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) {
    return Status::FromErrno(errno, "mmap " + std::to_string(len) + " bytes for a benchmark buffer");
  }
  const auto addr = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (addr + kHuge - 1) / kHuge * kHuge;
  void* data = reinterpret_cast<void*>(aligned);
  (void)madvise(data, len, MADV_HUGEPAGE);  // best effort: 4 KiB pages still work
  std::memset(data, 0x5a, len);
  return PrefaultedBuffer(raw, len + kHuge, data, bytes);
}

PrefaultedBuffer::PrefaultedBuffer(PrefaultedBuffer&& other) noexcept
    : map_(std::exchange(other.map_, nullptr)),
      map_len_(std::exchange(other.map_len_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

PrefaultedBuffer& PrefaultedBuffer::operator=(PrefaultedBuffer&& other) noexcept {
  if (this != &other) {
    if (map_ != nullptr) munmap(map_, map_len_);
    map_ = std::exchange(other.map_, nullptr);
    map_len_ = std::exchange(other.map_len_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

PrefaultedBuffer::~PrefaultedBuffer() {
  if (map_ != nullptr) munmap(map_, map_len_);
}

}  // namespace pmemd::bench
