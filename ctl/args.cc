#include "args.h"

#include <cctype>

namespace pmemctl {

pmemd::Result<uint64_t> ParseSize(const std::string& text) {
  auto bad = [&] {
    return pmemd::Status::InvalidArgument("size '" + text +
                                          "' is not a size; use bytes or a number with K, M, G or T (e.g. 4G)");
  };
  size_t i = 0;
  uint64_t v = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    uint64_t d = static_cast<uint64_t>(text[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return bad();
    v = v * 10 + d;
    ++i;
  }
  if (i == 0) return bad();
  std::string unit = text.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.ends_with("IB")) unit.resize(unit.size() - 2);
  else if (unit.size() == 2 && unit.back() == 'B') unit.pop_back();
  int shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "K") shift = 10;
  else if (unit == "M") shift = 20;
  else if (unit == "G") shift = 30;
  else if (unit == "T") shift = 40;
  else return bad();
  if (shift && v > (UINT64_MAX >> shift)) return bad();
  return v << shift;
}

pmemd::Result<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                    const std::map<std::string, std::string>& valued,
                                    const std::map<std::string, std::string>& switches) {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (!a.starts_with("-") || a == "-") {
      out.positional.push_back(a);
      continue;
    }
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    if (auto it = valued.find(a); it != valued.end()) {
      if (!inline_value && i + 1 >= args.size())
        return pmemd::Status::InvalidArgument(a + " needs a value");
      out.values[it->second] = inline_value ? *inline_value : args[++i];
    } else if (auto sw = switches.find(a); sw != switches.end() && !inline_value) {
      out.switches.insert(sw->second);
    } else {
      return pmemd::Status::InvalidArgument("unknown option '" + args[i] + "'");
    }
  }
  return out;
}

}  // namespace pmemctl
