#include "platform/sysfs_memory.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>
#include <thread>

#include "pmemd/fs.h"
#include "pmemd/log.h"

namespace pmemd::sysfs {

namespace fs = std::filesystem;

namespace {

// Parses "<prefix><decimal>" ("memory42", "node1"); nullopt for anything else.
std::optional<uint64_t> NumberAfterPrefix(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view digits = name.substr(prefix.size());
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 10);
  if (ec != std::errc() || p != digits.data() + digits.size()) return std::nullopt;
  return v;
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

}  // namespace

std::string MemoryDir(const std::string& sysfs_root) { return sysfs_root + "/devices/system/memory"; }

Result<uint64_t> ParseSysfsHex(std::string_view text, const std::string& what) {
  std::string_view t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.remove_suffix(1);
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) t.remove_prefix(2);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, 16);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size())
    return Status::IoError(what + ": expected a hexadecimal number, read '" + std::string(text) + "'");
  return v;
}

std::string ZoneFromValidZones(std::string_view valid_zones, std::string_view state) {
  if (state != "online") return "";
  size_t b = valid_zones.find_first_not_of(" \n");
  if (b == std::string_view::npos) return "";
  size_t e = valid_zones.find_first_of(" \n", b);
  std::string_view first = valid_zones.substr(b, e == std::string_view::npos ? e : e - b);
  if (first == "none") return "";
  return std::string(first);
}

Result<MemoryBlock> ReadMemoryBlock(const std::string& memory_dir, uint64_t id,
                                    uint64_t block_size) {
  const std::string dir = memory_dir + "/memory" + std::to_string(id);
  if (!Exists(dir)) return Status::NotFound("memory block directory " + dir + " does not exist");

  MemoryBlock b;
  b.id = id;
  b.size = block_size;

  PMEMD_ASSIGN_OR_RETURN(std::string phys, ReadSysfs(dir + "/phys_index"));
  PMEMD_ASSIGN_OR_RETURN(b.phys_index, ParseSysfsHex(phys, dir + "/phys_index"));
  b.start = b.phys_index * block_size;

  PMEMD_ASSIGN_OR_RETURN(b.state, ReadSysfs(dir + "/state"));

  // valid_zones is absent on kernels built without it and unreadable for some
  // special blocks; the zone is then unknown, which is not an error.
  auto zones = ReadSysfs(dir + "/valid_zones");
  if (zones.ok()) {
    b.valid_zones = *zones;
    b.zone = ZoneFromValidZones(b.valid_zones, b.state);
  } else if (zones.status().code() != Code::kNotFound) {
    return zones.status();
  }

  auto removable = ReadSysfs(dir + "/removable");
  if (removable.ok()) {
    if (*removable != "0" && *removable != "1")
      return Status::IoError(dir + "/removable: expected 0 or 1, read '" + *removable + "'");
    b.removable = *removable == "1";
  } else if (removable.status().code() != Code::kNotFound) {
    return removable.status();
  }

  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto node = NumberAfterPrefix(it->path().filename().string(), "node");
    if (node && *node <= static_cast<uint64_t>(INT32_MAX)) {
      b.node = static_cast<int>(*node);
      break;
    }
  }
  if (ec) return Status::FromErrno(ec.value(), "list " + dir);
  return b;
}

Result<MemoryTopology> ReadMemoryTopology(const std::string& sysfs_root) {
  const std::string dir = MemoryDir(sysfs_root);
  MemoryTopology topo;

  auto bs = ReadSysfs(dir + "/block_size_bytes");
  if (!bs.ok()) {
    if (bs.status().code() == Code::kNotFound)
      return Status(Code::kNotFound,
                    dir + "/block_size_bytes does not exist: the kernel has no memory hotplug "
                          "support (CONFIG_MEMORY_HOTPLUG) or '" + sysfs_root +
                          "' is not a sysfs mount; memory blocks need both",
                    bs.status().sys_errno());
    return bs.status();
  }
  PMEMD_ASSIGN_OR_RETURN(topo.block_size, ParseSysfsHex(*bs, dir + "/block_size_bytes"));
  if (topo.block_size == 0)
    return Status::IoError(dir + "/block_size_bytes reads 0; expected the memory block size");

  auto policy = ReadSysfs(dir + "/auto_online_blocks");
  if (policy.ok()) {
    topo.auto_online_blocks = *policy;
  } else if (policy.status().code() != Code::kNotFound) {
    return policy.status();
  }

  std::vector<uint64_t> ids;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (auto id = NumberAfterPrefix(it->path().filename().string(), "memory")) ids.push_back(*id);
  }
  if (ec) return Status::FromErrno(ec.value(), "list " + dir);
  std::sort(ids.begin(), ids.end());

  topo.blocks.reserve(ids.size());
  for (uint64_t id : ids) {
    auto block = ReadMemoryBlock(dir, id, topo.block_size);
    if (!block.ok()) {
      // Hot-removed since the directory was listed: not part of the snapshot.
      if (block.status().code() == Code::kNotFound &&
          !Exists(dir + "/memory" + std::to_string(id))) {
        GetLogger("platform")->debug("memory{} disappeared while listing; skipped", id);
        continue;
      }
      return block.status();
    }
    topo.blocks.push_back(std::move(*block));
  }
  return topo;
}

