// The command table and the helpers every command shares (cli.h).
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "pmemd/text.h"

namespace pmemctl {

std::vector<Command> ListCommands();
std::vector<Command> NamespaceCommands();
std::vector<Command> PoolCommands();

const std::vector<Command>& Commands() {
  static const std::vector<Command> all = [] {
    std::vector<Command> v;
    for (auto& c : ListCommands()) v.push_back(c);
    for (auto& c : NamespaceCommands()) v.push_back(c);
    for (auto& c : PoolCommands()) v.push_back(c);
    return v;
  }();
  return all;
}

int UsageError(const std::string& verb, const std::string& message) {
  std::fprintf(stderr, "pmemctl %s: %s; see pmemctl --help\n", verb.c_str(), message.c_str());
  return kExitUsage;
}

void Print(const Invocation& inv, const nlohmann::json& result,
           const std::function<std::string(const nlohmann::json&)>& human) {
  if (inv.global.json)
    std::cout << pmemd::DumpJson(result, 2) << "\n";
  else
    std::cout << human(result);
}

}  // namespace pmemctl
