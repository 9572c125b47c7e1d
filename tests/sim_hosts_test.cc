// `corral agent --driver sim --sim-hosts N`: many simulated hosts in one process, each its own
// agent, identity and TLS stream, joined through the controller's API (--api) with a token
// each. Real processes: a controller and one agent process. Covers what a scale test and a
// failure rehearsal need: every host MONITORED, VMs placed across them within each host's
// capacity, and one host killed (a line in <data-dir>/sim-control) whose VMs come back on the
// others under --host-failure-policy evacuate while the rest stay up; a cut host (its stream
// dropped, the process alive) goes ERROR and comes back after `restore`; a host added before
// gets a new token, and a second run reuses the identities it stored.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/agent_process.h"
#include "support/cluster.h"

namespace corral::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kMemoryMib = 640;  // each simulated host: five VMs of 128 MiB

// Every VM (id -> the whole VM), across pages.
std::map<std::int64_t, json> all_vms(Api& api) {
  std::map<std::int64_t, json> vms;
  std::string path = "/v1/vms?limit=500";
  for (;;) {
    const auto page = api.get(path);
    if (page.status != 200) break;
    for (const json& vm : page.body.value("vms", json::array())) {
      vms[vm.value("id", std::int64_t{0})] = vm;
    }
    const json next = page.body.value("next_marker", json());
    if (!next.is_number_integer()) break;
    path = "/v1/vms?limit=500&marker=" + std::to_string(next.get<std::int64_t>());
  }
  return vms;
}

std::map<std::string, json> hosts_with_prefix(Api& api, const std::string& prefix) {
  std::map<std::string, json> out;
  for (const json& h : api.get("/v1/hosts").body.value("hosts", json::array())) {
    const std::string name = h.value("name", std::string());
    if (name.starts_with(prefix + "-")) out[name] = h;
  }
  return out;
}

int count_in(const std::map<std::string, json>& hosts, const std::string& state, bool connected) {
  int n = 0;
  for (const auto& [name, h] : hosts) {
    if (h.value("state", std::string()) == state && h.value("connected", false) == connected) ++n;
  }
  return n;
}

bool idle_running(const json& vm) {
  const json op = vm.value("operation", json());
  return vm.value("state", std::string()) == "RUNNING" &&
         (op.is_null() || op.value("status", std::string()) != "running");
}

// AgentProcess runs the agent with --data-dir <its dir>/var.
void control(const AgentProcess& agents, const std::string& line) {
  std::ofstream(agents.data_dir() + "/var/sim-control", std::ios::app) << line << "\n";
}

AgentOptions sim_hosts_options(Cluster& cluster, int n, const std::string& prefix) {
  AgentOptions o = cluster.agent_options();
  o.extra.insert(o.extra.end(), {"--sim-hosts", std::to_string(n), "--name-prefix", prefix, "--api",
                                 cluster.server().url(), "--sim-vcpus", "4", "--sim-memory-mib",
                                 std::to_string(kMemoryMib)});
  return o;
}