void AssignDaxDevices(std::vector<MemoryBlock>& blocks, const std::vector<PhysRange>& ranges) {
  for (MemoryBlock& b : blocks) {
    b.dax_device.clear();
    for (const PhysRange& r : ranges) {
      if (r.size != 0 && b.start >= r.start && b.start - r.start < r.size) {
        b.dax_device = r.owner;
        break;
      }
    }
  }
}

Status WriteSysfsWithDeadline(const std::string& path, std::string_view value, Deadline deadline,
                              std::chrono::milliseconds grace) {
  using Clock = std::chrono::steady_clock;
  // Everything the child touches is ready before fork(): after it, the child
  // of a threaded process may only call async-signal-safe functions.
  const std::string data(value);
  const char* file = path.c_str();
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno(errno, "fork a writer for " + path);
  if (pid == 0) {
    int fd = ::open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) ::_exit(errno > 0 && errno < 255 ? errno : 255);
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) ::_exit(errno > 0 && errno < 255 ? errno : 255);
    ::_exit(static_cast<size_t>(n) == data.size() ? 0 : 254);
  }
  // Waits for the child until `until`; true once it has ended (`status` set).
  int status = 0;
  auto wait_until = [&](Clock::time_point until) {
    auto nap = std::chrono::microseconds(200);
    for (;;) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid || (r < 0 && errno != EINTR)) return true;
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(std::min<Clock::duration>(nap, until - Clock::now()));
      nap = std::min(nap * 2, std::chrono::microseconds(20'000));
    }
  };
  const std::string what = "write '" + data + "' to " + path;
  if (!wait_until(deadline)) {
    ::kill(pid, SIGKILL);
    if (!wait_until(Clock::now() + grace)) {
      std::thread([pid] {
        int st = 0;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
      }).detach();
      return Status(Code::kUnavailable,
                    what + " was stopped at its deadline but the kernel has not let go of it after " +
                        std::to_string(grace.count()) + " ms more",
                    ETIMEDOUT);
    }
    if (WIFSIGNALED(status)) return Status(Code::kBusy, what + " was stopped at its deadline", EINTR);
  }
  if (WIFSIGNALED(status)) return Status::IoError(what + ": the writer died of signal " + std::to_string(WTERMSIG(status)));
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
  if (code == 0) return Status::Ok();
  if (code == 254) return Status::IoError("short " + what);
  if (code == 255) return Status::IoError(what + " failed with an unknown error");
  if (code == EBUSY || code == EAGAIN) return Status(Code::kBusy, Status::FromErrno(code, what).message(), code);
  return Status::FromErrno(code, what);
}

Status WriteBlockState(const std::string& memory_dir, const BlockWrite& w) {
  const std::string path = memory_dir + "/memory" + std::to_string(w.id) + "/state";
  const std::string word(KmemRequestWord(w.to, w.movable));
  if (w.to != KmemState::kOffline) {
    // Onlining has no migration loop to get stuck in: written directly.
    Status s = WriteSysfs(path, word);
    if (s.ok() || (s.sys_errno() != EAGAIN && s.sys_errno() != EBUSY)) return s;
    return Status(Code::kBusy, s.message(), s.sys_errno());
  }
  Status s = WriteSysfsWithDeadline(path, word, w.deadline);
  if (s.sys_errno() != EINTR && s.sys_errno() != ETIMEDOUT) return s;
  // Stopped: where did the block end? The write may have finished just as
  // the deadline came.
  auto now = ReadSysfs(path);
  if (now.ok() && *now == "offline") return Status::Ok();
  if (now.ok() && *now == "online") return s;  // the kernel cancelled it
  return Status(Code::kBusy,
                s.message() + "; the block is " + (now.ok() ? *now : now.status().message()) +
                    ", the kernel still works on it",
                s.sys_errno());
}

BlockStateWriter SysfsBlockWriter(const std::string& memory_dir) {
  return [memory_dir](const BlockWrite& w) { return WriteBlockState(memory_dir, w); };
}

}  // namespace pmemd::sysfs
