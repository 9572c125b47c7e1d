// Live migration between two real agents, each in its own network namespace (two hypervisor
// hosts on one machine), over the public API — what issue 12's README walkthrough shows:
//   1. shared storage (both agents' --shared-dir is one directory): a guest counting on its
//      console moves h1 -> h2 and back; after each move exactly one QEMU runs it, on the host
//      the store names, the counter goes on from where it was (the guest never rebooted), and
//      the migration record has the memory sent and the downtime;
//   2. the agents restarted with disks of their own: a move with copy_storage (the disk is
//      mirrored while the guest runs), the guest checked the same way;
//   3. a move whose target cannot receive (the migration link cut) is rolled back by the undo
//      phases: the guest still runs on its source, once, and the operation failed.
// The two agents reach each other over a third veth pair, the migration network; each
// listens for incoming migrations on its own end of it (--migration-address).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/agent_process.h"
#include "support/cluster.h"
#include "support/netns.h"
#include "support/qemu_support.h"

namespace corral::testing {
namespace {

using namespace std::chrono_literals;

// The lowest and highest "tick N" on the console of the guest's current host (its QEMU's log
// starts empty on the target of a move); {0, 0}: none yet.
std::pair<long, long> ticks(Api& api, std::int64_t id) {
  const ApiResult log = api.get("/v1/vms/" + std::to_string(id) + "/console/log");
  if (log.status != 200 || !log.body.contains("log")) return {0, 0};
  const std::string text = log.body["log"].get<std::string>();
  static const std::regex kTick("tick ([0-9]+)");
  long low = 0;
  long high = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kTick);
       it != std::sregex_iterator(); ++it) {
    const long n = std::stol((*it)[1].str());
    low = low == 0 ? n : std::min(low, n);
    high = std::max(high, n);
  }
  return {low, high};
}

bool idle_in(Cluster& cluster, std::int64_t id, const std::string& state) {
  const auto vm = cluster.vm(id);
  const auto op = vm.value("operation", nlohmann::json());
  return vm.value("state", std::string()) == state &&
         (op.is_null() || op.value("status", std::string()) != "running");
}

// Every VM with a QEMU process under each agent's data dir.
std::set<std::int64_t> vms_under(const AgentProcess& agent) {
  std::set<std::int64_t> out;
  for (const auto& [vm, pid] : qemu_processes(agent.data_dir())) out.insert(vm);
  return out;
}