TEST(SimHostsTest, FiftyHostsTakeTwoHundredVmsAndAKilledOneIsEvacuated) {
  Cluster cluster({.server_args = {"--host-failure-policy", "evacuate"}});
  ASSERT_TRUE(cluster.start());
  auto& api = cluster.api();
  AgentProcess agents(sim_hosts_options(cluster, 50, "s"));
  ASSERT_TRUE(agents.start());
  ASSERT_TRUE(eventually(
      [&] { return count_in(hosts_with_prefix(api, "s"), "MONITORED", true) == 50; }, 40s))
      << hosts_with_prefix(api, "s").size() << " hosts\n"
      << agents.log();

  std::vector<std::int64_t> ids;
  for (int i = 0; i < 200; ++i) {
    ids.push_back(cluster.create("v" + std::to_string(i)));
    ASSERT_NE(ids.back(), 0);
  }
  std::map<std::int64_t, json> vms;
  ASSERT_TRUE(eventually(
      [&] {
        vms = all_vms(api);
        int running = 0;
        for (const auto& [id, vm] : vms) running += idle_running(vm) ? 1 : 0;
        return running == 200;
      },
      30s))
      << vms.size() << " VMs";
  // Placed across the simulated hosts, none beyond its memory (ram allocation ratio 1).
  std::map<std::string, int> per_host;
  for (const auto& [id, vm] : vms) ++per_host[vm.value("host", std::string())];
  for (const auto& [host, n] : per_host) {
    EXPECT_TRUE(host.starts_with("s-")) << host;
    EXPECT_LE(n * 128, kMemoryMib) << host << " holds " << n << " VMs";
  }
  EXPECT_GE(per_host.size(), 40u);  // 200 VMs, at most 5 a host

  // Kill the busiest host: its VMs come back elsewhere, the other 49 stay up.
  const auto victim =
      std::ranges::max_element(per_host, {}, [](const auto& entry) { return entry.second; });
  const std::string dead = victim->first;
  std::set<std::int64_t> on_dead;
  for (const auto& [id, vm] : vms) {
    if (vm.value("host", std::string()) == dead) on_dead.insert(id);
  }
  ASSERT_FALSE(on_dead.empty());
  // Evacuated are the VMs the host's last heartbeat reported guarded (sure to stop with its
  // lease): kill it once it has reported all of them, as a rehearsal of a settled host.
  ASSERT_TRUE(eventually(
      [&] {
        const json guarded = cluster.host(dead)["metrics"].value("guarded_vms", json::array());
        return std::ranges::all_of(on_dead, [&](std::int64_t id) {
          return std::ranges::find(guarded, json(id)) != guarded.end();
        });
      },
      10s))
      << cluster.host(dead).dump();
  control(agents, "kill " + dead);
  ASSERT_TRUE(cluster.wait_host(dead, "ERROR", 15s)) << cluster.host(dead).dump();
  ASSERT_TRUE(eventually(
      [&] {
        for (const std::int64_t id : on_dead) {
          const json vm = cluster.vm(id);
          if (!idle_running(vm) || vm.value("host", std::string()) == dead) return false;
        }
        return true;
      },
      30s))
      << cluster.vm(*on_dead.begin()).dump() << "\n"
      << agents.log();
  const auto hosts = hosts_with_prefix(api, "s");
  EXPECT_EQ(count_in(hosts, "MONITORED", true), 49);
  per_host.clear();
  for (const auto& [id, vm] : all_vms(api)) {
    EXPECT_TRUE(idle_running(vm)) << vm.dump();
    ++per_host[vm.value("host", std::string())];
  }
  EXPECT_EQ(per_host.count(dead), 0u);
  for (const auto& [host, n] : per_host) EXPECT_LE(n * 128, kMemoryMib) << host;
  EXPECT_EQ(agents.stop(), 0) << agents.log();
}

// A cut host: the process and its VMs live on, its stream is gone; the controller marks it
// ERROR, and after `restore` it dials again and is MONITORED with its VMs still there (the
// none policy: nothing recreated elsewhere).
TEST(SimHostsTest, CutHostGoesDownAndComesBackOnRestore) {
  Cluster cluster;
  ASSERT_TRUE(cluster.start());
  auto& api = cluster.api();
  AgentProcess agents(sim_hosts_options(cluster, 3, "c"));
  ASSERT_TRUE(agents.start());
  ASSERT_TRUE(eventually(
      [&] { return count_in(hosts_with_prefix(api, "c"), "MONITORED", true) == 3; }, 30s))
      << agents.log();
  const std::int64_t id = cluster.create("cut-me");
  ASSERT_TRUE(cluster.wait_vm(id, "RUNNING"));
  const std::string host = cluster.host_of(id);

  control(agents, "cut " + host);
  ASSERT_TRUE(cluster.wait_host(host, "ERROR", 15s)) << cluster.host(host).dump() << agents.log();
  EXPECT_FALSE(cluster.host(host).value("connected", true));
  EXPECT_EQ(count_in(hosts_with_prefix(api, "c"), "MONITORED", true), 2);

  control(agents, "restore " + host);
  ASSERT_TRUE(cluster.wait_connected(host, 15s)) << cluster.host(host).dump();
  EXPECT_EQ(cluster.host_of(id), host);
  EXPECT_EQ(agents.stop(), 0) << agents.log();
}

