// pmemd-bench load: does root still get answers while others attack the
// socket? (issue 9, "bounded under hostile load")
//
// Against a running daemon (--socket, and --pid or the socket's
// SO_PEERCRED for the RSS) or one it starts itself (--pmemd BIN, on a
// temporary socket and state directory), for --duration seconds:
//   - hostile connections (--hostile N), spread over --hostile-uids uids
//     (default 20: 60000..60019, none of them root or admin) so that the
//     per-uid cap does not simply refuse most of them, shared evenly among
//     the --kinds (default all three):
//       idle     connect and say nothing,
//       partial  send --partial-bytes of a request line and never end it,
//       batch    send batches of --batch reads ("list") back to back;
//     each is reconnected at once when the daemon closes or refuses it;
//   - --normal non-admin clients, each on its own uid, calling `version`
//     back to back;
//   - one admin client (this process, root) calling `version` back to back,
//     whose latencies are the result: p50, p99, max, throughput, errors;
//   - the daemon's VmRSS sampled every 100 ms, and VmHWM at the end.
// Hostile and normal clients are forked children that drop to their uid
// before connecting (so SO_PEERCRED shows that uid); they are forked before
// any thread starts and report their counts through a pipe. Without root
// they cannot change uid, and the run says so: the figures then do not
// show the admin reservations.
//
// No assertion on speed: the smoke test (--quick) checks only that the
// admin client got answers and no errors.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench.h"
#include "daemon.h"
#include "pmemd/client.h"
#include "pmemd/fs.h"
#include "pmemd/rpc.h"

