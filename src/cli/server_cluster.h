// `corral server`'s cluster flags (issue 11): the agent and join ports, the hosts' heartbeat,
// down-timeout and lease, what a dead host's VMs become, and how the scheduler ranks hosts.
// Kept apart from server_command.cc so that file stays about starting the process.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <optional>
#include <string>

#include "api/server.h"
#include "controller/cluster_server.h"
#include "engine/engine.h"

namespace corral::cli {

struct ClusterFlags {
  std::string agent_listen = "127.0.0.1:8781";
  std::string join_listen = "127.0.0.1:8782";
  double heartbeat_interval_s = 2;
  double down_timeout_s = 10;
  double lease_s = 6;
  std::string host_failure_policy = "none";
  std::string rank_policy = "striping";
};

void add_cluster_flags(CLI::App& cmd, ClusterFlags& flags);

// Fills options.hosts and options.rank_policy; the usage error when a value is out of range.
std::optional<std::string> apply_cluster_flags(const ClusterFlags& flags,
                                               engine::EngineOptions& options);

// The API's view of the cluster server (POST /v1/hosts' join token and agent command). The
// API server is built before the cluster server starts: until attach(), kUnavailable.
class ClusterJoin final : public api::HostJoin {
 public:
  void attach(controller::ClusterServer* cluster) { cluster_.store(cluster); }
  Result<std::string> issue_token(const std::string& host) override;
  std::string agent_address() const override;
  std::string join_address() const override;

 private:
  std::atomic<controller::ClusterServer*> cluster_{nullptr};
};

}  // namespace corral::cli
