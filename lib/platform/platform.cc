#include "pmemd/platform.h"

namespace pmemd {

Result<DaxBacking> Platform::GetDaxBacking(const std::string& chardev) {
  PMEMD_ASSIGN_OR_RETURN(Inventory inv, List());
  for (const auto& d : inv.dax_devices) {
    if (d.chardev != chardev) continue;
    if (!d.enabled) return Status::FailedPrecondition(chardev + " is disabled; enable its namespace first");
    if (d.mode != "devdax")
      return Status::Busy(chardev + " is " + d.mode + "; reconfigure-device " + chardev + " --mode devdax first");
    return DaxBacking{"/dev/" + chardev, 0, d.size, d.align.value_or(0), true};
  }
  return Status::NotFound("dax device '" + chardev + "' does not exist");
}

Status Platform::CheckUnused(const std::string& dev, const std::string& op) {
  (void)dev;
  (void)op;
  return Status::Ok();
}

}  // namespace pmemd
