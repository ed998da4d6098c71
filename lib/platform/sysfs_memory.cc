#include "platform/sysfs_memory.h"

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

Status WriteBlockState(const std::string& memory_dir, uint64_t id, const std::string& state) {
  const std::string path = memory_dir + "/memory" + std::to_string(id) + "/state";
  Status s = WriteSysfs(path, state);
  if (s.ok() || s.sys_errno() != EAGAIN) return s;
  return Status(Code::kBusy, s.message(), EAGAIN);
}

namespace {

std::string OnlineWord(bool movable) { return movable ? "online_movable" : "online_kernel"; }

}  // namespace

MemoryOpResult OnlineBlocks(const std::string& chardev, const std::vector<MemoryBlock>& blocks, bool movable,
                            const BlockStateWriter& write, const BlockTransitionFn& on_transition) {
  MemoryOpResult result;
  result.chardev = chardev;
  for (const MemoryBlock& b : blocks) {
    if (b.state == "online") {
      result.blocks.push_back({b.id, "online", "online", Status::Ok()});
      continue;
    }
    Status s = write(b.id, OnlineWord(movable));
    if (!s.ok()) {
      result.blocks.push_back({b.id, b.state, b.state,
                               s.Annotate("online memory block " + std::to_string(b.id) + " of " + chardev)});
      // Put back what this call onlined: the device ends as it started.
      for (BlockResult& r : result.blocks) {
        if (r.from == "online" || r.to != "online") continue;
        if (Status u = write(r.id, "offline"); !u.ok()) {
          r.status = u.Annotate("roll back: offline memory block " + std::to_string(r.id) + " again");
          continue;  // it stays online; the result says so
        }
        r.to = r.from;
        r.rolled_back = true;
        if (on_transition) on_transition(r.id, "online", "offline", true);
      }
      result.rolled_back = true;
      return result;
    }
    result.blocks.push_back({b.id, b.state, "online", Status::Ok()});
    if (on_transition) on_transition(b.id, b.state, "online", false);
  }
  return result;
}

MemoryOpResult OfflineBlocks(const std::string& chardev, const std::vector<MemoryBlock>& blocks,
                             const BlockStateWriter& write, const BlockTransitionFn& on_transition,
                             const BlockWalkOptions& options) {
  auto sleep = options.sleep ? options.sleep
                             : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  MemoryOpResult result;
  result.chardev = chardev;
  for (const MemoryBlock& b : blocks) {
    if (b.state != "online") {
      result.blocks.push_back({b.id, b.state, b.state, Status::Ok()});
      continue;
    }
    std::chrono::milliseconds waited{0}, delay = options.first_delay;
    int tries = 0;
    Status s;
    for (;;) {
      ++tries;
      s = write(b.id, "offline");
      if (s.ok() || s.code() != Code::kBusy || waited + delay > options.timeout) break;
      sleep(delay);
      waited += delay;
      delay = std::min(delay * 2, options.max_delay);
    }
    if (!s.ok()) {
      std::string why = "memory block " + std::to_string(b.id) + " of " + chardev;
      if (s.code() == Code::kBusy)
        s = Status(Code::kBusy,
                   why + " is busy (" + s.message() + ", after " + std::to_string(tries) + " tries over " +
                       std::to_string(waited.count()) + " ms): it holds pages the kernel cannot migrate",
                   s.sys_errno());
      else
        s = s.Annotate("offline " + why);
      result.blocks.push_back({b.id, "online", "online", s});
      for (BlockResult& r : result.blocks) {
        if (r.from != "online" || r.to != "offline") continue;
        const MemoryBlock* orig = nullptr;
        for (const MemoryBlock& x : blocks)
          if (x.id == r.id) orig = &x;
        if (Status u = write(r.id, OnlineWord(orig && orig->zone == "Movable")); !u.ok()) {
          r.status = u.Annotate("roll back: online memory block " + std::to_string(r.id) + " again");
          continue;
        }
        r.to = "online";
        r.rolled_back = true;
        if (on_transition) on_transition(r.id, "going-offline", "online", true);
      }
      result.rolled_back = true;
      return result;
    }
    result.blocks.push_back({b.id, "online", "offline", Status::Ok()});
    if (on_transition) on_transition(b.id, "online", "going-offline", false);
  }
  for (const BlockResult& r : result.blocks)
    if (r.from == "online" && r.to == "offline" && on_transition) on_transition(r.id, "going-offline", "offline", false);
  return result;
}

}  // namespace pmemd::sysfs
