// Fuzzes the emulated platform's label store (labels.json in the state
// directory): any bytes load to a store or to a Status.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "platform/label_store.h"
#include "pmemd/fs.h"

namespace {
std::string path_;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  pmemd::fuzz::Quiet();
  path_ = pmemd::fuzz::ScratchDir("labels") + "/labels.json";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    pmemd::UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid() || ::write(fd.get(), data, size) != static_cast<ssize_t>(size)) pmemd::fuzz::Fail("write");
  }
  auto store = pmemd::LabelStore::Load(path_);
  if (store.ok())
    for (const auto& l : store->labels()) (void)l.raw_size;
  return 0;
}
