// Helpers shared by the fuzz targets (tests/fuzz/README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pmemd::fuzz {

// Stops the run: libFuzzer (or the corpus replay) reports the input.
[[noreturn]] inline void Fail(const char* what) {
  __builtin_fprintf(stderr, "fuzz invariant broken: %s\n", what);
  __builtin_trap();
}

// A private temporary directory that lives as long as the process.
std::string ScratchDir(const char* name);

// Splits data at NUL bytes (the last piece may be empty).
std::vector<std::string> SplitAtNul(const uint8_t* data, size_t size);

// Silences lib/'s loggers and stdout, which the targets would flood.
void Quiet();

}  // namespace pmemd::fuzz