namespace pmemd::bench {
namespace {

using Json = nlohmann::ordered_json;

const std::vector<OptionSpec> kFlags = {
    {0, "socket", "socket", ArgKind::kPath, "a running daemon's socket"},
    {0, "pid", "pid", ArgKind::kNumber, "its pid, for RSS (default: from the socket's SO_PEERCRED)", "PID"},
    {0, "pmemd", "pmemd", ArgKind::kPath,
     "start this pmemd on a temporary socket and state dir, emulated platform, socket group 65534 so that "
     "the other uids can connect; stopped at the end", "BIN"},
    {0, "hostile", "hostile", ArgKind::kNumber, "hostile connections, a third idle, partial and batch (default 1000)"},
    {0, "hostile-uids", "hostile-uids", ArgKind::kNumber, "spread over this many uids from 60000 (default 20)"},
    {0, "partial-bytes", "partial-bytes", ArgKind::kSize,
     "bytes of each partial line (default 1023K, under max_request_bytes)"},
    {0, "batch", "batch", ArgKind::kNumber, "reads per hostile batch (default 16)"},
    {0, "kinds", "kinds", ArgKind::kText, "hostile kinds, shared out evenly (default idle,partial,batch)", "LIST"},
    {0, "normal", "normal", ArgKind::kNumber, "non-admin clients calling version (default 4)", "M"},
    {0, "duration", "duration", ArgKind::kNumber, "seconds of measurement (default 10)", "S"},
    {0, "quick", "quick", ArgKind::kNone,
     "smoke run: --hostile 60 --hostile-uids 3 --normal 2 --duration 1 (flags given win)"},
    {0, "json", "json", ArgKind::kNone, "one JSON object instead of the table"},
};

std::string Usage() { return FlagUsage("load (--socket PATH [--pid PID] | --pmemd BIN) [flags]", kFlags); }

struct Config {
  std::string socket, pmemd;
  pid_t pid = -1;
  unsigned hostile = 1000, hostile_uids = 20, batch = 16, normal = 4, duration_s = 10;
  std::uint64_t partial_bytes = 1023ull << 10;
  std::vector<std::string> kinds{"idle", "partial", "batch"};
  bool json = false;
};

Status Parse(const std::vector<std::string>& args, Config* c, bool* help) {
  PMEMD_ASSIGN_OR_RETURN(Flags f, Flags::Parse(kFlags, args));
  *help = f.help();
  if (f.Has("quick")) {
    c->hostile = 60;
    c->hostile_uids = 3;
    c->normal = 2;
    c->duration_s = 1;
  }
  c->socket = f.Value("socket");
  c->pmemd = f.Value("pmemd");
  c->json = f.Has("json");
  if (f.Has("pid")) {
    const std::string v = f.Value("pid");
    c->pid = static_cast<pid_t>(std::strtol(v.c_str(), nullptr, 10));
    if (c->pid <= 0) return Status::InvalidArgument("--pid takes a process id, got '" + v + "'");
  }
  for (auto [key, field] : {std::pair{"hostile", &c->hostile}, {"hostile-uids", &c->hostile_uids},
                            {"batch", &c->batch}, {"normal", &c->normal}, {"duration", &c->duration_s}})
    if (f.Has(key)) {
      PMEMD_ASSIGN_OR_RETURN(*field, f.Count(key));
    }
  if (f.Has("partial-bytes")) {
    PMEMD_ASSIGN_OR_RETURN(c->partial_bytes, f.Size("partial-bytes"));
  }
  if (f.Has("kinds")) {
    PMEMD_ASSIGN_OR_RETURN(c->kinds, ParseChoiceList(f.Value("kinds"), {"idle", "partial", "batch"}, "--kinds"));
  }
  if (*help) return Status::Ok();
  if (c->socket.empty() == c->pmemd.empty())
    return Status::InvalidArgument("give either --socket PATH (a running daemon) or --pmemd BIN (start one)");
  return Status::Ok();
}

sockaddr_un Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  return addr;
}

// A non-blocking connection, or -1 when the daemon's backlog is full or it
// is not there.
int ConnectNonBlocking(const sockaddr_un& addr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string Line(const std::string& method, const nlohmann::json& params, int id) {
  return nlohmann::json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", id}}.dump();
}

// ---- the children ----

enum class Kind { kIdle, kPartial, kBatch };

// What a child did, sent to the parent as one JSON line at the end.
struct ChildCounts {
  std::uint64_t connects = 0, refused = 0, dropped = 0, replies = 0, errors = 0;
  std::vector<double> latency_ns;  // normal clients only
};

// Holds `n` connections of one kind open until `stop` hangs up,
// reconnecting each as soon as the daemon closes or refuses it.
ChildCounts RunHostile(const sockaddr_un& addr, Kind kind, unsigned n, const Config& cfg, int stop, int report) {
  const std::string payload =
      kind == Kind::kPartial
          ? R"({"jsonrpc":"2.0","method":"version","params":{"pad":")" + std::string(cfg.partial_bytes, 'x')
      : kind == Kind::kBatch ? [&] {
          std::string b = "[";
          for (unsigned i = 0; i < cfg.batch; ++i) b += (i ? "," : "") + Line("list", nlohmann::json::object(), int(i));
          return b + "]\n";
        }()
                             : std::string();
  struct Conn {
    int fd = -1;
    std::size_t sent = 0;
    std::string in;
    std::uint64_t retry_at = 0;
  };
  std::vector<Conn> conns(n);
  ChildCounts counts;
  bool ready_sent = false;
  for (;;) {
    const std::uint64_t now = NowNs();
    for (Conn& c : conns) {
      if (c.fd >= 0 || c.retry_at > now) continue;
      c.fd = ConnectNonBlocking(addr);
      c.sent = 0;
      c.in.clear();
      if (c.fd < 0) {
        ++counts.refused;
        c.retry_at = now + 10'000'000;
      } else {
        ++counts.connects;
      }
    }
    if (!ready_sent) {
      ready_sent = true;
      (void)!::write(report, "ready\n", 6);
    }
    std::vector<pollfd> fds{{stop, POLLIN, 0}};
    std::vector<Conn*> owners{nullptr};
    for (Conn& c : conns) {
      if (c.fd < 0) continue;
      fds.push_back({c.fd, static_cast<short>(POLLIN | (c.sent < payload.size() ? POLLOUT : 0)), 0});
      owners.push_back(&c);
    }
    ::poll(fds.data(), fds.size(), 10);
    if (fds[0].revents) return counts;
    for (std::size_t i = 1; i < fds.size(); ++i) {
      Conn& c = *owners[i];
      auto close_conn = [&] {
        bool refusal = c.in.find("too many connections") != std::string::npos;
        ++(refusal ? counts.refused : counts.dropped);
        ::close(c.fd);
        c.fd = -1;
        c.retry_at = NowNs() + (refusal ? 10'000'000 : 0);
      };
      if (fds[i].revents & POLLOUT) {
        ssize_t w = ::send(c.fd, payload.data() + c.sent, payload.size() - c.sent, MSG_NOSIGNAL);
        if (w > 0) c.sent += static_cast<std::size_t>(w);
        else if (errno != EAGAIN) { close_conn(); continue; }
      }
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[65536];
        ssize_t r = ::read(c.fd, buf, sizeof buf);
        if (r <= 0 && !(r < 0 && errno == EAGAIN)) { close_conn(); continue; }
        if (r > 0) c.in.append(buf, static_cast<std::size_t>(r));
        if (kind == Kind::kBatch && !c.in.empty() && c.in.back() == '\n') {
          ++counts.replies;
          if (c.in.find("\"error\"") != std::string::npos) ++counts.errors;
          c.in.clear();
          c.sent = 0;  // the next batch
        } else if (kind != Kind::kBatch && c.in.size() > (1u << 16)) {
          c.in.clear();
        }
      }
    }
  }
}

