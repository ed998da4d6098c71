#include "pmemd/platform.h"

namespace pmemd {

namespace {

Status NotOn(const Platform& p, const std::string& op) {
  return Status::Unsupported(op + " is not available on the " + std::string(p.Kind()) + " platform");
}

}  // namespace

Result<NamespacePlan> Platform::PlanCreateNamespace(const NamespaceSpec&) {
  return NotOn(*this, "create-namespace");
}
Result<Namespace> Platform::CreateNamespace(const NamespaceSpec&) { return NotOn(*this, "create-namespace"); }
Status Platform::DestroyNamespace(const std::string&, bool) { return NotOn(*this, "destroy-namespace"); }
Status Platform::EnableNamespace(const std::string&) { return NotOn(*this, "enable-namespace"); }
Status Platform::DisableNamespace(const std::string&) { return NotOn(*this, "disable-namespace"); }
Result<NamespacePlan> Platform::PlanReconfigureNamespace(const std::string&, const NamespaceSpec&) {
  return NotOn(*this, "reconfigure-namespace");
}
Result<Namespace> Platform::ReconfigureNamespace(const std::string&, const NamespaceSpec&) {
  return NotOn(*this, "reconfigure-namespace");
}
Result<DaxDevice> Platform::ReconfigureDevice(const std::string&, const std::string&, bool, bool) {
  return NotOn(*this, "reconfigure-device");
}
Result<MemoryOpResult> Platform::OnlineMemory(const std::string&, bool) { return NotOn(*this, "online-memory"); }
Result<MemoryOpResult> Platform::OfflineMemory(const std::string&) { return NotOn(*this, "offline-memory"); }

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

}  // namespace pmemd
