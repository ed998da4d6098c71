// Media are untrusted input: a pool file or device may be truncated,
// damaged or crafted by a hostile user, and pmemd (running as root) must
// answer with a Status, never crash. Forged structures here carry correct
// checksums, as a hostile user's would, so that the semantic checks behind
// the checksums are what is tested.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "format.h"
#include "pmemd/log.h"
#include "pmemd/pool.h"
#include "pool_test_util.h"
#include "validate.h"

namespace pmemd {
namespace {

using namespace pooltest;  // NOLINT: the shared fixtures
namespace pf = pool_format;

constexpr uint64_t kPoolSize = 16 * kM;

pf::Geometry SmallGeometry() {
  const PoolFormatOptions o = SmallPool();
  return pf::ComputeGeometry(kPoolSize, o.block_size, o.max_leases, o.log_size);
}

std::vector<uint8_t> ReadBytes(const std::string& path, uint64_t off, uint64_t len) {
  std::vector<uint8_t> v(len);
  int fd = ::open(path.c_str(), O_RDONLY);
  EXPECT_EQ(::pread(fd, v.data(), len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
  ::close(fd);
  return v;
}

void WriteBytes(const std::string& path, uint64_t off, const void* p, uint64_t len) {
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_EQ(::pwrite(fd, p, len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
  ::close(fd);
}

template <typename T>
T ReadAs(const std::string& path, uint64_t off) {
  T t;
  auto v = ReadBytes(path, off, sizeof t);
  std::memcpy(&t, v.data(), sizeof t);
  return t;
}

// Rewrites both header copies through `edit`, with good checksums.
void ForgeHeader(const PoolFile& f, const std::function<void(pf::Header&)>& edit) {
  auto h = ReadAs<pf::Header>(f.path(), pf::kHeaderAOffset);
  edit(h);
  h.checksum = pf::Checksum(&h, offsetof(pf::Header, checksum));
  WriteBytes(f.path(), pf::kHeaderAOffset, &h, sizeof h);
  WriteBytes(f.path(), pf::kHeaderBOffset, &h, sizeof h);
}

void ForgeLeaseSlot(const PoolFile& f, uint32_t slot, const std::function<void(pf::LeaseSlot&)>& edit) {
  const uint64_t off = SmallGeometry().lease_table_offset + slot * pf::kLeaseSlotSize;
  auto s = ReadAs<pf::LeaseSlot>(f.path(), off);
  edit(s);
  s.checksum = pf::Checksum(&s, offsetof(pf::LeaseSlot, checksum));
  WriteBytes(f.path(), off, &s, sizeof s);
}

Status AttachStatus(const PoolBacking& b) {
  auto p = Pool::Attach(b, Opts());
  return p.ok() ? Status::Ok() : p.status();
}

// A small pool with two leases in slots 0 and 1, detached cleanly.
void FormatWithLeases(const PoolFile& f) {
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  auto pool = MustAttach(f);
  ASSERT_TRUE(pool->OnlineBlocks(0, 2).ok());
  LeaseSpec a = Spec("a", 3 * kK4, kK4, "vm1");
  a.labels = {{"app", "pg"}};
  ASSERT_TRUE(pool->CreateLease(a).ok());
  ASSERT_TRUE(pool->CreateLease(Spec("b", 2 * kM, 2 * kM)).ok());
}

// ---- Size before any header -------------------------------------------------

TEST(PoolMediaTest, AFileTruncatedTo4KiBFailsAttachAsCorruptionInsteadOfCrashing) {
  PoolFile f(kPoolSize);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  ASSERT_EQ(::truncate(f.path().c_str(), 4096), 0);
  // What PoolManager passes at start-up: the file's size as it is now.
  PoolBacking b = f.backing();
  b.size = 4096;
  Status s = AttachStatus(b);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("4096 bytes"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("12288"), std::string::npos) << "names the size the headers need: " << s.message();
  // The size it was formatted with, larger than the file now: refused before mapping.
  EXPECT_FALSE(AttachStatus(f.backing()).ok());
}

TEST(PoolMediaTest, APoolSizeLargerThanTheBackingIsCorruption) {
  PoolFile f(kPoolSize);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  ASSERT_EQ(::truncate(f.path().c_str(), kPoolSize - 4 * kM), 0);
  PoolBacking b = f.backing();
  b.size = kPoolSize - 4 * kM;
  Status s = AttachStatus(b);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("pool size 16777216 is larger than the 12582912 bytes"), std::string::npos) << s.message();
}

TEST(PoolMediaTest, TruncationToEvery4KiBBoundaryBelowTheMetadataEndFailsWithAStatus) {
  PoolFile f(kPoolSize);
  FormatWithLeases(f);
  const uint64_t end = SmallGeometry().data_offset;
  const auto pristine = ReadBytes(f.path(), 0, end);
  for (uint64_t t = 0; t <= end; t += 4096) {
    ASSERT_EQ(::truncate(f.path().c_str(), static_cast<off_t>(t)), 0);
    PoolBacking now = f.backing();
    now.size = t;
    EXPECT_FALSE(AttachStatus(now).ok()) << "truncated to " << t;
    EXPECT_FALSE(AttachStatus(f.backing()).ok()) << "truncated to " << t;
    EXPECT_FALSE(Pool::ReadName(now).ok() && t < pf::kCheckpointOffset) << "truncated to " << t;
    ASSERT_EQ(::truncate(f.path().c_str(), static_cast<off_t>(kPoolSize)), 0);
    WriteBytes(f.path(), 0, pristine.data(), pristine.size());
  }
  EXPECT_TRUE(MustAttach(f)) << "the restored pool attaches";
}

// ---- Header fields with good checksums ------------------------------------------

TEST(PoolMediaTest, ForgedHeaderFieldsAreCorruptionNamingTheField) {
  PoolFile f(kPoolSize);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  const auto pristine = ReadBytes(f.path(), 0, pf::kCheckpointOffset);
  struct Case {
    const char* what;  // expected in the message
    std::function<void(pf::Header&)> edit;
  };
  const std::vector<Case> cases = {
      {"lease_slots", [](pf::Header& h) { h.lease_slots = 1ull << 55; }},  // 512 x slots wraps
      {"lease_slots", [](pf::Header& h) { h.lease_slots = 0; }},
      {"log_size", [](pf::Header& h) { h.log_size = UINT64_MAX - 4095; }},
      {"log_size", [](pf::Header& h) { h.log_size = 100; }},
      {"block size", [](pf::Header& h) { h.block_size = 1ull << 63; }},
      {"block size", [](pf::Header& h) { h.block_size = 0; }},
      {"pool size", [](pf::Header& h) { h.pool_size = UINT64_MAX; }},
      {"pool size", [](pf::Header& h) { h.pool_size = 4097; }},
      {"geometry", [](pf::Header& h) { h.block_count = 1ull << 40; }},
      {"geometry", [](pf::Header& h) { h.data_offset = UINT64_MAX; }},
      {"geometry", [](pf::Header& h) { h.log_offset = kPoolSize - 4096; }},
      {"geometry", [](pf::Header& h) { h.lease_table_offset = 0; }},
      {"geometry", [](pf::Header& h) { h.block_table_offset = UINT64_MAX - 7; }},
      {"checkpoint offset", [](pf::Header& h) { h.checkpoint_offset = UINT64_MAX; }},
      {"slot size", [](pf::Header& h) { h.lease_slot_size = 1; }},
  };
  for (const auto& c : cases) {
    ForgeHeader(f, c.edit);
    Status s = AttachStatus(f.backing());
    EXPECT_EQ(s.code(), Code::kCorruption) << c.what << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.what), std::string::npos) << s.message();
    WriteBytes(f.path(), 0, pristine.data(), pristine.size());
  }
  EXPECT_TRUE(MustAttach(f));
}

// ---- Names, owners and labels ----------------------------------------------------

TEST(PoolMediaTest, APoolNameThatTheApiWouldRefuseFailsAttachAndReadName) {
  PoolFile f(kPoolSize);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  for (const std::string& bad : {std::string("p\xff\xfe"), std::string("a b"), std::string(""), std::string(64, 'x')}) {
    ForgeHeader(f, [&](pf::Header& h) {
      std::memset(h.name, 0, sizeof h.name);
      std::memcpy(h.name, bad.data(), bad.size());
    });
    Status s = AttachStatus(f.backing());
    EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find("pool name"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find(bad.empty() ? std::string("\x01") : bad), std::string::npos)
        << "the bad bytes are not echoed";
    auto n = Pool::ReadName(f.backing());
    EXPECT_EQ(n.status().code(), Code::kCorruption) << (n.ok() ? *n : n.status().ToString());
  }
}

TEST(PoolMediaTest, ALeaseSlotWithBadLengthsNamesOrLabelsFailsAttachNamingTheSlot) {
  PoolFile f(kPoolSize);
  FormatWithLeases(f);
  const uint64_t lt = SmallGeometry().lease_table_offset;
  const auto pristine = ReadBytes(f.path(), lt, 2 * pf::kLeaseSlotSize);
  struct Case {
    const char* what;
    std::function<void(pf::LeaseSlot&)> edit;
  };
  const std::vector<Case> cases = {
      {"name", [](pf::LeaseSlot& s) { s.name_len = 65535; }},
      {"name", [](pf::LeaseSlot& s) { s.name_len = 0; }},
      {"name", [](pf::LeaseSlot& s) { s.name[0] = '\xff'; }},
      {"owner", [](pf::LeaseSlot& s) { s.owner_len = 64; }},
      {"owner", [](pf::LeaseSlot& s) { s.owner[0] = '\xc3'; s.owner_len = 1; }},
      {"labels", [](pf::LeaseSlot& s) { s.labels_len = 321; }},
      {"labels", [](pf::LeaseSlot& s) { std::memcpy(s.labels, "{\"a\":1}", 7); s.labels_len = 7; }},
      {"labels", [](pf::LeaseSlot& s) { std::memcpy(s.labels, "[\"\xff\"]", 5); s.labels_len = 5; }},
      {"labels", [](pf::LeaseSlot& s) { s.labels_len = 3; }},  // a truncated object
      {"extent", [](pf::LeaseSlot& s) { s.offset = UINT64_MAX - 4095; }},
      {"extent", [](pf::LeaseSlot& s) { s.length = UINT64_MAX - 4095; }},
      {"id", [](pf::LeaseSlot& s) { s.id = 1ull << 62; }},
  };
  for (const auto& c : cases) {
    ForgeLeaseSlot(f, 0, c.edit);
    Status s = AttachStatus(f.backing());
    EXPECT_EQ(s.code(), Code::kCorruption) << c.what << ": " << s.ToString();
    EXPECT_NE(s.message().find("lease slot 0"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.what), std::string::npos) << s.message();
    WriteBytes(f.path(), lt, pristine.data(), pristine.size());
  }
  // Two slots with one id: the pages' owner would be ambiguous.
  const uint64_t id0 = ReadAs<pf::LeaseSlot>(f.path(), lt).id;
  ForgeLeaseSlot(f, 1, [&](pf::LeaseSlot& s) { s.id = id0; });
  Status s = AttachStatus(f.backing());
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("id"), std::string::npos) << s.message();
  WriteBytes(f.path(), lt, pristine.data(), pristine.size());
  auto pool = MustAttach(f);
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->GetLease("a")->labels.at("app"), "pg");
}

TEST(PoolMediaTest, ReadNameRefusesShortFilesDirectoriesAndFifos) {
  PoolFile f(kPoolSize);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  ASSERT_EQ(::truncate(f.path().c_str(), 4096), 0);
  EXPECT_EQ(Pool::ReadName(f.backing()).status().code(), Code::kInvalidArgument);
  PoolBacking dir{"/dev/shm", 0, 0, "", ""};
  auto d = Pool::ReadName(dir);
  EXPECT_EQ(d.status().code(), Code::kInvalidArgument);
  EXPECT_NE(d.status().message().find("not a regular file"), std::string::npos) << d.status().message();
  const std::string fifo = f.path() + ".fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto p = Pool::ReadName({fifo, 0, 0, "", ""});  // would block forever in open() without O_NONBLOCK
  EXPECT_EQ(p.status().code(), Code::kInvalidArgument);
  ::unlink(fifo.c_str());
}

// A character device that is not a dax device is read with pread, as before
// the mapped read for device-dax (which has no pread; that path runs on a
// real devdax in tests/vm/scenarios/pmemd_pool.sh): all zeros or nothing at
// all is not a pool, and no other error.
TEST(PoolMediaTest, ReadNameReadsCharacterDevicesThatAreNotDax) {
  auto zero = Pool::ReadName({"/dev/zero", 0, 0, "", ""});
  EXPECT_EQ(zero.status().code(), Code::kInvalidArgument) << zero.status().message();
  auto at = Pool::ReadName({"/dev/zero", 2 << 20, 0, "", ""});
  EXPECT_EQ(at.status().code(), Code::kInvalidArgument) << at.status().message();
  auto null = Pool::ReadName({"/dev/null", 0, 0, "", ""});
  EXPECT_EQ(null.status().code(), Code::kInvalidArgument) << null.status().message();
  EXPECT_NE(null.status().message().find("too short"), std::string::npos) << null.status().message();
}


// ---- Bus errors: the pool fails, the process does not ---------------------------

// Truncates the pool file after the persist step numbered `at`, as another
// process could between any two accesses.
class TruncateAfterStep : public PoolHooks {
 public:
  TruncateAfterStep(std::string path, uint64_t size) : path_(std::move(path)), size_(size) {}
  uint64_t at = 0;     // 0: never
  uint64_t steps = 0;  // the last persist step seen
  bool CrashAfterPersist(std::string_view, uint64_t n) override {
    steps = n;
    if (n == at) {
      EXPECT_EQ(::truncate(path_.c_str(), static_cast<off_t>(size_)), 0);
    }
    return false;
  }

