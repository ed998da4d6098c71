#include "pmemd/daemon.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "pmemd/api.h"
#include "pmemd/crash_hook.h"
#include "server/crash_at_event.h"
#include "server/http_metrics.h"
#include "pmemd/emulated_platform.h"
#include "pmemd/event_stream.h"
#include "pmemd/events.h"
#include "pmemd/metrics.h"
#include "pmemd/fs.h"
#include "pmemd/health.h"
#include "pmemd/json_reader.h"
#include "pmemd/layout.h"
#include "pmemd/log.h"
#include "pmemd/ndctl_platform.h"
#include "pmemd/options.h"
#include "pmemd/pool_manager.h"
#include "pmemd/rpc.h"
#include "pmemd/server.h"
#include "pmemd/text.h"

namespace pmemd {

namespace {

// True when the kernel shows at least one nd region: real pmem to manage.
bool HasNdRegions() {
  DIR* d = ::opendir("/sys/bus/nd/devices");
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* e = ::readdir(d))
    if (std::string_view(e->d_name).starts_with("region")) found = true;
  ::closedir(d);
  return found;
}

// One daemon per state directory: its label store, journals and pools are
// not shared. The lock file holds the owner's pid for the error message.
Result<UniqueFd> LockStateDir(const std::string& dir) {
  std::string path = dir + "/pmemd.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::FromErrno(errno, "open " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string owner;
    if (auto text = ReadFile(path); text.ok() && !text->empty()) owner = " (pid " + *text + ")";
    if (err == EWOULDBLOCK)
      return Status::AlreadyExists("state directory " + dir + " is in use by another pmemd" + owner +
                                   "; stop it first, or choose another --state-dir");
    return Status::FromErrno(err, "lock " + path);
  }
  std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0)
    return Status::FromErrno(errno, "write " + path);
  return fd;
}

// Each connection is a descriptor: max_connections (1024 by default) plus
// the platform's and the pools' own would not fit the usual soft limit of
// 1024. Raise the soft limit to the hard one, which needs no privilege.
void RaiseFileLimit(size_t max_connections) {
  auto log = GetLogger("pmemd");
  struct rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) == 0)
      log->info("raised the open-file limit from {} to {}", old, rl.rlim_max);
  }
  constexpr size_t kOwnDescriptors = 64;  // platform, pools, journals, log
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max_connections + kOwnDescriptors)
    log->warn("the open-file limit {} is below max_connections {} plus {} for pmemd itself; raise "
              "LimitNOFILE or lower max_connections",
              rl.rlim_cur, max_connections, kOwnDescriptors);
}

// The config's layout, applied before the first request (a host comes up
// with its pmem configured). Never with force: a start-up apply destroys no
// data; it prunes only when the layout itself says so. Any failure is
// logged at error and start-up goes on: the daemon serves what the host has,
// and pmemctl apply can finish the job once the cause is fixed. Refusing to
// start would also take away the pools and leases that are fine.
void ApplyConfiguredLayout(const nlohmann::json& setting, LayoutApplier* applier) {
  auto log = GetLogger("layout");
  nlohmann::json doc = setting;
  std::string source = "config.layout";
  if (setting.is_string()) {
    source = setting.get<std::string>();
    Result<std::string> text = ReadFile(source);
    Result<nlohmann::json> parsed = text.ok() ? ParseJson(*text) : Result<nlohmann::json>(text.status());
    if (!parsed.ok()) {
      log->error("start-up layout {} not applied: {}", source, parsed.status().message());
      return;
    }
    doc = std::move(parsed).value();
  }
  Result<Layout> layout = ParseLayout(doc, source);
  Result<ApplyResult> r = layout.ok() ? applier->Apply(*layout, {}) : Result<ApplyResult>(layout.status());
  if (!r.ok()) {
    log->error("start-up layout {} not applied: {}", source, r.status().message());
    return;
  }
  if (r->plan.steps.empty())
    log->info("start-up layout {}: the host already matches it", source);
  else
    log->info("start-up layout {} applied: {} steps", source, r->done);
}

}  // namespace

const std::vector<OptionSpec>& DaemonOptions() {
  static const std::vector<OptionSpec> options = {
      {'c', "config", "config", ArgKind::kPath, "read this JSON configuration file (pmemd.json(5))", "FILE"},
      {0, "socket", "socket", ArgKind::kPath, "listen on this Unix socket (the config's socket)"},
      {0, "state-dir", "state_dir", ArgKind::kPath, "keep journals, labels and emulated regions here (state_dir)",
       "DIR"},
      {0, "platform", "platform", ArgKind::kText, "auto, emulated or ndctl (platform)", "PLATFORM",
       {"auto", "emulated", "ndctl"}},
      {0, "log-level", "log_level", ArgKind::kText, "trace, debug, info, warn, error, critical or off (log_level)",
       "LEVEL", {"trace", "debug", "info", "warn", "error", "critical", "off"}},
      {0, "version", "version", ArgKind::kNone, "print the version and the API version, and exit"},
      {'h', "help", "help", ArgKind::kNone, "print this help and exit"},
  };
  return options;
}

