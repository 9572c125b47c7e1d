#include "cli/server_cluster.h"

namespace corral::cli {

void add_cluster_flags(CLI::App& cmd, ClusterFlags& flags) {
  cmd.add_option("--agent-listen", flags.agent_listen,
                 "Address agents connect to (HOST:PORT, mutual TLS with the cluster CA in "
                 "<data-dir>/cluster; port 0: any free port, written to "
                 "<data-dir>/cluster/ports.json)")
      ->capture_default_str();
  cmd.add_option("--join-listen", flags.join_listen,
                 "Address agents join at with a token from `corral host add` (HOST:PORT, TLS)")
      ->capture_default_str();
  cmd.add_option("--heartbeat-interval", flags.heartbeat_interval_s,
                 "Seconds between two heartbeats of an agent (and two pings of the controller)")
      ->capture_default_str();
  cmd.add_option("--down-timeout", flags.down_timeout_s,
                 "Seconds without a heartbeat before a host is ERROR and its VMs UNKNOWN")
      ->capture_default_str();
  cmd.add_option("--lease", flags.lease_s,
                 "Seconds an agent may go without hearing from the controller before it stops "
                 "its evacuable VMs (0: never)")
      ->capture_default_str();
  cmd.add_option("--host-failure-policy", flags.host_failure_policy,
                 "What a dead host's VMs become: none (the operator decides) or evacuate "
                 "(evacuable VMs are recreated elsewhere once the lease has run out)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "evacuate"}));
  cmd.add_option("--rank-policy", flags.rank_policy,
                 "How the scheduler ranks hosts that fit: packing (most running VMs first), "
                 "striping (fewest first) or load-aware (most free CPU first)")
      ->capture_default_str()
      ->check(CLI::IsMember({"packing", "striping", "load-aware"}));
}

std::optional<std::string> apply_cluster_flags(const ClusterFlags& flags,
                                               engine::EngineOptions& options) {
  if (!(flags.heartbeat_interval_s >= 0.05 && flags.heartbeat_interval_s <= 3600)) {
    return "--heartbeat-interval must be 0.05 to 3600 seconds";
  }
  if (!(flags.down_timeout_s > flags.heartbeat_interval_s && flags.down_timeout_s <= 86400)) {
    return "--down-timeout must be longer than --heartbeat-interval (and at most a day)";
  }
  // An agent is pinged every heartbeat interval: a shorter lease would fence healthy hosts.
  if (!(flags.lease_s == 0 ||
        (flags.lease_s > flags.heartbeat_interval_s && flags.lease_s <= 86400))) {
    return "--lease must be 0 (never) or longer than --heartbeat-interval (and at most a day)";
  }
  engine::HostOptions& hosts = options.hosts;
  hosts.heartbeat_interval_ms = static_cast<Millis>(flags.heartbeat_interval_s * 1000);
  hosts.down_timeout_ms = static_cast<Millis>(flags.down_timeout_s * 1000);
  hosts.lease_ms = static_cast<Millis>(flags.lease_s * 1000);
  hosts.failure_policy = flags.host_failure_policy == "evacuate"
                             ? engine::HostFailurePolicy::kEvacuate
                             : engine::HostFailurePolicy::kNone;
  // sched::RankPolicy's numbers (OpenNebula's policies 0-2).
  options.rank_policy = flags.rank_policy == "packing"    ? 0
                        : flags.rank_policy == "striping" ? 1
                                                          : 2;
  return std::nullopt;
}

Result<std::string> ClusterJoin::issue_token(const std::string& host) {
  controller::ClusterServer* cluster = cluster_.load();
  if (cluster == nullptr) {
    return fail(Error{ErrorCode::kUnavailable, "the cluster ports are not open yet", {}, {}});
  }
  return cluster->tokens().issue(host);
}

std::string ClusterJoin::agent_address() const {
  controller::ClusterServer* cluster = cluster_.load();
  return cluster == nullptr ? std::string() : cluster->agent_address();
}

std::string ClusterJoin::join_address() const {
  controller::ClusterServer* cluster = cluster_.load();
  return cluster == nullptr ? std::string() : cluster->join_address();
}

}  // namespace corral::cli