// One non-admin client calling `version` back to back until `stop` hangs up.
ChildCounts RunNormal(const std::string& socket, int stop, int report) {
  ChildCounts counts;
  (void)!::write(report, "ready\n", 6);
  auto client = Client::Connect(socket);
  for (;;) {
    pollfd p{stop, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) return counts;
    if (!client.ok()) {
      ++counts.refused;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      client = Client::Connect(socket);
      continue;
    }
    const std::uint64_t t0 = NowNs();
    auto r = client->Call("version");
    counts.latency_ns.push_back(static_cast<double>(NowNs() - t0));
    ++(r.ok() ? counts.replies : counts.errors);
    if (!r.ok()) client = Client::Connect(socket);
  }
}

struct Child {
  pid_t pid = -1;
  int report = -1;  // read end
  bool normal = false;
};

// Forks a child that takes `uid` (when root) and runs `body` until the
// parent closes stop[1]; it reports through the pipe whose read end is
// returned.
template <typename Body>
Child Fork(uid_t uid, gid_t gid, bool normal, const int stop[2], Body body) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    ::close(stop[1]);  // else the hang-up that ends the run never comes
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
                             ::setresuid(uid, uid, uid) != 0))
      ::_exit(100);
    ChildCounts c = body(stop[0], p[1]);
    nlohmann::json j = {{"connects", c.connects}, {"refused", c.refused}, {"dropped", c.dropped},
                        {"replies", c.replies}, {"errors", c.errors}};
    if (!c.latency_ns.empty()) {
      std::sort(c.latency_ns.begin(), c.latency_ns.end());
      j["p99_ns"] = c.latency_ns[c.latency_ns.size() * 99 / 100];
    }
    std::string out = j.dump() + "\n";
    (void)!::write(p[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(p[1]);
  return {pid, p[0], normal};
}

// Reads one line from a child's pipe, waiting up to `timeout_ms`.
std::string ReadReportLine(int fd, int timeout_ms) {
  std::string line;
  char ch;
  while (line.empty() || line.back() != '\n') {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0 || ::read(fd, &ch, 1) != 1) break;
    line += ch;
  }
  return line;
}

// ---- the daemon ----

