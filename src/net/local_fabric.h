// The network fabric of a controller whose networks live on this machine (driver/
// network_fabric.h): a worker thread that runs each network's jobs on the network node
// (fabric.h NetNode: gateway bridge, VXLAN, dnsmasq) and answers the engine.
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

  const std::string& netns() const { return node_.netns(); }

 private:
  void loop();
  driver::NetworkDone run(const driver::NetworkJob& job);

  NetNode node_;
  driver::NetworkSink* sink_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::int64_t, driver::NetworkJob> waiting_;  // the newest job of each network
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace corral::net
