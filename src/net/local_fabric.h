// The network fabric of a controller whose networks live on this machine (driver/
// network_fabric.h): a worker thread that runs each network's jobs on the network node
// (fabric.h NetNode: gateway bridge, VXLAN, dnsmasq) and answers the engine.
//
// Security groups: apply_firewall() jobs run on the same worker with net::apply_firewall in the
// host's namespace (FabricNames::host_ns), coalesced per host like networks. It is given only
// the jobs of the hosts whose taps are on this machine (driver::FabricRouter sends agent hosts'
// to their agents). A host whose namespace does not exist yet has no tap to filter: its job is
// done (the engine sends the host's job again when a VM's phase there ends).
//
// Before a tap opens, the driver's tap opener calls apply_latest(host) on its own thread: the
// newest job for the host (the engine sends a commit's jobs before it dispatches the commit's
// phases, so a deploy's job, which lists its NICs, is in hand) is applied then and there, so a
// tap is filtered from its first frame. Applications of one host's jobs are serialized and
// never go back to an older generation.
//
// Contract: apply() only enqueues; jobs for one network are coalesced (only the newest waiting
// one runs: each is the network's whole state) and answered in order, newest generation last;
// stop() finishes the job in hand, answers nothing more, and leaves the networks running (a
// restarted controller adopts them, as Neutron's DHCP agent does its dnsmasq).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "driver/network_fabric.h"
#include "net/fabric.h"

namespace corral::net {

class LocalFabric final : public driver::NetworkFabric {
 public:
  LocalFabric(FabricNames names, std::string state_dir);
  ~LocalFabric() override;

  void start(driver::NetworkSink* sink) override;
  void stop() override;
  void apply(driver::NetworkJob job) override;
  void apply_firewall(driver::HostFirewallJob job) override;
  // Applies the newest job received for `host` now, on the calling thread (a waiting one is
  // taken and answered; else the last applied is applied again). No job yet: nothing to do.
  [[nodiscard]] Status apply_latest(const std::string& host);

  const std::string& netns() const { return node_.netns(); }

 private:
  void loop();
  driver::NetworkDone run(const driver::NetworkJob& job);
  // Under apply_mu_: applies `job` unless a newer one for its host was applied.
  driver::FirewallDone run_firewall(const driver::HostFirewallJob& job);

  FabricNames names_;
  NetNode node_;
  driver::NetworkSink* sink_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::int64_t, driver::NetworkJob> waiting_;        // the newest job of each network
  std::map<std::string, driver::HostFirewallJob> firewalls_;  // the newest job of each host
  bool stopping_ = false;
  // Held while a firewall job is taken and applied (by the worker or apply_latest), before mu_.
  std::mutex apply_mu_;
  std::map<std::string, driver::HostFirewallJob> applied_;  // the last applied job of each host
  std::thread worker_;
};

}  // namespace corral::net
