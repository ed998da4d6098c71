// Crash loop: pmemd dies by SIGKILL during a stream of lease and block
// operations, is restarted, and every acknowledged lease must be there with
// the same extent, nothing overlapping, capacity adding up, no block left
// half way, and the one operation in flight wholly applied or not at all.
//
// Where the kill lands does not depend on the machine's speed: the daemon
// runs with PMEMD_TEST_CRASH_AT_PERSIST=N (lib/include/pmemd/crash_hook.h) and kills
// itself right after its Nth pool persist step, N drawn from the seed. So
// the kill lands inside an operation (between a persist and its answer),
// or inside recovery at start-up, by construction.
//
// PMEMD_CRASH_ITERATIONS: the number of kills (default 300, at least 50);
// PMEMD_CRASH_SEED: the seed (printed either way, to replay a failure).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>

#include <gtest/gtest.h>

#include "pmemd/client.h"
#include "pmemd/crash_hook.h"
#include "pmemd/fs.h"
#include "support/daemon_fixture.h"

namespace pmemd::testing {
namespace {

using nlohmann::json;
constexpr uint64_t kK = 1024, kM = 1ull << 20;
constexpr uint64_t kBlocks = 61;  // a 128 MiB file of 2 MiB blocks, less the metadata block and the 2 MiB array (memmap dev)

struct LeaseRec {
  uint64_t offset = 0, size = 0, align = 0;
  bool operator==(const LeaseRec&) const = default;
};

struct Model {
  std::map<std::string, LeaseRec> leases;
  std::vector<std::string> blocks;  // "online" | "offline"
};

// One operation of the stream, as sent.
struct Op {
  std::string method;
  json params;
};

Op RandomOp(std::mt19937_64& rng, const Model& m) {
  const int kind = static_cast<int>(rng() % 10);
  std::string name = "l" + std::to_string(rng() % 40);
  if (kind < 5) {
    const uint64_t aligns[] = {4 * kK, 2 * kM};
    uint64_t align = aligns[rng() % 2];
    uint64_t size = (1 + rng() % (align == 4 * kK ? 64 : 3)) * align;
    // Ask again for a lease that exists now and then: the retry path.
    if (m.leases.count(name) && rng() % 2) {
      size = m.leases.at(name).size;
      align = m.leases.at(name).align;
    }
    return {"create-lease", {{"pool", "c"}, {"name", name}, {"size", size}, {"align", align}}};
  }
  if (kind < 8) return {"delete-lease", {{"pool", "c"}, {"name", name}}};
  uint64_t first = rng() % kBlocks, count = 1 + rng() % std::min<uint64_t>(8, kBlocks - first);
  std::string range = std::to_string(first) + "-" + std::to_string(first + count - 1);
  return {kind == 8 ? "online-blocks" : "offline-blocks", {{"pool", "c"}, {"blocks", range}}};
}

// Applies an acknowledged answer to the model.
void Apply(Model& m, const Op& op, const json& result) {
  if (op.method == "create-lease") {
    m.leases[op.params["name"]] = {result["pool_offset"], result["size"], result["align"]};
  } else if (op.method == "delete-lease") {
    m.leases.erase(op.params["name"].get<std::string>());
  } else {
    for (const auto& b : result["blocks"]) m.blocks[b["index"].get<uint64_t>()] = b["to"];
  }
}

// Its own daemons (killed and restarted in a loop), on the fixture's
// configuration, socket and state.
class PoolCrashLoop : public DaemonFixture {
 protected:
  void SetUp() override {
    WriteConfig({{"log_level", "warn"},
                 {"emulated", {{"regions", {{{"size", 1ull << 30}, {"file", scratch_ + "/region0.img"}}}}}}});
  }
  TempDir scratch_dir_{"pmemd-crash", ScratchRoot()};  // the region file: tmpfs when there is one
  const std::string scratch_ = scratch_dir_.path();
  std::optional<Op> pending_;  // sent, never answered: killed in flight
};

// A positive integer from the environment, or `dflt`; anything else fails
// the test rather than silently running nothing.
uint64_t EnvNumber(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  if (v == nullptr) return dflt;
  char* end = nullptr;
  uint64_t n = std::strtoull(v, &end, 0);
  if (*v == '\0' || *end != '\0') {
    ADD_FAILURE() << name << "='" << v << "' is not a number";
    return 0;
  }
  return n;
}

TEST_F(PoolCrashLoop, KilledAtEveryKindOfPersistStepRecoversExactlyTheAcknowledgedState) {
  constexpr uint64_t kMinIterations = 50;
  const uint64_t iterations = EnvNumber("PMEMD_CRASH_ITERATIONS", 300);
  ASSERT_GE(iterations, kMinIterations) << "fewer kills than that test nothing worth the name";
  std::random_device rd;
  const uint64_t seed = EnvNumber("PMEMD_CRASH_SEED", (uint64_t{rd()} << 32) | rd());
  std::printf("[ crash loop ] seed %llu (replay with PMEMD_CRASH_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  RecordProperty("seed", std::to_string(seed));
  const auto t0 = std::chrono::steady_clock::now();
  std::mt19937_64 rng(seed);
  const std::string socket = Socket(), state = State();

  Model model;
  model.blocks.assign(kBlocks, "offline");
  {
    DaemonProcess d(socket, state, {"--config", config_});
    ASSERT_TRUE(d.Start()) << d.Log();
    RunResult r = d.Ctl({"create-pool", "c", "--path", scratch_ + "/c.pool", "--size", "128M", "--block-size", "2M",
                         "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.Json()["blocks_total"], kBlocks);
    d.Kill();
  }

  uint64_t acked = 0, in_flight_applied = 0, in_flight_not = 0, in_recovery = 0, in_detach = 0, in_rebuild = 0,
           reused = 0;
  bool rebuilds = true;  // the last run ended without a seal: this start rebuilds the pool's array
  for (uint64_t it = 0; it < iterations; ++it) {
    // Most kills land at the Nth persist step: steps at start-up (attach,
    // replay, checkpoint) come first, so small N kills recovery itself,
    // larger N an operation of the stream. Some land by name inside the
    // clean detach of a SIGTERM (persisting the array, sealing it, the
    // detach info) or inside a rebuild of the array at start-up.
    // (Every section of the array is persisted at the detach after a
    // rebuild; after a reused attach only those that changed, maybe none.)
    static const char* const kDetachSteps[] = {"memmap-seal", "detach-info", "memmap-persist"};
    enum class Kill { kAtStep, kInDetach, kInRebuild } kill = Kill::kAtStep;
    if (it % 8 == 3) kill = Kill::kInDetach;
    if (it % 8 == 6 && rebuilds) kill = Kill::kInRebuild;
    std::string crash_at = std::to_string(1 + rng() % 40);
    if (kill == Kill::kInDetach) crash_at = std::string(kDetachSteps[rng() % (rebuilds ? 3 : 2)]) + ":1";
    if (kill == Kill::kInRebuild) crash_at = std::string(rng() % 2 ? "memmap-filled" : "memmap-rendered") + ":1";
    DaemonProcess d(socket, state, {"--config", config_});
    d.SetEnv({std::string(kCrashAtPersistEnv) + "=" + crash_at});
    if (!d.Start()) {
      ASSERT_EQ(d.Signal(0 /* reap only */, 10), -SIGKILL) << "iteration " << it << ": pmemd did not start\n"
                                                           << d.Log();
      ++(kill == Kill::kInRebuild ? in_rebuild : in_recovery);  // the next start must still recover exactly
      rebuilds = true;
      continue;
    }
    ASSERT_NE(kill, Kill::kInRebuild) << "iteration " << it << ": pmemd rebuilt the array without reaching "
                                      << crash_at << "\n" << d.Log();
    auto client = Client::Connect(socket);
    ASSERT_TRUE(client.ok());

    // --- Check what came back against the model (and the op in flight).
    auto leases = client->Call("list-leases", {{"pool", "c"}});
    ASSERT_TRUE(leases.ok()) << leases.status().ToString() << "\n" << d.Log();
    auto pools = client->Call("list-pools", {{"pool", "c"}, {"blocks", true}});
    ASSERT_TRUE(pools.ok()) << pools.status().ToString();
    Model got;
    for (const auto& l : (*leases)["leases"])
      got.leases[l["name"]] = {l["pool_offset"], l["size"], l["align"]};
    const json& pool = (*pools)["pools"][0];
    ASSERT_EQ(pool["state"], "attached") << pool.dump();
    ASSERT_EQ(pool["memmap_init"], rebuilds ? "built" : "reused") << "iteration " << it << ": " << pool.dump();
    reused += !rebuilds;
    // The array, reused or rebuilt, is exactly what the tables say.
    auto check = client->Call("check-pool", {{"pool", "c"}});
    ASSERT_TRUE(check.ok()) << "iteration " << it << ": " << check.status().ToString();
    for (const auto& b : pool["blocks"]) got.blocks.push_back(b["state"]);
    ASSERT_EQ(got.blocks.size(), kBlocks);
    for (const auto& s : got.blocks) ASSERT_TRUE(s == "online" || s == "offline") << "block left " << s;
    // Nothing overlaps; every lease lies in online blocks; capacity adds up.
    uint64_t end = 0, leased = 0;
    std::map<uint64_t, std::string> by_off;
    for (const auto& [n, l] : got.leases) by_off[l.offset] = n;
    const uint64_t data_offset = pool["data_offset"], block = pool["block_size"];
    for (const auto& [off, n] : by_off) {
      const LeaseRec& l = got.leases[n];
      ASSERT_GE(off, end) << "lease " << n << " overlaps, iteration " << it;
      ASSERT_EQ(off % l.align, 0u);
      end = off + l.size;
      leased += l.size;
      for (uint64_t b = (off - data_offset) / block; b * block + data_offset < end; ++b)
        ASSERT_EQ(got.blocks[b], "online") << "lease " << n << " in offline block " << b;
    }
    const json& cap = pool["capacity"];
    ASSERT_EQ(cap["leased_size"].get<uint64_t>(), leased);
    ASSERT_EQ(cap["available_size"].get<uint64_t>() + leased + cap["poisoned_size"].get<uint64_t>(),
              cap["online_size"].get<uint64_t>());

    // Acknowledged state, allowing only the op in flight (if any) to have
    // happened wholly.
    if (!(got.leases == model.leases && got.blocks == model.blocks)) {
      ASSERT_TRUE(pending_.has_value()) << "iteration " << it << ": state changed with nothing in flight";
      const Op& op = *pending_;
      Model applied = model;
      if (op.method == "create-lease") {
        std::string n = op.params["name"];
        ASSERT_FALSE(model.leases.count(n)) << "an acknowledged lease " << n << " changed";
        ASSERT_TRUE(got.leases.count(n));
        ASSERT_EQ(got.leases[n].size, op.params["size"].get<uint64_t>());
        applied.leases[n] = got.leases[n];
      } else if (op.method == "delete-lease") {
        applied.leases.erase(op.params["name"].get<std::string>());
      } else {
        std::string range = op.params["blocks"];
        uint64_t a = std::stoull(range), b = std::stoull(range.substr(range.find('-') + 1));
        for (uint64_t i = a; i <= b; ++i) applied.blocks[i] = op.method == "online-blocks" ? "online" : "offline";
      }
      ASSERT_TRUE(got.leases == applied.leases) << "iteration " << it << ": leases are neither the acknowledged "
                                                << "set nor that set with " << op.method << " " << op.params.dump();
      ASSERT_TRUE(got.blocks == applied.blocks) << "iteration " << it << ": blocks half changed by " << op.method
                                                << " " << op.params.dump();
      ++in_flight_applied;
    } else if (pending_) {
      ++in_flight_not;
    }
    model = got;
    pending_.reset();

    if (kill == Kill::kInDetach) {
      // A few acknowledged operations, then SIGTERM: the daemon dies at
      // the named step of its clean detach.
      for (uint64_t n = 1 + rng() % 20; n > 0; --n) {
        Op op = RandomOp(rng, model);
        auto res = client->Call(op.method, op.params);
        ASSERT_FALSE(!res.ok() && (res.status().code() == Code::kInternal || res.status().code() == Code::kIoError ||
                                   res.status().code() == Code::kUnavailable))
            << "iteration " << it << ": " << op.method << " " << res.status().ToString();
        if (res.ok()) {
          Apply(model, op, *res);
          ++acked;
        }
      }
      ASSERT_EQ(d.Signal(SIGTERM, 30), -SIGKILL) << "iteration " << it << ": pmemd did not die at " << crash_at
                                                 << " while detaching\n" << d.Log();
      ++in_detach;
      // Killed once the seal is durable, the next start reuses the array.
      rebuilds = crash_at == "memmap-persist:1";
      continue;
    }
    rebuilds = true;

    // --- A stream of operations until the daemon kills itself. An error
    // answer from a live daemon that is internal or io_error is a failure
    // (a persist that failed), not a death.
    std::optional<Op> in_flight;
    uint64_t sent = 0;
    for (; sent < 10000; ++sent) {
      Op op = RandomOp(rng, model);
      in_flight = op;
      auto res = client->Call(op.method, op.params);
      if (!res.ok() && res.status().code() == Code::kUnavailable) break;  // the daemon died
      ASSERT_FALSE(!res.ok() && (res.status().code() == Code::kInternal || res.status().code() == Code::kIoError))
          << "iteration " << it << ": a live pmemd answered " << op.method << " " << op.params.dump() << " with "
          << res.status().ToString();
      if (res.ok()) {
        Apply(model, op, *res);
        ++acked;
      }
      in_flight.reset();
    }
    ASSERT_LT(sent, 10000u) << "iteration " << it << ": pmemd did not die at persist step " << crash_at;
    ASSERT_EQ(d.Signal(0 /* reap only */, 10), -SIGKILL) << "pmemd died otherwise than by its crash hook\n"
                                                         << d.Log();
    pending_ = in_flight;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ crash loop ] %llu kills (%llu in recovery, %llu in a detach, %llu in a rebuild; %llu attaches "
              "reused a sealed array), %llu acknowledged operations, in-flight op applied "
              "%llu times, not applied %llu; %.1f s; seed %llu\n",
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(in_recovery),
              static_cast<unsigned long long>(in_detach), static_cast<unsigned long long>(in_rebuild),
              static_cast<unsigned long long>(reused),
              static_cast<unsigned long long>(acked), static_cast<unsigned long long>(in_flight_applied),
              static_cast<unsigned long long>(in_flight_not), s, static_cast<unsigned long long>(seed));
  RecordProperty("iterations", static_cast<int>(iterations));
  // The kills must have landed where they are meant to: in operations
  // (both before and after the point of no return) and in recovery.
  EXPECT_GE(in_flight_applied, iterations / 20) << "too few kills after an operation's commit point";
  EXPECT_GE(in_flight_not, iterations / 20) << "too few kills before an operation's commit point";
  EXPECT_GE(in_recovery, iterations / 50) << "too few kills in recovery";
  EXPECT_GE(in_detach, iterations / 10) << "too few kills in a clean detach";
  EXPECT_GE(in_rebuild, iterations / 20) << "too few kills in a rebuild of the array";
  EXPECT_GE(reused, 1u) << "no attach reused a sealed array";
}

}  // namespace
}  // namespace pmemd::testing