// --sim-fail kills a host at a set time; `restore` boots it again, empty, with the identity it
// stored: it is MONITORED again and the other host never went down.
TEST(SimHostsTest, TimedKillThenRestoreBootsTheHostAgain) {
  Cluster cluster;
  ASSERT_TRUE(cluster.start());
  auto& api = cluster.api();
  AgentOptions o = sim_hosts_options(cluster, 2, "k");
  o.extra.insert(o.extra.end(), {"--sim-fail", "host=k-0002,mode=kill,after=3s"});
  AgentProcess agents(o);
  ASSERT_TRUE(agents.start());
  ASSERT_TRUE(eventually(
      [&] { return count_in(hosts_with_prefix(api, "k"), "MONITORED", true) == 2; }, 30s))
      << agents.log();
  ASSERT_TRUE(cluster.wait_host("k-0002", "ERROR", 15s)) << cluster.host("k-0002").dump();
  EXPECT_TRUE(cluster.host("k-0001").value("connected", false));
  control(agents, "restore k-0002");
  ASSERT_TRUE(cluster.wait_connected("k-0002", 15s))
      << cluster.host("k-0002").dump() << agents.log();
  EXPECT_EQ(agents.stop(), 0) << agents.log();
}

// A host added before (by an operator, or a run that died before joining) gets a new token;
// a second run joins nothing again: it reuses the identities in its data dir.
TEST(SimHostsTest, AddedHostsGetANewTokenAndARestartReusesIdentities) {
  Cluster cluster;
  ASSERT_TRUE(cluster.start());
  auto& api = cluster.api();
  cluster.add_host("e-0001");
  AgentOptions o = sim_hosts_options(cluster, 2, "e");
  {
    AgentProcess first(o);
    ASSERT_TRUE(first.start());
    ASSERT_TRUE(eventually(
        [&] { return count_in(hosts_with_prefix(api, "e"), "MONITORED", true) == 2; }, 30s))
        << first.log();
    ASSERT_EQ(first.stop(), 0) << first.log();
    ASSERT_TRUE(eventually(
        [&] { return count_in(hosts_with_prefix(api, "e"), "MONITORED", true) == 0; }, 15s));
    // Without --api: only the stored identities can get them in.
    AgentOptions stored = cluster.agent_options();
    stored.extra.insert(stored.extra.end(), {"--sim-hosts", "2", "--name-prefix", "e"});
    AgentProcess again(stored, first.data_dir());
    ASSERT_TRUE(again.start());
    ASSERT_TRUE(eventually(
        [&] { return count_in(hosts_with_prefix(api, "e"), "MONITORED", true) == 2; }, 30s))
        << again.log();
    EXPECT_EQ(hosts_with_prefix(api, "e").size(), 2u);
    EXPECT_EQ(again.stop(), 0) << again.log();
  }
}

// Without --api a host with no identity cannot join: a clear usage of the flag, exit 1.
TEST(SimHostsTest, NoIdentityAndNoApiIsAClearError) {
  Cluster cluster;
  ASSERT_TRUE(cluster.start());
  AgentOptions o = cluster.agent_options();
  o.extra.insert(o.extra.end(), {"--sim-hosts", "2"});
  AgentProcess agents(o);
  ASSERT_TRUE(agents.start());
  EXPECT_EQ(agents.wait_exit(20'000), 1) << agents.log();
  EXPECT_NE(agents.log().find("--api"), std::string::npos) << agents.log();
}

// Flags that cannot go together are a usage error (exit 2) before anything starts.
TEST(SimHostsTest, MisusedFlagsAreUsageErrors) {
  Cluster cluster;
  ASSERT_TRUE(cluster.start());
  const std::vector<std::vector<std::string>> cases = {
      {"--sim-hosts", "2", "--join", "corral-join-x"},          // one token for N hosts
      {"--sim-fail", "host=a,mode=kill"},                       // no --sim-hosts
      {"--api", cluster.server().url()},                        // no --sim-hosts
      {"--sim-hosts", "2", "--sim-fail", "host=a,mode=later"},  // bad mode
  };
  for (const auto& extra : cases) {
    AgentOptions o = cluster.agent_options();
    o.extra.insert(o.extra.end(), extra.begin(), extra.end());
    AgentProcess agent(o);
    ASSERT_TRUE(agent.start());
    EXPECT_EQ(agent.wait_exit(20'000), 2) << extra.front() << "\n" << agent.log();
  }
}

}  // namespace
}  // namespace corral::testing
