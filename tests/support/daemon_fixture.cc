#include "support/daemon_fixture.h"

#include <unistd.h>

#include "pmemd/fs.h"

namespace pmemd::testing {

void DaemonFixture::WriteConfig(nlohmann::json config) {
  config["admin_group"] = std::to_string(::getgid());
  config_ = dir_ / "pmemd.json";
  ASSERT_TRUE(WriteFileAtomic(config_, config.dump()).ok());
}

void DaemonFixture::Start(std::vector<std::string> env) {
  std::vector<std::string> args;
  if (!config_.empty()) args = {"--config", config_};
  d_ = std::make_unique<DaemonProcess>(Socket(), State(), std::move(args));
  if (!env.empty()) d_->SetEnv(std::move(env));
  ASSERT_TRUE(d_->Start()) << d_->Log();
}

nlohmann::json DaemonFixture::Ok(std::vector<std::string> args) {
  args.push_back("--json");
  RunResult r = d_->Ctl(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.Json();
}

RunResult DaemonFixture::Fail(std::vector<std::string> args, int code) {
  RunResult r = d_->Ctl(args);
  EXPECT_EQ(r.exit_code, code) << r.out << r.err;
  return r;
}

}  // namespace pmemd::testing