int Run(const std::vector<std::string>& args) {
  Config cfg;
  bool help = false;
  if (Status s = Parse(args, &cfg, &help); !s.ok()) {
    std::fprintf(stderr, "pmemd-bench load: %s\n", s.message().c_str());
    return 2;
  }
  if (help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "pmemd-bench load: %s\n", s.ToString().c_str());
    return 1;
  };
  ::signal(SIGPIPE, SIG_IGN);
  SpawnedDaemon spawned;
  if (!cfg.pmemd.empty()) {
    if (Status s = SpawnDaemon(cfg.pmemd, "load",
                                R"({"socket_group":"65534","log_level":"warn","emulated":{"regions":[{"size":1073741824}]}})",
                                &spawned);
        !s.ok())
      return fail(s);
    cfg.socket = spawned.socket;
    cfg.pid = spawned.pid;
  }
  if (cfg.pid < 0) cfg.pid = PeerPid(cfg.socket);
  const bool root = ::geteuid() == 0;
  if (!root)
    std::fprintf(stderr, "pmemd-bench load: not root: every client shares this uid, so the figures do not "
                         "show the admin reservations\n");
  const std::uint64_t rss_before_kb = cfg.pid > 0 ? ProcStatusKb(cfg.pid, "VmRSS:") : 0;

  // Children first, before any thread of this process exists.
  int stop[2];
  if (::pipe2(stop, O_CLOEXEC) != 0) return fail(Status::FromErrno(errno, "pipe"));
  const sockaddr_un addr = Address(cfg.socket);
  std::vector<Child> children;
  const unsigned uids = std::max(1u, std::min(cfg.hostile_uids, cfg.hostile));
  for (unsigned u = 0; u < uids; ++u) {
    const unsigned mine = cfg.hostile / uids + (u < cfg.hostile % uids ? 1 : 0);
    const unsigned nk = static_cast<unsigned>(cfg.kinds.size());
    for (unsigned k = 0; k < nk; ++k) {
      const unsigned n = mine / nk + (k < mine % nk ? 1 : 0);
      if (n == 0) continue;
      const Kind kind = cfg.kinds[k] == "idle" ? Kind::kIdle : cfg.kinds[k] == "partial" ? Kind::kPartial : Kind::kBatch;
      children.push_back(Fork(60000 + u, 65534, false, stop, [&, kind, n](int s, int r) {
        return RunHostile(addr, kind, n, cfg, s, r);
      }));
    }
  }
  for (unsigned i = 0; i < cfg.normal; ++i)
    children.push_back(Fork(60900 + i, 65534, true, stop, [&](int s, int r) { return RunNormal(cfg.socket, s, r); }));
  ::close(stop[0]);
  for (const Child& c : children)
    if (c.pid < 0 || ReadReportLine(c.report, 30000) != "ready\n") {
      ::close(stop[1]);
      return fail(Status::Internal("a load client did not start (fork, or setresuid to its uid, failed)"));
    }

  // Measure: root's version calls, and the daemon's RSS.
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> rss_max_kb{0};
  std::thread sampler([&] {
    while (!done && cfg.pid > 0) {
      rss_max_kb = std::max<std::uint64_t>(rss_max_kb, ProcStatusKb(cfg.pid, "VmRSS:"));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::vector<double> admin_ns;
  std::uint64_t admin_errors = 0;
  std::string first_error;
  auto admin = Client::Connect(cfg.socket);
  const std::uint64_t t_end = NowNs() + cfg.duration_s * 1'000'000'000ull;
  const std::uint64_t t0 = NowNs();
  while (NowNs() < t_end) {
    if (!admin.ok()) {
      ++admin_errors;
      if (first_error.empty()) first_error = admin.status().ToString();
      admin = Client::Connect(cfg.socket);
      continue;
    }
    const std::uint64_t c0 = NowNs();
    auto r = admin->Call("version");
    admin_ns.push_back(static_cast<double>(NowNs() - c0));
    if (!r.ok()) {
      ++admin_errors;
      if (first_error.empty()) first_error = r.status().ToString();
      admin = Client::Connect(cfg.socket);
    }
  }
  const double seconds = static_cast<double>(NowNs() - t0) / 1e9;
  done = true;
  sampler.join();
  const std::uint64_t hwm_kb = cfg.pid > 0 ? ProcStatusKb(cfg.pid, "VmHWM:") : 0;

  ::close(stop[1]);  // the children see the hang-up, report and exit
  ChildCounts hostile, normal;
  std::vector<double> normal_p99;
  for (const Child& c : children) {
    std::string line = ReadReportLine(c.report, 30000);
    ::close(c.report);
    ::waitpid(c.pid, nullptr, 0);
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    ChildCounts& sum = c.normal ? normal : hostile;
    sum.connects += j.value("connects", 0ull);
    sum.refused += j.value("refused", 0ull);
    sum.dropped += j.value("dropped", 0ull);
    sum.replies += j.value("replies", 0ull);
    sum.errors += j.value("errors", 0ull);
    if (j.contains("p99_ns")) normal_p99.push_back(j["p99_ns"].get<double>());
  }

  Json out;
  out["socket"] = cfg.socket;
  out["as_root"] = root;
  out["hostile"] = {{"connections", cfg.hostile}, {"uids", uids}, {"partial_bytes", cfg.partial_bytes},
                    {"batch", cfg.batch}, {"connects", hostile.connects}, {"refused", hostile.refused},
                    {"closed_by_daemon", hostile.dropped}, {"batch_replies", hostile.replies}};
  out["normal"] = {{"clients", cfg.normal}, {"calls_per_s", static_cast<double>(normal.replies) / seconds},
                   {"errors", normal.errors}, {"worst_p99_ms", Percentile(normal_p99, 1.0) / 1e6}};
  out["admin"] = {{"calls", admin_ns.size()},
                  {"calls_per_s", static_cast<double>(admin_ns.size()) / seconds},
                  {"p50_ms", Percentile(admin_ns, 0.50) / 1e6},
                  {"p99_ms", Percentile(admin_ns, 0.99) / 1e6},
                  {"max_ms", Percentile(admin_ns, 1.0) / 1e6},
                  {"errors", admin_errors}};
  if (!first_error.empty()) out["admin"]["first_error"] = first_error;
  out["daemon"] = {{"pid", cfg.pid}, {"rss_before_kb", rss_before_kb}, {"rss_max_kb", rss_max_kb.load()},
                   {"vm_hwm_kb", hwm_kb}};
  if (cfg.json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("pmemd-bench load: %u s against %s (pid %d)%s\n", cfg.duration_s, cfg.socket.c_str(), cfg.pid,
                root ? "" : " -- not root, one uid for all");
    std::printf("  hostile   %u connections over %u uids (idle, %s partial lines, batches of %u list):\n"
                "            %llu connects, %llu refused, %llu closed by the daemon, %llu batch replies\n",
                cfg.hostile, uids, HumanBytes(cfg.partial_bytes).c_str(), cfg.batch,
                static_cast<unsigned long long>(hostile.connects), static_cast<unsigned long long>(hostile.refused),
                static_cast<unsigned long long>(hostile.dropped), static_cast<unsigned long long>(hostile.replies));
    std::printf("  normal    %u clients: %.0f version/s, %llu errors, worst p99 %.2f ms\n", cfg.normal,
                static_cast<double>(normal.replies) / seconds, static_cast<unsigned long long>(normal.errors),
                Percentile(normal_p99, 1.0) / 1e6);
    std::printf("  admin     %zu version calls, %.0f/s: p50 %.3f ms, p99 %.3f ms, max %.3f ms, %llu errors%s%s\n",
                admin_ns.size(), static_cast<double>(admin_ns.size()) / seconds, Percentile(admin_ns, 0.5) / 1e6,
                Percentile(admin_ns, 0.99) / 1e6, Percentile(admin_ns, 1.0) / 1e6,
                static_cast<unsigned long long>(admin_errors), first_error.empty() ? "" : ": ", first_error.c_str());
    std::printf("  daemon    RSS %s before, %s max sampled, VmHWM %s\n", HumanBytes(rss_before_kb << 10).c_str(),
                HumanBytes(rss_max_kb.load() << 10).c_str(), HumanBytes(hwm_kb << 10).c_str());
  }
  return admin_errors == 0 && !admin_ns.empty() ? 0 : 1;
}

const bool kRegistered = RegisterCommand(
    {"load", "root's version latency and the daemon's RSS while hostile clients hold the socket", &Run});

}  // namespace
}  // namespace pmemd::bench
