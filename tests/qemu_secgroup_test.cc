// Security groups through the product with real traffic (issue 13, deliverable 3): a `corral
// server --driver qemu` on the default network, a guest whose NIC is only in the group
// "locked" (egress only), and TCP connects to its dropbear (port 22) from the network's
// namespace: dropped while no rule allows them, answered after `corral secgroup rule-add`,
// dropped again after `rule-delete`. The server's host namespace and the network node are
// removed by QemuServer (by the names the cluster CA gives them), the QEMU processes by PID.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "driver/qemu/posix.h"
#include "support/qemu_support.h"

namespace corral::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kReady = "corral-guest: ready";

// Whether a TCP connect from `netns` to ip:22 gets dropbear's banner within 2 s. A dropped SYN
// times out; a refused one fails at once; neither prints the banner.
bool banner(const std::string& netns, const std::string& ip) {
  Result<driver::qemu::CommandResult> r =
      driver::qemu::run_command({"ip", "netns", "exec", netns, "timeout", "2", "bash", "-c",
                                 "exec 3<>/dev/tcp/" + ip + "/22 && head -c 8 <&3"},
                                5s);
  return r && r->exit_code == 0 && r->output.find("SSH-") != std::string::npos;
}

bool eventually_banner(const std::string& netns, const std::string& ip, bool want) {
  for (auto until = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < until;) {
    if (banner(netns, ip) == want) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

TEST(QemuSecurityGroupTest, PortTwentyTwoOpensWithARuleAndClosesWithoutIt) {
  QemuServer server({"--default-network", "10.96.0.0/24"});
  ASSERT_TRUE(server.process().start()) << server.process().log();
  const std::string url = server.process().url();
  Api api(server.process());
  bool ready = false;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       !ready && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(50ms)) {
    ready = api.get("/v1/networks/default").body["network"]["state"] == "READY";
  }
  ASSERT_TRUE(ready) << api.get("/v1/networks/default").body.dump();
  ASSERT_EQ(
      api.post("/v1/security-groups",
               {{"name", "locked"}, {"rules", {{{"direction", "egress"}, {"protocol", "all"}}}}})
          .status,
      201);
  const ApiResult created = api.post("/v1/vms", {{"name", "sg"},
                                                 {"image", "tiny"},
                                                 {"vcpus", 1},
                                                 {"memory_mib", 128},
                                                 {"networks", {"default"}},
                                                 {"security_groups", {"locked"}}});
  ASSERT_EQ(created.status, 202) << created.body.dump();
  const std::int64_t id = created.body["vm"]["id"].get<std::int64_t>();
  const std::string ip = created.body["vm"]["nics"][0]["ip"].get<std::string>();
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  ASSERT_TRUE(wait_console(api, id, kReady));
  const json networks = api.get("/v1/networks").body["networks"];
  ASSERT_EQ(networks.size(), 1u);
  const std::string netns = networks[0]["namespace"].get<std::string>();

  // Nothing lets a connection in: for a few seconds after the guest is up, none is answered.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(banner(netns, ip)) << "port 22 open without a rule";
  const CliResult add =
      run_cli({"secgroup", "rule-add", "locked", "--protocol", "tcp", "--ports", "22"}, url);
  ASSERT_EQ(add.exit_code, 0) << add.out;
  EXPECT_TRUE(eventually_banner(netns, ip, true)) << "port 22 still closed after rule-add";
  const json group = api.get("/v1/security-groups/locked").body["security_group"];
  const std::string rule = std::to_string(group["rules"][1]["id"].get<std::int64_t>());
  const CliResult del = run_cli({"secgroup", "rule-delete", "locked", rule}, url);
  ASSERT_EQ(del.exit_code, 0) << del.out;
  EXPECT_TRUE(eventually_banner(netns, ip, false)) << "port 22 still open after rule-delete";
}

}  // namespace
}  // namespace corral::testing
