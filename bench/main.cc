// pmemd-bench: benchmarks of pmemd's building blocks.
//
//   pmemd-bench <command> [flags]     run one command (see --help)
//   pmemd-bench list-commands         names only, one per line
//
// Commands register themselves from their own bench/<name>_bench.cc (see
// bench.h); this file only dispatches.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "bench.h"

namespace {

void PrintUsage(std::FILE* out) {
  std::fprintf(out, "usage: pmemd-bench <command> [flags]   (pmemd-bench <command> --help)\n\ncommands:\n");
  for (const auto& c : pmemd::bench::Commands()) {
    std::fprintf(out, "  %-14s %s\n", c.name.c_str(), c.summary.c_str());
  }
  std::fprintf(out, "  %-14s %s\n", "list-commands", "print the command names");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    PrintUsage(stdout);
    return 0;
  }
  if (name == "list-commands") {
    for (const auto& c : pmemd::bench::Commands()) std::printf("%s\n", c.name.c_str());
    return 0;
  }
  for (const auto& c : pmemd::bench::Commands()) {
    if (c.name != name) continue;
    try {
      return c.run(std::vector<std::string>(argv + 2, argv + argc));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pmemd-bench %s: %s\n", name.c_str(), e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "pmemd-bench: unknown command '%s'\n", name.c_str());
  PrintUsage(stderr);
  return 2;
}
