#include "platform/device_users.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string_view>

namespace pmemd {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

bool IsDevice(const struct stat& st, dev_t rdev) { return S_ISCHR(st.st_mode) && st.st_rdev == rdev; }

bool HoldsOpen(const std::string& fd_dir, dev_t rdev) {
  DirPtr dir(::opendir(fd_dir.c_str()));
  if (!dir) return false;
  while (struct dirent* e = ::readdir(dir.get())) {
    if (e->d_name[0] == '.') continue;
    struct stat st{};
    // stat() follows the magic link to the open file itself.
    if (::stat((fd_dir + "/" + e->d_name).c_str(), &st) == 0 && IsDevice(st, rdev)) return true;
  }
  return false;
}

// A maps line: "start-end perms offset dev inode   pathname".
bool HoldsMapped(const std::string& maps, dev_t rdev, std::map<std::string, bool>* path_is_device) {
  std::ifstream in(maps);
  for (std::string line; std::getline(in, line);) {
    const size_t slash = line.find(" /");
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash + 1);
    if (path.ends_with(" (deleted)")) continue;
    auto [it, fresh] = path_is_device->try_emplace(path, false);
    if (fresh) {
      struct stat st{};
      it->second = ::stat(path.c_str(), &st) == 0 && IsDevice(st, rdev);
    }
    if (it->second) return true;
  }
  return false;
}

}  // namespace

std::vector<DeviceUser> CharDeviceUsers(dev_t rdev, const std::string& proc_root, size_t max) {
  std::vector<DeviceUser> users;
  DirPtr proc(::opendir(proc_root.c_str()));
  if (!proc) return users;
  const pid_t self = ::getpid();
  std::map<std::string, bool> path_is_device;  // a mapped path is stat()ed once per walk
  while (struct dirent* e = ::readdir(proc.get())) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == self) continue;
    const std::string dir = proc_root + "/" + e->d_name;
    const char* how = HoldsOpen(dir + "/fd", rdev)                          ? "open"
                      : HoldsMapped(dir + "/maps", rdev, &path_is_device) ? "mapped"
                                                                          : nullptr;
    if (how == nullptr) continue;
    std::string comm;
    std::ifstream(dir + "/comm") >> comm;
    users.push_back({static_cast<pid_t>(pid), comm, how});
    if (users.size() >= max) break;
  }
  return users;
}

std::string DescribeUsers(const std::vector<DeviceUser>& users) {
  std::string out;
  for (const auto& u : users)
    out += (out.empty() ? "" : ", ") + ("pid " + std::to_string(u.pid) + " (" + u.comm + ": " + u.how + ")");
  return out;
}

Status CheckCharDeviceUnused(dev_t rdev, const std::string& device, const std::string& op) {
  std::vector<DeviceUser> users = CharDeviceUsers(rdev);
  if (users.empty()) return Status::Ok();
  return Status(Code::kBusy,
                "cannot " + op + ": /dev/" + device + " is in use by " + DescribeUsers(users) +
                    "; disabling a device-dax device that a process maps leaves the kernel with "
                    "references to pages it frees (docs/memory-blocks.md); stop those processes (fuser -v /dev/" +
                    device + "), then retry",
                EBUSY);
}

}  // namespace pmemd