std::string DaemonUsage() {
  return "usage: pmemd [options]\n"
         "\n"
         "With no flags pmemd runs on its embedded defaults: platform auto (the real\n"
         "one as root or under systemd, never emulated regions there; the emulated one\n"
         "for an ordinary user), a per-user socket and state directory. Flags override\n"
         "the config file's keys.\n\noptions:\n" +
         OptionHelp(DaemonOptions());
}

Result<DaemonFlags> ParseDaemonFlags(const std::vector<std::string>& args) {
  PMEMD_ASSIGN_OR_RETURN(ParsedOptions p, ParseOptions(DaemonOptions(), args));
  if (!p.positional.empty())
    return Status::InvalidArgument("unexpected argument " + Quote(p.positional[0]) + "; see pmemd --help");
  DaemonFlags f;
  f.help = p.switches.count("help") > 0;
  f.version = p.switches.count("version") > 0;
  f.config_file = p.Get("config");
  auto optional = [&](const char* key, std::optional<std::string>* out) {
    if (p.values.count(key)) *out = p.Get(key);
  };
  optional("socket", &f.socket);
  optional("state_dir", &f.state_dir);
  optional("platform", &f.platform);
  optional("log_level", &f.log_level);
  return f;
}

Result<Config> ResolveConfig(const DaemonFlags& flags) {
  Config c = DefaultConfig();
  if (!flags.config_file.empty()) PMEMD_RETURN_IF_ERROR(LoadConfigFile(flags.config_file, &c));
  if (flags.socket) c.socket_path = *flags.socket;
  if (flags.state_dir) c.state_dir = *flags.state_dir;
  if (flags.platform) c.platform = *flags.platform;
  if (flags.log_level) c.log_level = *flags.log_level;
  PMEMD_RETURN_IF_ERROR(ValidateConfig(c));
  return c;
}

struct Daemon::Parts {
  Config config;
  UniqueFd state_lock;
  EventBus events;
  std::unique_ptr<EventStream> stream;  // subscribe's ring and queues; outlives the server's sessions
  RequestMetrics requests;
  EventBus::Subscription log_events;
  std::optional<EventBus::Subscription> crash_at_event;
  std::unique_ptr<PlatformOwner> owner;
  std::unique_ptr<HealthMonitor> health;  // reads the owner's platform: declared after it, stopped before it
  std::unique_ptr<PoolManager> pools;
  std::unique_ptr<LayoutApplier> layouts;
  Registry registry;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<Server> server;
  std::unique_ptr<HttpMetrics> http;  // metrics_listen; null when off
};

