// pmemd-bench rpc: how long a client waits for pmemd's answer (issue 15,
// item 3, the host-side twin of the guest's list benchmark).
//
// For each operation and each client count: that many clients, each on its
// own connection and thread, call the operation back to back for
// --duration seconds; every call's latency (request written to answer read,
// through pmemd::Client as pmemctl uses it) is kept. Reported per row:
// calls, calls/s, p50, p99, max, errors.
//
// Operations:
//   version  the cheapest request: parsing, dispatch, reply;
//   list     the whole inventory, served from memory;
//   lease    create-lease then delete-lease of a 2 MiB lease in one pool
//            (both mutate and are durable before the reply); the row's
//            latency is each call's, the calls are counted in pairs.
//
// Against a running daemon (--socket, and --pool NAME for the lease op, a
// pool with room for a 2 MiB lease per client) or one it starts itself
// (--pmemd BIN: emulated platform, a 1 GiB file pool on a temporary
// directory). No assertion on speed: the smoke test (--quick) checks only
// that every call was answered without error.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench.h"
#include "daemon.h"
#include "pmemd/client.h"

namespace pmemd::bench {
namespace {

using Json = nlohmann::ordered_json;

const std::vector<OptionSpec> kFlags = {
    {0, "socket", "socket", ArgKind::kPath, "a running daemon's socket"},
    {0, "pool", "pool", ArgKind::kPool, "the pool for the lease op on a running daemon (without it: no lease rows)",
     "NAME"},
    {0, "pmemd", "pmemd", ArgKind::kPath, "start this pmemd (emulated platform, a 1 GiB file pool) and stop it after",
     "BIN"},
    {0, "ops", "ops", ArgKind::kText, "of version, list, lease (default all three)", "LIST"},
    {0, "clients", "clients", ArgKind::kText, "concurrent clients per row (default 1,50)", "LIST"},
    {0, "duration", "duration", ArgKind::kNumber, "seconds per row (default 3)", "S"},
    {0, "quick", "quick", ArgKind::kNone, "smoke run: --clients 1,4 --duration 1 (flags given win)"},
    {0, "json", "json", ArgKind::kNone, "one JSON object instead of the table"},
};

std::string Usage() { return FlagUsage("rpc (--socket PATH [--pool NAME] | --pmemd BIN) [flags]", kFlags); }

struct Config {
  std::string socket, pool, pmemd;
  std::vector<std::string> ops{"version", "list", "lease"};
  std::vector<unsigned> clients{1, 50};
  unsigned duration_s = 3;
  bool json = false;
};

Status Parse(const std::vector<std::string>& args, Config* c, bool* help) {
  PMEMD_ASSIGN_OR_RETURN(Flags f, Flags::Parse(kFlags, args));
  *help = f.help();
  if (f.Has("quick")) {  // first: the flags given win
    c->clients = {1, 4};
    c->duration_s = 1;
  }
  c->socket = f.Value("socket");
  c->pool = f.Value("pool");
  c->pmemd = f.Value("pmemd");
  c->json = f.Has("json");
  if (f.Has("ops")) {
    PMEMD_ASSIGN_OR_RETURN(c->ops, ParseChoiceList(f.Value("ops"), {"version", "list", "lease"}, "--ops"));
  }
  if (f.Has("clients")) {
    PMEMD_ASSIGN_OR_RETURN(c->clients, ParseCountList(f.Value("clients")));
  }
  if (f.Has("duration")) {
    PMEMD_ASSIGN_OR_RETURN(c->duration_s, f.Count("duration"));
  }
  if (*help) return Status::Ok();
  if (c->socket.empty() == c->pmemd.empty())
    return Status::InvalidArgument("give either --socket PATH (a running daemon) or --pmemd BIN (start one)");
  return Status::Ok();
}

struct Row {
  std::string op;
  unsigned clients = 0;
  std::vector<double> ns;  // every call's latency
  std::uint64_t errors = 0;
  std::string first_error;
  double seconds = 0;
};

// One client's loop: `op` back to back until `stop`; latencies into `ns`.
void ClientLoop(const Config& cfg, const std::string& op, unsigned index, const std::atomic<bool>& stop,
                std::vector<double>* ns, std::uint64_t* errors, std::string* first_error) {
  auto fail = [&](const Status& s) {
    if ((*errors)++ == 0) *first_error = s.ToString();
  };
  auto client = Client::Connect(cfg.socket);
  if (!client.ok()) return fail(client.status());
  const std::string lease = "bench-" + std::to_string(index);
  auto timed = [&](const std::string& method, const nlohmann::json& params) {
    const std::uint64_t t0 = NowNs();
    auto r = client->Call(method, params);
    ns->push_back(static_cast<double>(NowNs() - t0));
    if (!r.ok()) fail(r.status());
  };
  while (!stop.load(std::memory_order_relaxed)) {
    if (op == "lease") {
      timed("create-lease", {{"pool", cfg.pool}, {"name", lease}, {"size", 2 << 20}});
      timed("delete-lease", {{"pool", cfg.pool}, {"name", lease}});
    } else {
      timed(op, nlohmann::json::object());
    }
  }
}

Row RunRow(const Config& cfg, const std::string& op, unsigned clients) {
  Row row{op, clients, {}, 0, {}, 0};
  std::vector<std::vector<double>> ns(clients);
  std::vector<std::uint64_t> errors(clients, 0);
  std::vector<std::string> first_error(clients);
  std::atomic<bool> stop{false};
  const std::uint64_t t0 = NowNs();
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < clients; ++i)
    threads.emplace_back(ClientLoop, std::cref(cfg), std::cref(op), i, std::cref(stop), &ns[i], &errors[i],
                         &first_error[i]);
  std::this_thread::sleep_for(std::chrono::seconds(cfg.duration_s));
  stop = true;
  for (auto& t : threads) t.join();
  row.seconds = static_cast<double>(NowNs() - t0) / 1e9;
  for (unsigned i = 0; i < clients; ++i) {
    row.ns.insert(row.ns.end(), ns[i].begin(), ns[i].end());
    row.errors += errors[i];
    if (row.first_error.empty()) row.first_error = first_error[i];
  }
  return row;
}

// The spawned daemon's pool for the lease op: a 1 GiB file, every block
// online.
Status MakePool(const SpawnedDaemon& d, std::string* pool) {
  PMEMD_ASSIGN_OR_RETURN(Client c, Client::Connect(d.socket));
  *pool = "bench";
  PMEMD_RETURN_IF_ERROR(c.Call("create-pool", {{"name", *pool},
                                               {"path", d.dir + "/bench.pool"},
                                               {"size", 1 << 30},
                                               {"block_size", 2 << 20}})
                            .status());
  return c.Call("online-blocks", {{"pool", *pool}, {"blocks", "all"}}).status();
}

int Run(const std::vector<std::string>& args) {
  Config cfg;
  bool help = false;
  if (Status s = Parse(args, &cfg, &help); !s.ok()) {
    std::fprintf(stderr, "pmemd-bench rpc: %s\n", s.message().c_str());
    std::fputs(Usage().c_str(), stderr);
    return 2;
  }
  if (help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "pmemd-bench rpc: %s\n", s.ToString().c_str());
    return 1;
  };
  ::signal(SIGPIPE, SIG_IGN);
  SpawnedDaemon spawned;
  if (!cfg.pmemd.empty()) {
    // Room for 64 connections of one uid (the bench's): 50 clients fit.
    if (Status s = SpawnDaemon(cfg.pmemd, "rpc",
                               R"({"log_level":"warn","emulated":{"regions":[{"size":2147483648}]}})", &spawned);
        !s.ok())
      return fail(s);
    cfg.socket = spawned.socket;
    if (Status s = MakePool(spawned, &cfg.pool); !s.ok()) return fail(s);
  }
  std::vector<Row> rows;
  for (const std::string& op : cfg.ops) {
    if (op == "lease" && cfg.pool.empty()) {
      std::fprintf(stderr, "pmemd-bench rpc: no --pool given: the lease rows are left out\n");
      continue;
    }
    for (unsigned clients : cfg.clients) rows.push_back(RunRow(cfg, op, clients));
  }
  bool ok = true;
  Json out = Json::array();
  if (!cfg.json)
    std::printf("%-8s %7s %9s %9s %9s %9s %9s %7s\n", "op", "clients", "calls", "calls/s", "p50 ms", "p99 ms",
                "max ms", "errors");
  for (const Row& r : rows) {
    const double rate = static_cast<double>(r.ns.size()) / r.seconds;
    const double p50 = Percentile(r.ns, 0.50) / 1e6, p99 = Percentile(r.ns, 0.99) / 1e6,
                 max = Percentile(r.ns, 1.0) / 1e6;
    ok = ok && r.errors == 0 && !r.ns.empty();
    if (cfg.json) {
      out.push_back({{"op", r.op}, {"clients", r.clients}, {"calls", r.ns.size()}, {"calls_per_s", rate},
                     {"p50_ms", p50}, {"p99_ms", p99}, {"max_ms", max}, {"errors", r.errors}});
      if (!r.first_error.empty()) out.back()["first_error"] = r.first_error;
    } else {
      std::printf("%-8s %7u %9zu %9.0f %9.3f %9.3f %9.3f %7llu\n", r.op.c_str(), r.clients, r.ns.size(), rate,
                  p50, p99, max, static_cast<unsigned long long>(r.errors));
      if (!r.first_error.empty()) std::printf("  first error: %s\n", r.first_error.c_str());
    }
  }
  if (cfg.json) std::printf("%s\n", Json{{"rows", out}, {"ok", ok}}.dump(2).c_str());
  return ok ? 0 : 1;
}

const bool kRegistered =
    RegisterCommand({"rpc", "client-side latency of version, list and a lease op at 1 and 50 clients", &Run});

}  // namespace
}  // namespace pmemd::bench
