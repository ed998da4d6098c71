// DaemonFixture: an integration test with its own pmemd on the emulated
// platform, on a socket and state directory in a TempDir, driven through
// the real pmemctl (support/process.h).
//
//   class PoolCliTest : public DaemonFixture {
//     void SetUp() override { WriteConfig({{"emulated", ...}}); Start(); }
//   };
//   json j = Ok({"list", "-N"});          // pmemctl ... --json, exit 0
//   Fail({"destroy-namespace", "x"});     // exit 1, stdout and stderr shown
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/temp_dir.h"

namespace pmemd::testing {

class DaemonFixture : public ::testing::Test {
 protected:
  DaemonFixture() : dir_("pmemd-it") {}

  // Writes `config` to <dir>/pmemd.json, with admin_group set to the test's
  // own group so that it may change things.
  void WriteConfig(nlohmann::json config);
  // Starts pmemd with that configuration (replacing a previous one, which
  // must have stopped), with `env` ("NAME=value") in its environment.
  void Start(std::vector<std::string> env = {});
  // pmemctl `args` --json: expects exit 0 and returns the parsed output.
  nlohmann::json Ok(std::vector<std::string> args);
  // pmemctl `args`: expects exit `code`.
  RunResult Fail(std::vector<std::string> args, int code = 1);

  std::string Socket() const { return dir_ / "pmemd.sock"; }
  std::string State() const { return dir_ / "state"; }

  TempDir dir_;
  std::string config_;  // <dir>/pmemd.json once written
  std::unique_ptr<DaemonProcess> d_;
};

}  // namespace pmemd::testing