 private:
  std::string path_;
  uint64_t size_;
};

void ExpectFailedMedia(const Status& s, Code code) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find("pool p0's media is no longer accessible"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("detach-pool p0"), std::string::npos) << s.message();
}

TEST(PoolMediaTest, ATruncationBelowTheMetadataFailsThatPoolAndDetachWritesNothing) {
  PoolFile f(kPoolSize);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  auto pool = MustAttach(f);
  ASSERT_TRUE(pool->OnlineBlocks(0, 2).ok());
  ASSERT_TRUE(pool->CreateLease(Spec("a", kK4)).ok());
  ASSERT_EQ(::truncate(f.path().c_str(), 8192), 0);
  // Seen by the size check before the mutation, or (within 100 ms of the
  // last check, as here) by the guard when the log append faults.
  ExpectFailedMedia(pool->CreateLease(Spec("b", kK4)).status(), Code::kIoError);
  EXPECT_NE(pool->CreateLease(Spec("b", kK4)).status().message().find("truncated"), std::string::npos);
  ExpectFailedMedia(pool->DeleteLease("a"), Code::kFailedPrecondition);
  ExpectFailedMedia(pool->OnlineBlocks(2, 1).status(), Code::kFailedPrecondition);
  ExpectFailedMedia(pool->OfflineBlocks(0, 1).status(), Code::kFailedPrecondition);
  ExpectFailedMedia(pool->Checkpoint(), Code::kFailedPrecondition);
  // Reads answer from memory.
  PoolStatus d = pool->Describe(true);
  EXPECT_EQ(d.blocks_online, 2u);
  EXPECT_NE(d.failure.find("media is no longer accessible"), std::string::npos);
  EXPECT_EQ(pool->ListLeases().size(), 1u);
  const auto before = ReadBytes(f.path(), 0, 8192);
  pool.reset();
  struct stat st{};
  ASSERT_EQ(::stat(f.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 8192) << "detach wrote nothing";
  EXPECT_EQ(ReadBytes(f.path(), 0, 8192), before) << "detach wrote nothing";
}

TEST(PoolMediaTest, ABusErrorInTheMiddleOfAMutationIsCaughtAndFailsThePool) {
  PoolFile f(kPoolSize);
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  TruncateAfterStep hooks(f.path(), 8192);
  auto pool = MustAttach(f, &hooks);
  ASSERT_TRUE(pool->OnlineBlocks(0, 1).ok());
  // online-blocks persists going-online, then writes online: truncated in
  // between, past the size check, the second write faults.
  hooks.at = hooks.steps + 1;
  auto r = pool->OnlineBlocks(1, 2);
  ExpectFailedMedia(r.status(), Code::kIoError);
  EXPECT_NE(r.status().message().find("bus error"), std::string::npos) << r.status().message();
  ExpectFailedMedia(pool->CreateLease(Spec("x", kK4)).status(), Code::kFailedPrecondition);
  EXPECT_FALSE(pool->Describe().failure.empty());
  pool.reset();  // writes nothing, does not fault
}

TEST(PoolMediaTest, ABusErrorWhileFormattingIsAnIoErrorNotACrash) {
  PoolFile f(kPoolSize);
  TruncateAfterStep hooks(f.path(), 4096);
  hooks.at = 1;  // after the headers are invalidated, the metadata writes fault
  Status s = Pool::Format(f.backing(), SmallPool(), &hooks);
  EXPECT_EQ(s.code(), Code::kIoError) << s.ToString();
  EXPECT_NE(s.message().find("pool p0 (being formatted on"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("create-pool again"), std::string::npos) << s.message();
}

// A tmpfs of `size` bytes in a private mount namespace of a child process
// (root only): runs `body` there and returns its exit code, or -1 when the
// mount is not possible here.
int InSmallFileSystem(uint64_t size, const std::function<int(const std::string&)>& body) {
  if (::geteuid() != 0) return -1;
  const std::string dir = "/tmp/pmemd-fullfs-" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0700);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + std::to_string(size)).c_str()) != 0)
      ::_exit(99);
    ::_exit(body(dir));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::rmdir(dir.c_str());
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status) == 99 ? -1 : WEXITSTATUS(status);
}