Daemon::Daemon(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::Create(const Config& config, std::function<void()> on_reload) {
  auto log = GetLogger("pmemd");
  auto p = std::make_unique<Parts>();
  p->config = config;
  PMEMD_RETURN_IF_ERROR(MakeDirs(config.state_dir, 0700));
  // pmemd trusts what it reads there (journal, labels, pool records).
  PMEMD_RETURN_IF_ERROR(CheckPrivateDir(config.state_dir).Annotate("state_dir"));
  PMEMD_ASSIGN_OR_RETURN(p->state_lock, LockStateDir(config.state_dir));
  p->stream = std::make_unique<EventStream>(
      &p->events, EventStreamOptions{.ring_size = config.event_ring_size,
                                     .queue_events = config.event_queue_events,
                                     .queue_bytes = config.event_queue_bytes});

  // Every state change is logged from the one place they all pass through.
  auto events_log = GetLogger("events");
  // A memory block's or a pool block's own transition is at debug: an
  // operation on thousands of blocks logs its one summary at info (2,047
  // blocks once made 4,094 info lines, past journald's rate limit); a change
  // made behind pmemd's back is at info, whatever it is.
  // Under systemd (JOURNAL_STREAM) an event goes to the journal with fields
  // of its own (PMEMD_EVENT, PMEMD_OBJECT, PMEMD_FROM, PMEMD_TO, PMEMD_SEQ,
  // and PMEMD_REQUEST, PMEMD_PEER_UID, PMEMD_PEER_PID for the request that
  // caused it), so `journalctl PMEMD_OBJECT=namespace0.1` finds its history;
  // on a terminal it is the same line as every other.
  const bool journal = LoggingToJournal();
  p->log_events = p->events.Subscribe([events_log, journal](const Event& e) {
    bool external = e.detail.is_object() && e.detail.value("source", "") == "external";
    bool per_block = e.kind == "memory_block" || e.kind == "pool_block";
    const auto level = per_block && !external ? spdlog::level::debug : spdlog::level::info;
    if (!events_log->should_log(level)) return;
    const std::string line = e.kind + " " + e.object + ": " + (e.from.empty() ? "(none)" : e.from) + " -> " +
                             (e.to.empty() ? "(none)" : e.to) + (external ? " (external)" : "");
    if (!journal) return events_log->log(level, "{}", line);
    const std::string request = e.request ? e.request->method : "";
    sd_journal_send("MESSAGE=events: %s", line.c_str(), "PRIORITY=%d", level == spdlog::level::debug ? 7 : 6,
                    "SYSLOG_IDENTIFIER=pmemd", "PMEMD_EVENT=%s", e.kind.c_str(), "PMEMD_OBJECT=%s", e.object.c_str(),
                    "PMEMD_FROM=%s", e.from.c_str(), "PMEMD_TO=%s", e.to.c_str(), "PMEMD_SEQ=%llu",
                    static_cast<unsigned long long>(e.seq), "PMEMD_SOURCE=%s", external ? "external" : "pmemd",
                    "PMEMD_REQUEST=%s", request.c_str(), "PMEMD_PEER_UID=%lld",
                    static_cast<long long>(e.request ? e.request->uid : -1), "PMEMD_PEER_PID=%lld",
                    static_cast<long long>(e.request ? e.request->pid : -1), nullptr);
  });
  PMEMD_ASSIGN_OR_RETURN(p->crash_at_event, CrashAtEventFromEnvironment(&p->events));  // crash tests only

  std::optional<gid_t> admin_gid;
  if (!config.admin_group.empty()) {
    PMEMD_ASSIGN_OR_RETURN(gid_t g, LookupGroup(config.admin_group));
    admin_gid = g;
  }
  p->dispatcher = std::make_unique<Dispatcher>(&p->registry, AccessPolicy(admin_gid),
                                               DispatcherLimits{.max_reply_bytes = config.max_reply_bytes});
  p->dispatcher->set_metrics(&p->requests);

  RaiseFileLimit(config.max_connections);
  ServerOptions so;
  so.socket_path = config.socket_path;
  so.max_request_bytes = config.max_request_bytes;
  so.max_connections = config.max_connections;
  so.worker_threads = config.worker_threads;
  so.request_timeout = std::chrono::milliseconds(config.request_timeout_ms);
  so.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
  so.reserved_admin_connections = config.reserved_admin_connections;
  so.max_connections_per_uid = config.max_connections_per_uid;
  so.max_buffered_bytes = config.max_buffered_bytes;
  if (!config.socket_group.empty()) {
    PMEMD_ASSIGN_OR_RETURN(gid_t g, LookupGroup(config.socket_group));
    so.socket_gid = g;
  }
  ServerHooks hooks;
  hooks.on_reload = std::move(on_reload);
  // The stop event is published before the sessions are stopped, so that
  // subscribers get it before their streams close.
  hooks.on_stopping = [events = &p->events] {
    events->Publish({.kind = "daemon", .object = "pmemd", .from = "ready", .to = "stopping"});
    sd_notify(0, "STOPPING=1");
  };
  p->server = std::make_unique<Server>(so, p->dispatcher.get(), std::move(hooks));
  // Bind before opening the platform: a second daemon on the same socket is
  // refused before it touches any device.
  PMEMD_RETURN_IF_ERROR(p->server->Listen());
  if (!config.metrics_listen.empty()) {
    PMEMD_ASSIGN_OR_RETURN(p->http, HttpMetrics::Listen(config.metrics_listen, p->dispatcher.get()));
  }

  std::string kind = config.platform;
  if (kind == "auto") {
    // A pmem server (root, or a systemd service) is never served emulated
    // regions, even when its nd bus has not probed yet; emulation is for a
    // developer's own, unprivileged daemon.
    const bool system = ::geteuid() == 0 || std::getenv("INVOCATION_ID") != nullptr;
    kind = system ? "ndctl" : "emulated";
    log->info("platform auto: chose {} ({})", kind,
              system ? "running as root or under systemd" : "not root: a developer's daemon");
  }
  if (kind == "ndctl" && !HasNdRegions())
    log->warn("no persistent memory found: /sys/bus/nd has no regions (is nfit or nd_e820 loaded? an NVDIMM "
              "or memmap= configured?); serving an empty inventory, which fills when regions appear");
  std::unique_ptr<Platform> platform;
  EmulatedPlatform* emulated = nullptr;
  if (kind == "ndctl") {
    PMEMD_ASSIGN_OR_RETURN(platform, NewNdctlPlatform({}, &p->events));
  } else {
    PMEMD_ASSIGN_OR_RETURN(auto e, NewEmulatedPlatform(config.emulated, config.state_dir, &p->events));
    emulated = e.get();
    platform = std::move(e);
  }
  // Interrupted changes from an earlier run are finished or undone here,
  // before the first request.
  PMEMD_ASSIGN_OR_RETURN(p->owner,
                         PlatformOwner::Open(std::move(platform), config.state_dir + "/intents.json", &p->events));
  // The first health reading is taken here, so list and metrics have it
  // from the first request on.
  p->health = std::make_unique<HealthMonitor>(
      p->owner->platform(), &p->events,
      HealthMonitorOptions{.interval = std::chrono::milliseconds(config.health_interval_ms)});
  // Pools attached before the restart come back; their devices are in use.
  PoolOptions pool_defaults;
  PMEMD_ASSIGN_OR_RETURN(pool_defaults.hooks, CrashHookFromEnvironment());  // crash tests only
  PMEMD_ASSIGN_OR_RETURN(uint64_t memmap_budget,
                         ResolveMemmapBudget(config.memmap_budget));
  if (config.memmap_budget.percent)
    log->info("memmap budget {} bytes ({}% of MemTotal) for mem pools' metadata arrays", memmap_budget,
              config.memmap_budget.percent);
  else
    log->info("memmap budget {} bytes for mem pools' metadata arrays", memmap_budget);
  PMEMD_ASSIGN_OR_RETURN(p->pools, PoolManager::Open(p->owner.get(), config.state_dir, &p->events,
                                                     std::move(pool_defaults), memmap_budget));
  p->owner->SetInUseCheck([pools = p->pools.get()](const std::string& dev) { return pools->InUse(dev); });
  p->layouts = std::make_unique<LayoutApplier>(p->owner.get(), p->pools.get());
  if (!config.layout.is_null()) ApplyConfiguredLayout(config.layout, p->layouts.get());

  DaemonInfo info;
  info.platform_kind = std::string(p->owner->Kind());
  info.socket_path = config.socket_path;
  info.state_dir = config.state_dir;
  info.pools = p->pools.get();
  PMEMD_RETURN_IF_ERROR(RegisterDaemonMethods(&p->registry, info));
  PMEMD_RETURN_IF_ERROR(RegisterPlatformMethods(&p->registry, p->owner.get(), p->health.get()));
  PMEMD_RETURN_IF_ERROR(RegisterNamespaceMethods(&p->registry, p->owner.get()));
  if (emulated) PMEMD_RETURN_IF_ERROR(RegisterEmulatedMethods(&p->registry, emulated));
  PMEMD_RETURN_IF_ERROR(RegisterPoolMethods(&p->registry, p->pools.get()));
  PMEMD_RETURN_IF_ERROR(RegisterLayoutMethods(&p->registry, p->layouts.get()));
  PMEMD_RETURN_IF_ERROR(RegisterOpsMethods(&p->registry, {.platform_kind = std::string(p->owner->Kind()),
                                                          .owner = p->owner.get(),
                                                          .pools = p->pools.get(),
                                                          .health = p->health.get(),
                                                          .events = p->stream.get(),
                                                          .requests = &p->requests}));

  return std::unique_ptr<Daemon>(new Daemon(std::move(p)));
}

void Daemon::Run() {
  auto log = GetLogger("pmemd");
  log->info("pmemd {} (API {}) ready: platform {}, socket {}, state {}", PMEMD_VERSION, PMEMD_API_VERSION,
            parts_->owner->Kind(), parts_->config.socket_path, parts_->config.state_dir);
  parts_->events.Publish({.kind = "daemon", .object = "pmemd", .from = "starting", .to = "ready"});
  if (parts_->http) parts_->http->Start();
  sd_notify(0, "READY=1");
  parts_->server->Run();
  if (parts_->http) parts_->http->Stop();
}

void Daemon::Stop() { parts_->server->Stop(); }

std::string_view Daemon::platform_kind() const { return parts_->owner->Kind(); }

const Dispatcher& Daemon::dispatcher() const { return *parts_->dispatcher; }

}  // namespace pmemd
