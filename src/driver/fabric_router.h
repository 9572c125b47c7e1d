// FabricRouter: the NetworkFabric the engine talks to when hosts may be served by agents
// (docs/security-groups.md "How a host's firewall gets its NicFirewall list"), as HostRouter is
// its Driver.
//
// Contract:
// - Networks (apply) go to the local fabric: they live on the controller's network node.
// - apply_firewall routes by job.host: a host for which is_local() is true (the in-process
//   driver's) goes to the local fabric; any other goes to the RemoteFirewalls (the agent
//   service), which keeps it as the host's latest and sends it on the agent's stream or in
//   its next Welcome. Before set_remote() the newest job of each remote host is held here and
//   handed over by set_remote() (the engine sends every host its firewall at its start, before
//   the controller's agent service exists).
// - The agents' answers come back through remote_sink(), forwarded to the engine's sink once
//   start() was called; dropped before that and after stop(), which waits for one in flight.
// - A remote host whose agent never answers leaves its job unanswered (no FirewallDone): its
//   error is what its last answer said.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "driver/network_fabric.h"

namespace corral::driver {

// The agents' side of the router: implemented by the controller's agent service.
class RemoteFirewalls {
 public:
  virtual ~RemoteFirewalls() = default;
  // Keeps the job as the host's latest and queues it for the host's agent. Must not block.
  virtual void apply_remote_firewall(HostFirewallJob job) = 0;
};

class FabricRouter final : public NetworkFabric {
 public:
  // `local` must outlive the router.
  FabricRouter(NetworkFabric& local, std::function<bool(const std::string& host)> is_local)
      : local_(local), is_local_(std::move(is_local)) {}

  // Once, after start(); null before the remote side stops (jobs are then held again).
  void set_remote(RemoteFirewalls* remote);
  // Where agents' FirewallResults go (the agent service calls it from its streams' threads).
  NetworkSink& remote_sink() { return forward_; }

  void start(NetworkSink* sink) override;
  void stop() override;
  void apply(NetworkJob job) override { local_.apply(std::move(job)); }
  void apply_firewall(HostFirewallJob job) override;

 private:
  class Forward final : public NetworkSink {
   public:
    void set(NetworkSink* sink);
    void network_done(NetworkDone done) override;
    void firewall_done(FirewallDone done) override;

   private:
    std::mutex mu_;  // held while forwarding, so stop() waits for a call in flight
    NetworkSink* sink_ = nullptr;
  };

  NetworkFabric& local_;
  const std::function<bool(const std::string&)> is_local_;
  Forward forward_;
  std::mutex mu_;
  RemoteFirewalls* remote_ = nullptr;
  std::map<std::string, HostFirewallJob> held_;  // by host, before set_remote
};

}  // namespace corral::driver