TEST(PoolMediaTest, FormatOnAFullFileSystemIsNoSpaceNamingTheFileAndTheSize) {
  // A 64 MiB sparse file on a 1 MiB file system: ftruncate succeeds, and
  // the metadata (about 1.1 MiB with a 1 MiB log) does not fit.
  int rc = InSmallFileSystem(1 << 20, [](const std::string& dir) {
    const std::string path = dir + "/p.pool";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
    if (fd < 0 || ::ftruncate(fd, 64 << 20) != 0) return 2;
    ::close(fd);
    PoolFormatOptions o = SmallPool();
    o.log_size = 1 << 20;
    Status s = Pool::Format({path, 0, 64 << 20, "", ""}, o);
    std::printf("[ format ] %s\n", s.ToString().c_str());
    std::fflush(stdout);
    if (s.code() != Code::kNoSpace) return 3;
    if (s.message().find(path) == std::string::npos || s.message().find("bytes") == std::string::npos) return 4;
    return 0;
  });
  if (rc == -1) GTEST_SKIP() << "needs root to mount a small tmpfs in a private mount namespace";
  EXPECT_EQ(rc, 0) << "exit code 3: not kNoSpace; 4: the message does not name the file and size; 135: SIGBUS";
}


// ---- Sweeps -----------------------------------------------------------------------