TEST(QemuAgentsMigrateTest, ALiveGuestMovesBetweenHostsAndBackAndAFailedMoveRollsBack) {
  auto ctl = Netns::create("mctl");
  auto ns1 = Netns::create("m1");
  auto ns2 = Netns::create("m2");
  ASSERT_TRUE(ctl && ns1 && ns2);
  VethLink link1;
  VethLink link2;
  VethLink mig;
  ASSERT_TRUE(make_veth(*ctl, *ns1, "1", "10.214.1", link1));
  ASSERT_TRUE(make_veth(*ctl, *ns2, "2", "10.214.2", link2));
  ASSERT_TRUE(make_veth(*ns1, *ns2, "m", "10.214.3", mig));  // h1 .1, h2 .2
  const auto inside = ctl->enter();

  const std::filesystem::path shared =
      std::filesystem::temp_directory_path() / ("corral-shared-" + std::to_string(getpid()));
  std::filesystem::create_directories(shared);
  // Whatever happens below (an ASSERT returns early), the guests under the agents' data dirs
  // and the shared dir go.
  std::vector<std::string> data_dirs;
  struct AtExit {
    std::function<void()> run;
    ~AtExit() { run(); }
  } at_exit{[&] {
    for (const std::string& dir : data_dirs) kill_qemu_processes(dir);
    std::error_code ec;
    std::filesystem::remove_all(shared, ec);
  }};

  Cluster cluster({.driver = "qemu",
                   .listen_host = "0.0.0.0",
                   .server_args = {"--host-failure-policy", "none"}});
  ASSERT_TRUE(cluster.start());
  auto options1 = cluster.agent_options(link1.a_ip);
  options1.prefix = ns1->exec_prefix();
  options1.extra = {"--migration-address", mig.a_ip, "--shared-dir", shared.string()};
  auto options2 = cluster.agent_options(link2.a_ip);
  options2.prefix = ns2->exec_prefix();
  options2.extra = {"--migration-address", mig.b_ip, "--shared-dir", shared.string()};
  auto h1 = cluster.join("h1", options1);
  auto h2 = cluster.join("h2", options2);
  ASSERT_TRUE(h1 && h2);
  data_dirs = {h1->data_dir(), h2->data_dir()};

  Api& api = cluster.api();
  // A guest counting on its console: the count goes on across a move, and would start again
  // at 1 after a reboot.
  auto counting_guest = [&](const std::string& name) -> std::int64_t {
    const std::int64_t id = cluster.create(name);
    EXPECT_TRUE(cluster.wait_vm(id, "RUNNING", 90s)) << cluster.vm(id).dump();
    EXPECT_EQ(
        api.post("/v1/vms/" + std::to_string(id) + "/console",
                 {{"input", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done &\n"}})
            .status,
        202);
    EXPECT_TRUE(wait_console(api, id, "tick 3", 30s));
    return id;
  };
  AgentProcess* hosts[] = {h1.get(), h2.get()};
  auto agent = [&](const std::string& name) -> const AgentProcess& {
    return name == "h1" ? *hosts[0] : *hosts[1];
  };

  // Moves the guest to `to` and checks it there; false (with failures) if it did not get there.
  auto move = [&](std::int64_t id, const std::string& to, const nlohmann::json& options) {
    const long before = ticks(api, id).second;
    nlohmann::json body = options;
    body["host"] = to;
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(act(api, id, "live_migrate", body), 202);
    const bool moved = eventually(
        [&] { return cluster.host_of(id) == to && idle_in(cluster, id, "RUNNING"); }, 90s);
    EXPECT_TRUE(moved) << cluster.vm(id).dump();
    if (!moved) return false;
    std::printf("[ figure ] live_migrate to %s %s: %.2f s from the request to RUNNING there\n",
                to.c_str(), options.dump().c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    // Exactly one QEMU runs it, on the host the store names.
    const AgentProcess& here = agent(to);
    const AgentProcess& there = agent(to == "h1" ? "h2" : "h1");
    EXPECT_TRUE(eventually([&] { return vms_under(there).count(id) == 0; }, 20s))
        << "the source still runs the guest";
    EXPECT_EQ(vms_under(here).count(id), 1u);
    // The guest goes on counting where it was (a reboot would start again at 1).
    EXPECT_TRUE(eventually([&] { return ticks(api, id).second > before + 3; }, 20s))
        << "the guest's counter stopped at " << ticks(api, id).second;
    EXPECT_GE(ticks(api, id).first, before - 5) << "the counter restarted: the guest rebooted";
    // The migration record has the memory sent and the downtime (query-migrate's).
    const ApiResult records = api.get("/v1/vms/" + std::to_string(id) + "/migrations");
    const nlohmann::json last = records.body["migrations"].back();
    EXPECT_EQ(last.value("status", ""), "completed") << last.dump();
    EXPECT_GT(last.value("memory_processed_bytes", std::int64_t{0}), 0) << last.dump();
    std::printf("[ figure ]   memory sent %lld bytes, downtime %lld ms\n",
                static_cast<long long>(last.value("memory_processed_bytes", std::int64_t{0})),
                static_cast<long long>(last.value("downtime_ms", std::int64_t{0})));
    return true;
  };

  // 1. Shared storage, there and back.
  const std::int64_t shared_vm = counting_guest("mover");
  const std::string first = cluster.host_of(shared_vm);
  const std::string second = first == "h1" ? "h2" : "h1";
  ASSERT_TRUE(move(shared_vm, second, nlohmann::json::object()));
  ASSERT_TRUE(move(shared_vm, first, nlohmann::json::object()));
  ASSERT_EQ(api.del("/v1/vms/" + std::to_string(shared_vm) + "?hard=true").status, 202);
  ASSERT_TRUE(cluster.wait_vm(shared_vm, "DONE", 30s));

  // 2. Each host with disks of its own: the agents again without --shared-dir.
  h1->stop();
  h2->stop();
  options1.extra = {"--migration-address", mig.a_ip};
  options2.extra = {"--migration-address", mig.b_ip};
  AgentProcess own1(options1, h1->data_dir());
  AgentProcess own2(options2, h2->data_dir());
  ASSERT_TRUE(own1.start() && own2.start());
  hosts[0] = &own1;
  hosts[1] = &own2;
  ASSERT_TRUE(cluster.wait_host("h1", "MONITORED", 30s));
  ASSERT_TRUE(cluster.wait_host("h2", "MONITORED", 30s));
  const std::int64_t id = counting_guest("copier");
  const std::string from = cluster.host_of(id);
  const std::string to = from == "h1" ? "h2" : "h1";
  ASSERT_TRUE(move(id, to, {{"copy_storage", true}}));

  // 3. The migration network cut: the target cannot receive; the undo puts the guest back.
  ASSERT_TRUE(set_link(mig.a_ns, mig.a_dev, false));
  EXPECT_EQ(act(api, id, "live_migrate", {{"host", from}, {"copy_storage", true}}), 202);
  EXPECT_TRUE(eventually(
      [&] {
        const auto vm = cluster.vm(id);
        return idle_in(cluster, id, "RUNNING") &&
               vm["operation"].value("action", std::string()) == "live_migrate" &&
               vm["operation"].value("status", std::string()) == "failed";
      },
      120s))
      << cluster.vm(id).dump();
  EXPECT_EQ(cluster.host_of(id), to);
  EXPECT_EQ(vms_under(agent(to)).count(id), 1u);
  EXPECT_EQ(vms_under(agent(from)).count(id), 0u);
  const long at_rollback = ticks(api, id).second;
  EXPECT_TRUE(eventually([&] { return ticks(api, id).second > at_rollback + 2; }, 20s))
      << "the guest stopped counting after the rollback";
  const ApiResult records = api.get("/v1/vms/" + std::to_string(id) + "/migrations");
  EXPECT_EQ(records.body["migrations"].back().value("status", ""), "failed") << records.body.dump();
  ASSERT_TRUE(set_link(mig.a_ns, mig.a_dev, true));

  own1.stop();
  own2.stop();
}

}  // namespace
}  // namespace corral::testing
