#include "args.h"

namespace pmemctl {

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