// Writes nothing more once `stop` is set, as if the process had died.
class StopWriting : public PoolHooks {
 public:
  bool stop = false;
  bool CrashAfterPersist(std::string_view, uint64_t) override { return stop; }
};

// A pool with leases, labels, block transitions, a checkpoint and live log
// records after it (the last operations were never checkpointed).
void FormatWithLiveLog(const PoolFile& f) {
  ASSERT_TRUE(Pool::Format(f.backing(), SmallPool()).ok());
  StopWriting h;
  auto pool = MustAttach(f, &h);
  ASSERT_TRUE(pool->OnlineBlocks(0, 4).ok());
  LeaseSpec a = Spec("a", 3 * kK4, kK4, "vm1");
  a.labels = {{"app", "pg"}, {"tier", "1"}};
  ASSERT_TRUE(pool->CreateLease(a).ok());
  ASSERT_TRUE(pool->CreateLease(Spec("b", 2 * kM, 2 * kM)).ok());
  ASSERT_TRUE(pool->CreateLease(Spec("c:x", 5 * kK4)).ok());
  ASSERT_TRUE(pool->OfflineBlocks(3, 1).ok());
  ASSERT_TRUE(pool->Checkpoint().ok());
  LeaseSpec d = Spec("d", 2 * kK4, kK4, "owner-d");
  d.labels = {{"k", "v"}};
  ASSERT_TRUE(pool->CreateLease(d).ok());
  ASSERT_TRUE(pool->DeleteLease("c:x").ok());
  ASSERT_TRUE(pool->OnlineBlocks(4, 2).ok());
  h.stop = true;
  (void)pool->CreateLease(Spec("e", kK4));  // persisted, then the "crash"
}

