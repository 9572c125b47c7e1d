#include "driver/fabric_router.h"

#include <utility>

namespace corral::driver {

void FabricRouter::set_remote(RemoteFirewalls* remote) {
  std::lock_guard lock(mu_);
  remote_ = remote;
  if (remote_ == nullptr) return;
  // Under the lock, so a newer job of the same host cannot overtake a held one.
  for (auto& [host, job] : held_) remote_->apply_remote_firewall(std::move(job));
  held_.clear();
}

void FabricRouter::start(NetworkSink* sink) {
  forward_.set(sink);
  local_.start(sink);
}

void FabricRouter::stop() {
  local_.stop();
  forward_.set(nullptr);
}

void FabricRouter::apply_firewall(HostFirewallJob job) {
  if (is_local_(job.host)) {
    local_.apply_firewall(std::move(job));
    return;
  }
  std::lock_guard lock(mu_);
  if (remote_ != nullptr) {
    remote_->apply_remote_firewall(std::move(job));
    return;
  }
  std::string host = job.host;
  held_[std::move(host)] = std::move(job);
}

void FabricRouter::Forward::set(NetworkSink* sink) {
  std::lock_guard lock(mu_);
  sink_ = sink;
}

void FabricRouter::Forward::network_done(NetworkDone done) {
  std::lock_guard lock(mu_);
  if (sink_ != nullptr) sink_->network_done(std::move(done));
}

void FabricRouter::Forward::firewall_done(FirewallDone done) {
  std::lock_guard lock(mu_);
  if (sink_ != nullptr) sink_->firewall_done(std::move(done));
}

}  // namespace corral::driver
