// Fuzzes the pool loader with hostile media. A small pool (2 MiB blocks, 16
// lease slots, a 64 KiB log) is formatted once, given leases and block
// transitions; each input then overwrites part of its metadata and the pool
// is attached, used and detached. Input: byte 0 picks the area (header A,
// header B, checkpoints, block table, lease table, log), bytes 1-2 the
// offset in it, byte 3 bit 0 whether to re-seal the header checksums (so the
// fuzzer gets past them) and bits 1-4 a truncation of the file (0: none,
// else to that many 4 KiB pages: a short or cut file), the rest is written
// there. Invariant: Attach
// returns a pool or a Status; never a crash, a hang or a sanitizer report.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "pmemd/fs.h"
#include "pmemd/pool.h"
#include "pool/format.h"

namespace {

namespace pf = pmemd::pool_format;

constexpr uint64_t kPoolSize = 16ull << 20;
std::string path_;
std::vector<uint8_t> base_;  // the metadata area of the formatted pool
pf::Header header_;

void WriteAt(const std::string& path, uint64_t off, const void* p, size_t n) {
  pmemd::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid() || ::pwrite(fd.get(), p, n, static_cast<off_t>(off)) != static_cast<ssize_t>(n))
    pmemd::fuzz::Fail("pwrite");
}

// As PoolManager sees a file pool: as large as the file is now.
pmemd::PoolBacking Backing(uint64_t size = kPoolSize) { return {path_, 0, size, "", ""}; }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  pmemd::fuzz::Quiet();
  path_ = pmemd::fuzz::ScratchDir("pool") + "/pool.img";
  {
    pmemd::UniqueFd fd(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid() || ::ftruncate(fd.get(), kPoolSize) != 0) pmemd::fuzz::Fail("create pool file");
  }
  pmemd::PoolFormatOptions fo;
  fo.name = "fuzz";
  fo.block_size = 2ull << 20;
  fo.max_leases = 16;
  fo.log_size = 64 * 1024;
  if (!pmemd::Pool::Format(Backing(), fo).ok()) pmemd::fuzz::Fail("format");
  {
    pmemd::PoolOptions po;
    po.strategy = pmemd::InitStrategy::kTemplate;
    auto pool = pmemd::Pool::Attach(Backing(), po);
    if (!pool.ok()) pmemd::fuzz::Fail("attach");
    if (!(*pool)->OnlineBlocks(0, 3).ok()) pmemd::fuzz::Fail("online");
    (void)(*pool)->CreateLease({"a", 1ull << 20, 4096, "owner", {{"k", "v"}}});
    (void)(*pool)->CreateLease({"b", 2ull << 20, 2ull << 20, "", {}});
    (void)(*pool)->Checkpoint();
    (void)(*pool)->CreateLease({"c", 8192, 4096, "", {}});  // left in the log
    (void)(*pool)->DeleteLease("a");
  }
  auto text = pmemd::ReadFile(path_);
  if (!text.ok()) pmemd::fuzz::Fail("read back");
  std::memcpy(&header_, text->data(), sizeof header_);
  base_.assign(text->begin(), text->begin() + static_cast<ptrdiff_t>(header_.data_offset));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint64_t starts[] = {pf::kHeaderAOffset,        pf::kHeaderBOffset,        pf::kCheckpointOffset,
                             header_.block_table_offset, header_.lease_table_offset, header_.log_offset};
  const uint64_t start = starts[data[0] % 6];
  const uint64_t off = std::min<uint64_t>(start + (uint64_t(data[1]) << 8 | data[2]), base_.size() - 1);
  std::vector<uint8_t> image = base_;
  const size_t n = std::min<size_t>(size - 4, image.size() - off);
  std::memcpy(image.data() + off, data + 4, n);
  if (data[3] & 1) {
    for (uint64_t h : {pf::kHeaderAOffset, pf::kHeaderBOffset}) {
      pf::Header hdr;
      std::memcpy(&hdr, image.data() + h, sizeof hdr);
      hdr.checksum = pf::Checksum(&hdr, offsetof(pf::Header, checksum));
      std::memcpy(image.data() + h, &hdr, sizeof hdr);
    }
  }
  WriteAt(path_, 0, image.data(), image.size());
  const uint64_t cut = (data[3] >> 1) & 15;
  {
    pmemd::UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid() || ::ftruncate(fd.get(), static_cast<off_t>(cut ? cut * 4096 : kPoolSize)) != 0)
      pmemd::fuzz::Fail("truncate");
  }
  pmemd::PoolOptions po;
  po.strategy = pmemd::InitStrategy::kTemplate;
  const uint64_t file_size = cut ? cut * 4096 : kPoolSize;
  (void)pmemd::Pool::ReadName(Backing(file_size)).ok();
  {  // a restart attaches a recorded pool without asking its name first
    auto pool = pmemd::Pool::Attach(Backing(file_size), po);
    if (pool.ok()) {
      (void)(*pool)->Describe(true);
      (void)(*pool)->ListLeases();
      (void)(*pool)->OnlineBlocks(0, 1);
      (void)(*pool)->CreateLease({"z", 4096, 4096, "", {}});
      (void)(*pool)->OfflineBlocks(4, 1);
    }
  }
  return 0;
}
