#include "platform/ndctl_health.h"

// The kernel uapi header: ndctl/ndctl.h from libndctl-dev v76 needs ccan.
#include <linux/ndctl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vector>

#include "platform/ndctl_lib.h"
#include "pmemd/fs.h"
#include "pmemd/health.h"
#include "pmemd/log.h"

namespace pmemd::nd {

namespace {

std::string HealthStateName(unsigned int health) {
  if (health & ND_SMART_FATAL_HEALTH) return "fatal";
  if (health & ND_SMART_CRITICAL_HEALTH) return "critical";
  if (health & ND_SMART_NON_CRITICAL_HEALTH) return "non-critical";
  return "ok";
}

// The alarm thresholds, when the DIMM has the command; each threshold only
// when its alarm is enabled (ndctl's smart_threshold_to_json).
void ReadThresholds(ndctl_dimm* dimm, DimmHealth* h) {
  NdctlCmdPtr cmd(ndctl_dimm_cmd_new_smart_threshold(dimm));
  if (!cmd || ndctl_cmd_submit_xlat(cmd.get()) < 0) return;
  const unsigned int control = ndctl_cmd_smart_threshold_get_alarm_control(cmd.get());
  h->alarm_enabled_media_temperature = (control & ND_SMART_TEMP_TRIP) != 0;
  h->alarm_enabled_ctrl_temperature = (control & ND_SMART_CTEMP_TRIP) != 0;
  h->alarm_enabled_spares = (control & ND_SMART_SPARE_TRIP) != 0;
  if (control & ND_SMART_TEMP_TRIP)
    h->temperature_threshold_mc =
        SmartTemperatureToMillicelsius(ndctl_cmd_smart_threshold_get_media_temperature(cmd.get()));
  if (control & ND_SMART_CTEMP_TRIP)
    h->controller_temperature_threshold_mc =
        SmartTemperatureToMillicelsius(ndctl_cmd_smart_threshold_get_ctrl_temperature(cmd.get()));
  if (control & ND_SMART_SPARE_TRIP) h->spares_threshold = ndctl_cmd_smart_threshold_get_spares(cmd.get());
}

std::optional<DimmHealth> ReadDimm(ndctl_dimm* dimm) {
  if (!ndctl_dimm_is_cmd_supported(dimm, ND_CMD_SMART)) return std::nullopt;
  NdctlCmdPtr cmd(ndctl_dimm_cmd_new_smart(dimm));
  if (!cmd) return std::nullopt;
  DimmHealth h;  // "unknown" until the command answers
  if (int rc = ndctl_cmd_submit_xlat(cmd.get()); rc < 0) {
    GetLogger("platform")->warn("{}: SMART health command failed: {}", Str(ndctl_dimm_get_devname(dimm)),
                                Errno(rc));
    return h;
  }
  const unsigned int flags = ndctl_cmd_smart_get_flags(cmd.get());
  if (flags & ND_SMART_HEALTH_VALID) h.health_state = HealthStateName(ndctl_cmd_smart_get_health(cmd.get()));
  if (flags & ND_SMART_MTEMP_VALID)
    h.temperature_mc = SmartTemperatureToMillicelsius(ndctl_cmd_smart_get_media_temperature(cmd.get()));
  if (flags & ND_SMART_CTEMP_VALID)
    h.controller_temperature_mc = SmartTemperatureToMillicelsius(ndctl_cmd_smart_get_ctrl_temperature(cmd.get()));
  if (flags & ND_SMART_SPARES_VALID) h.spares_percentage = ndctl_cmd_smart_get_spares(cmd.get());
  if (flags & ND_SMART_ALARM_VALID) {
    const unsigned int alarms = ndctl_cmd_smart_get_alarm_flags(cmd.get());
    h.alarm_temperature = (alarms & ND_SMART_TEMP_TRIP) != 0;
    h.alarm_controller_temperature = (alarms & ND_SMART_CTEMP_TRIP) != 0;
    h.alarm_spares = (alarms & ND_SMART_SPARE_TRIP) != 0;
  }
  if (flags & ND_SMART_USED_VALID) h.life_used_percentage = ndctl_cmd_smart_get_life_used(cmd.get());
  if (flags & ND_SMART_SHUTDOWN_VALID)
    h.shutdown_state = ndctl_cmd_smart_get_shutdown_state(cmd.get()) ? "dirty" : "clean";
  if (flags & ND_SMART_SHUTDOWN_COUNT_VALID) h.shutdown_count = ndctl_cmd_smart_get_shutdown_count(cmd.get());
  ReadThresholds(dimm, &h);
  return h;
}

class NdctlHealthNotifier final : public HealthNotifier {
 public:
  NdctlHealthNotifier(NdctlCtxPtr ctx, UniqueFd wake) : ctx_(std::move(ctx)), wake_(std::move(wake)) {
    ndctl_bus* bus;
    ndctl_bus_foreach(ctx_.get(), bus) {
      ndctl_dimm* dimm;
      ndctl_dimm_foreach(bus, dimm) {
        int fd = ndctl_dimm_get_health_eventfd(dimm);
        if (fd < 0) continue;
        Rearm(fd);  // a sysfs attribute notifies only after it was read
        fds_.push_back(fd);
      }
    }
    GetLogger("health")->info("watching {} DIMM health event file(s)", fds_.size());
  }

  bool Wait(std::chrono::milliseconds timeout) override {
    std::vector<pollfd> p;
    p.push_back({wake_.get(), POLLIN, 0});
    for (int fd : fds_) p.push_back({fd, POLLPRI, 0});
    int n = ::poll(p.data(), p.size(), static_cast<int>(timeout.count()));
    if (n <= 0 || (p[0].revents & POLLIN)) return false;  // timeout, EINTR, or Interrupt()
    bool notified = false;
    for (size_t i = 1; i < p.size(); ++i)
      if (p[i].revents & (POLLPRI | POLLERR)) {
        Rearm(p[i].fd);
        notified = true;
      }
    return notified;
  }

  void Interrupt() override {
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);  // stays readable: every later Wait returns at once
  }

 private:
  static void Rearm(int fd) {
    char buf[128];
    (void)!::pread(fd, buf, sizeof buf, 0);
  }

  NdctlCtxPtr ctx_;  // owns the DIMMs' fds
  UniqueFd wake_;
  std::vector<int> fds_;  // borrowed from ctx_
};

}  // namespace

DimmHealthMap ReadHealth(ndctl_ctx* ctx) {
  DimmHealthMap m;
  ndctl_bus* bus;
  ndctl_bus_foreach(ctx, bus) {
    ndctl_dimm* dimm;
    ndctl_dimm_foreach(bus, dimm) m[Str(ndctl_dimm_get_devname(dimm))] = ReadDimm(dimm);
  }
  return m;
}

Result<std::shared_ptr<HealthNotifier>> OpenNdctlHealthNotifier() {
  PMEMD_ASSIGN_OR_RETURN(NdctlCtxPtr ctx, NewNdctlCtx());
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return Status::FromErrno(errno, "eventfd for the DIMM health watcher");
  return std::shared_ptr<HealthNotifier>(std::make_shared<NdctlHealthNotifier>(std::move(ctx), std::move(wake)));
}

}  // namespace pmemd::nd