// Recomputes the checksum of the structure holding byte `o` of the image,
// as a forger would.
void Reseal(std::vector<uint8_t>& m, uint64_t o, const pf::Geometry& g, uint64_t log_size) {
  auto seal = [&](uint64_t base, uint64_t covered, uint64_t seed = 0) {
    uint64_t c = pf::Checksum(m.data() + base, covered, seed);
    std::memcpy(m.data() + base + covered, &c, 8);
  };
  if (o < pf::kHeaderBOffset + sizeof(pf::Header) && o % pf::kHeaderBOffset < sizeof(pf::Header)) {
    seal(pf::kHeaderAOffset, offsetof(pf::Header, checksum));
    seal(pf::kHeaderBOffset, offsetof(pf::Header, checksum));
  } else if (o >= pf::kCheckpointOffset && o < pf::kCheckpointOffset + 2 * sizeof(pf::CheckpointSlot)) {
    seal(pf::AlignDown(o, sizeof(pf::CheckpointSlot)), offsetof(pf::CheckpointSlot, checksum));
  } else if (o >= g.lease_table_offset && o < g.log_offset) {
    seal(g.lease_table_offset + pf::AlignDown(o - g.lease_table_offset, pf::kLeaseSlotSize),
         offsetof(pf::LeaseSlot, checksum));
  } else if (o >= g.log_offset && o < g.log_offset + log_size) {
    pf::Header h;
    std::memcpy(&h, m.data(), sizeof h);
    for (uint64_t pos = 0; pos + sizeof(pf::RecordHeader) <= log_size;) {
      pf::RecordHeader r;
      std::memcpy(&r, m.data() + g.log_offset + pos, sizeof r);
      if (r.magic != pf::kRecordMagic || r.length > log_size - pos - sizeof r) return;
      const uint64_t start = g.log_offset + pos, end = start + sizeof r + r.length;
      if (o < end) {
        r.checksum = 0;
        std::memcpy(m.data() + start, &r, sizeof r);
        r.checksum = pf::Checksum(m.data() + start, end - start, pf::UuidSeed(h.uuid));
        std::memcpy(m.data() + start, &r, sizeof r);
        return;
      }
      pos += pf::AlignUp(sizeof r + r.length, pf::kRecordAlign);
    }
  }
}

