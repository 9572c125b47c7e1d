// Two QEMU hypervisor hosts on one machine, for migration tests: a controller in a network
// namespace of its own, agents h1 and h2 each in theirs, reached over a veth each, and a third
// veth between h1 and h2 — the migration network (h1 10.214.3.1, h2 .2), on which each agent
// listens for incoming live migrations and serves cold migrations' files.
//
// Contract: start() fails the test (and returns false) when a namespace, link, the controller
// or an agent cannot be made. When the object goes, every QEMU under the agents' data dirs is
// killed (by the PIDs their pidfiles record), the agents stopped, and the namespaces, links and
// the shared directory removed — whatever state a failed assertion left.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/agent_process.h"
#include "support/cluster.h"
#include "support/netns.h"

namespace corral::testing {

class TwoHosts {
 public:
  TwoHosts() = default;
  ~TwoHosts();
  TwoHosts(const TwoHosts&) = delete;
  TwoHosts& operator=(const TwoHosts&) = delete;

  // `shared_storage`: both agents get one --shared-dir (the disks live there). `agent_args`:
  // more `corral agent` arguments, for every start of either agent; `server_args`: more
  // `corral server` arguments (e.g. --volume-dir-shared: the hosts share one filesystem, so
  // the controller's volume directory is at the same path on each).
  [[nodiscard]] bool start(bool shared_storage, std::vector<std::string> agent_args = {},
                           std::vector<std::string> server_args = {});
  // Both agents stopped and started again on their data dirs, with or without shared storage.
  [[nodiscard]] bool restart_agents(bool shared_storage);
  // One agent SIGKILLed (its QEMU processes stay, as after an agent crash) / started again.
  void kill_agent(const std::string& host);
  // A failure in the middle of a move from `source` to `target`: "source" or "target" (that
  // agent SIGKILLed and started again), "controller" (SIGKILLed and started again), "link"
  // (the migration link down for 3 s). False (with a test failure) if a party did not return.
  [[nodiscard]] bool strike(const std::string& party, const std::string& source,
                            const std::string& target);
  [[nodiscard]] bool start_agent(const std::string& host);

  Cluster& cluster() { return *cluster_; }
  Api& api() { return cluster_->api(); }
  AgentProcess& agent(const std::string& host) { return host == "h1" ? *h1_ : *h2_; }
  static std::string other(const std::string& host) { return host == "h1" ? "h2" : "h1"; }
  const VethLink& migration_link() const { return mig_; }

  // A VM whose guest counts on its console ("tick N" every 0.2 s), RUNNING, counting.
  std::int64_t counting_guest(const std::string& name);
  // The lowest and highest tick on the console of the guest's current host ({0, 0}: none).
  std::pair<long, long> ticks(std::int64_t id);
  // Idle (no operation running) in `state`.
  bool idle_in(std::int64_t id, const std::string& state);
  // The VMs with a QEMU process under `host`'s agent's data dir.
  std::set<std::int64_t> vms_under(const std::string& host);
  // The VM's directory on `host` (<agent data dir>/var/vms/<id>), and its disk there.
  std::filesystem::path vm_dir(const std::string& host, std::int64_t id);
  std::filesystem::path disk_of(const std::string& host, std::int64_t id);

 private:
  AgentOptions options_for(const std::string& host, bool shared_storage) const;
  void cleanup();
  // Keeps a stopped agent's object: the first one of each host owns its data dir (removed with
  // it), which the agents started again on that dir go on using.
  void retire(std::unique_ptr<AgentProcess> agent);

  std::unique_ptr<Netns> ctl_, ns1_, ns2_;
  VethLink link1_, link2_, mig_;
  std::unique_ptr<Netns::Entered> inside_;
  std::filesystem::path shared_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<AgentProcess> h1_, h2_;
  std::vector<std::unique_ptr<AgentProcess>> retired_;
  std::string dir1_, dir2_;
  bool shared_storage_ = false;
  std::vector<std::string> agent_args_;
};

// SHA-256 of a file as lowercase hex ("" when it cannot be read).
std::string sha256_of(const std::filesystem::path& path);

}  // namespace corral::testing
