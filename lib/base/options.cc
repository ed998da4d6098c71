#include "pmemd/options.h"

#include <getopt.h>

#include <algorithm>
#include <string_view>

namespace pmemd {

namespace {

// getopt_long returns a long-only option as this plus its index in the table.
constexpr int kLongOnly = 0x1000;

bool TakesValue(const OptionSpec& s) { return s.arg != ArgKind::kNone; }

std::string Spelling(const OptionSpec& s) { return std::string("--") + s.long_name; }

}  // namespace

const char* LiveKindName(ArgKind kind) {
  switch (kind) {
    case ArgKind::kRegion: return "region";
    case ArgKind::kNamespace: return "namespace";
    case ArgKind::kDaxDevice: return "dax";
    case ArgKind::kPool: return "pool";
    case ArgKind::kLease: return "lease";
    default: return "";
  }
}

std::string Metavar(const OptionSpec& spec) {
  if (spec.metavar && *spec.metavar) return spec.metavar;
  if (!spec.choices.empty() && spec.arg != ArgKind::kNone) {
    std::string s;
    for (const auto& c : spec.choices) s += (s.empty() ? "" : "|") + c;
    return s;
  }
  switch (spec.arg) {
    case ArgKind::kNone: return "";
    case ArgKind::kNumber: return "N";
    case ArgKind::kSize: return "SIZE";
    case ArgKind::kPath: return "PATH";
    case ArgKind::kRegion: return "REGION";
    case ArgKind::kNamespace: return "NAMESPACE";
    case ArgKind::kDaxDevice: return "DAX";
    case ArgKind::kPool: return "POOL";
    case ArgKind::kLease: return "LEASE";
    case ArgKind::kText: return "VALUE";
  }
  return "VALUE";
}

std::string ParsedOptions::Get(const std::string& key) const {
  auto it = values.find(key);
  return it == values.end() || it->second.empty() ? "" : it->second.back();
}

Result<ParsedOptions> ParseOptions(std::span<const OptionSpec> specs, const std::vector<std::string>& args,
                                   PositionalMode mode) {
  // '-': positionals come back in order as option 1 (so they may mix with
  // options whatever POSIXLY_CORRECT says); '+': the first one stops the
  // scan. ':' first: a missing value is ':' rather than a message on stderr.
  std::string optstring = mode == PositionalMode::kAnywhere ? "-:" : "+:";
  std::vector<option> longopts;
  for (size_t i = 0; i < specs.size(); ++i) {
    const OptionSpec& s = specs[i];
    int val = s.short_name ? static_cast<unsigned char>(s.short_name) : kLongOnly + static_cast<int>(i);
    longopts.push_back({s.long_name, TakesValue(s) ? required_argument : no_argument, nullptr, val});
    if (s.short_name) {
      optstring += s.short_name;
      if (TakesValue(s)) optstring += ':';
    }
  }
  longopts.push_back({nullptr, 0, nullptr, 0});
  auto by_val = [&](int val) -> const OptionSpec* {
    for (size_t i = 0; i < specs.size(); ++i)
      if ((specs[i].short_name && static_cast<unsigned char>(specs[i].short_name) == val) ||
          (!specs[i].short_name && val == kLongOnly + static_cast<int>(i)))
        return &specs[i];
    return nullptr;
  };

  // getopt permutes argv: give it copies it may reorder.
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back("pmemd");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(storage.size());

  ParsedOptions out;
  optind = 0;  // glibc: a full re-initialization, as for a fresh program
  opterr = 0;
  for (;;) {
    int index = -1;
    const int prev_optind = optind == 0 ? 1 : optind;
    int c = ::getopt_long(argc, argv.data(), optstring.c_str(), longopts.data(), &index);
    if (c == -1) break;
    if (c == 1) {
      out.positional.push_back(optarg);
      continue;
    }
    // What the user typed, for messages: the argument getopt was reading.
    std::string given = prev_optind < argc ? argv[prev_optind] : "";
    if (auto eq = given.find('='); given.starts_with("--") && eq != std::string::npos) given.resize(eq);
    if (c == '?') {
      if (optopt > 0 && optopt < kLongOnly && !given.starts_with("--")) {
        if (const OptionSpec* s = by_val(optopt); s && !TakesValue(*s))
          return Status::InvalidArgument("option '--" + std::string(s->long_name) + "' takes no value");
        return Status::InvalidArgument("unknown option '-" + std::string(1, static_cast<char>(optopt)) + "'");
      }
      if (const OptionSpec* s = by_val(optopt); s && optopt != 0)
        return Status::InvalidArgument("option '" + Spelling(*s) + "' takes no value");
      // An unknown long option, or an abbreviation of several.
      given = argv[optind - 1];
      if (auto eq = given.find('='); eq != std::string::npos) given.resize(eq);
      std::string matches;
      for (const auto& s2 : specs)
        if (given.size() > 2 && std::string_view(s2.long_name).starts_with(given.substr(2)))
          matches += (matches.empty() ? "" : ", ") + Spelling(s2);
      if (matches.find(',') != std::string::npos)
        return Status::InvalidArgument("option '" + given + "' is ambiguous: " + matches);
      return Status::InvalidArgument("unknown option '" + given + "'");
    }
    if (c == ':') {
      const OptionSpec* s = by_val(optopt);
      std::string name = s ? Spelling(*s) : given;
      return Status::InvalidArgument("option '" + name + "' needs a value" +
                                     (s ? " (" + Metavar(*s) + ")" : std::string()));
    }
    const OptionSpec* s = by_val(c);
    if (s == nullptr) return Status::Internal("getopt_long returned an option not in the table");
    if (!TakesValue(*s)) {
      out.switches.insert(s->key);
      continue;
    }
    out.values[s->key].push_back(optarg);
  }
  for (int i = optind; i < argc; ++i) out.positional.push_back(argv[i]);
  return out;
}

std::string OptionHelp(std::span<const OptionSpec> specs) {
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const auto& s : specs) {
    if (s.hidden) continue;
    std::string left = s.short_name ? std::string("-") + s.short_name + ", " : "    ";
    left += Spelling(s);
    if (TakesValue(s)) {
      left += '=';
      left += Metavar(s);
    }
    width = std::max(width, left.size());
    rows.emplace_back(std::move(left), s.help);
  }
  std::string out;
  for (const auto& [left, help] : rows) out += "  " + left + std::string(width - left.size() + 2, ' ') + help + "\n";
  return out;
}

std::string OptionSynopsis(std::span<const OptionSpec> specs) {
  std::string out;
  bool optional = false;
  for (const auto& s : specs) {
    if (s.hidden) continue;
    if (!s.required) {
      optional = true;
      continue;
    }
    if (!out.empty()) out += ' ';
    out += Spelling(s);
    if (TakesValue(s)) {
      out += ' ';
      out += Metavar(s);
    }
  }
  if (optional) out += out.empty() ? "[options]" : " [options]";
  return out;
}

}  // namespace pmemd