// Raises the given loggers to warnings while in scope.
class QuietLoggers {
 public:
  explicit QuietLoggers(std::vector<std::string> names) {
    for (auto& n : names) {
      auto l = GetLogger(n);
      saved_.push_back({l, l->level()});
      l->set_level(spdlog::level::warn);
    }
  }
  ~QuietLoggers() {
    for (auto& [l, level] : saved_) l->set_level(level);
  }

 private:
  std::vector<std::pair<std::shared_ptr<spdlog::logger>, spdlog::level::level_enum>> saved_;
};

// Attaches `f`; a pool that attaches is used a little (every lease
// checked, blocks onlined, a lease made). Never a crash or a sanitizer
// report; a refusal is a Status that explains itself.
void AttachAndUse(const PoolFile& f, const std::string& trial) {
  auto p = Pool::Attach(f.backing(), Opts());
  if (!p.ok()) {
    const Status& s = p.status();
    if (s.code() != Code::kCorruption && s.code() != Code::kInvalidArgument && s.code() != Code::kUnsupported)
      ADD_FAILURE() << trial << ": unexpected " << s.ToString();
    if (s.message().empty() || !pf::ValidUtf8(s.message())) ADD_FAILURE() << trial << ": message not UTF-8 text";
    return;
  }
  Pool& pool = **p;
  CheckInvariants(pool);
  const PoolStatus d = pool.Describe();
  (void)pool.OnlineBlocks(0, d.blocks_total);
  (void)pool.CreateLease(Spec("sweep", kK4));
  for (const auto& l : pool.ListLeases()) EXPECT_TRUE(pf::ValidUtf8(l.owner)) << trial;
}

TEST(PoolMediaSweep, EveryMetadataWordDamagedOrForgedAttachesOrFailsWithAStatus) {
  PoolFile f(kPoolSize);
  FormatWithLiveLog(f);
  const pf::Geometry g = SmallGeometry();
  const uint64_t log_size = SmallPool().log_size;
  const std::vector<uint8_t> pristine = ReadBytes(f.path(), 0, g.metadata_end);
  // The words that mean something: both headers, the checkpoint and attach
  // info, the block table, the used lease slots, the used log; then a
  // pseudo-random sample of the rest.
  std::vector<uint64_t> words;
  auto range = [&](uint64_t from, uint64_t len) {
    for (uint64_t o = from; o < from + len; o += 8) words.push_back(o);
  };
  range(pf::kHeaderAOffset, sizeof(pf::Header));
  range(pf::kHeaderBOffset, sizeof(pf::Header));
  range(pf::kCheckpointOffset, 2 * sizeof(pf::CheckpointSlot) + sizeof(pf::AttachInfo));
  range(g.block_table_offset, (kPoolSize / SmallPool().block_size) * 8);
  range(g.lease_table_offset, 5 * pf::kLeaseSlotSize);
  range(g.log_offset, 2048);
  // A fixed seed, so that a failure repeats; PMEMD_SWEEP_SEED samples others.
  const char* env = ::getenv("PMEMD_SWEEP_SEED");
  const unsigned long seed = env ? std::strtoul(env, nullptr, 10) : 20261204;
  std::printf("[ sweep ] random sample seed %lu (PMEMD_SWEEP_SEED=N for another)\n", seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 128; ++i) words.push_back(pf::AlignDown(rng() % g.metadata_end, 8));

  // Thousands of attaches: only warnings and errors in the log.
  QuietLoggers quiet({"pool", "memmap"});
  uint64_t trials = 0;
  for (uint64_t o : words) {
    uint64_t w;
    std::memcpy(&w, pristine.data() + o, 8);
    const uint64_t values[] = {w ^ (1ull << (o / 8 % 64)), ~0ull, w | 0xffffffffull, (1ull << 40) | (w & 0xfff), 0};
    for (bool forge : {false, true}) {
      for (uint64_t v : values) {
        std::vector<uint8_t> m = pristine;
        std::memcpy(m.data() + o, &v, 8);
        const bool in_header = o % pf::kHeaderBOffset < sizeof(pf::Header) && o < pf::kCheckpointOffset;
        if (forge && in_header) std::memcpy(m.data() + (o ^ pf::kHeaderBOffset), &v, 8);  // both copies
        if (forge) Reseal(m, o, g, log_size);
        WriteBytes(f.path(), 0, m.data(), m.size());
        AttachAndUse(f, (forge ? "forged" : "damaged") + std::string(" word at ") + std::to_string(o) + " = " +
                            std::to_string(v));
        ++trials;
      }
    }
  }
  std::printf("[ sweep ] %llu attaches of damaged or forged metadata\n", static_cast<unsigned long long>(trials));
}

TEST(PoolMediaSweep, TruncationToEvery4KiBBoundaryOfAPoolWithALiveLogFailsWithAStatus) {
  PoolFile f(kPoolSize);
  FormatWithLiveLog(f);
  const uint64_t end = SmallGeometry().data_offset;
  const auto pristine = ReadBytes(f.path(), 0, end);
  for (uint64_t t = 0; t < kPoolSize; t += (t < end ? 4096 : kM)) {
    ASSERT_EQ(::truncate(f.path().c_str(), static_cast<off_t>(t)), 0);
    PoolBacking now = f.backing();
    now.size = t;
    auto p = Pool::Attach(now, Opts());
    EXPECT_FALSE(p.ok()) << "truncated to " << t;
    if (!p.ok() && t > 0 && t < pf::kMinBackingSize) {
      EXPECT_EQ(p.status().code(), Code::kCorruption) << p.status().ToString();
    }
    ASSERT_EQ(::truncate(f.path().c_str(), static_cast<off_t>(kPoolSize)), 0);
    WriteBytes(f.path(), 0, pristine.data(), pristine.size());
  }
}

}  // namespace
}  // namespace pmemd
