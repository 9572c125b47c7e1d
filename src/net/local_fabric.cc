#include "net/local_fabric.h"

#include "net/firewall.h"
#include "net/netns.h"

namespace corral::net {

LocalFabric::LocalFabric(FabricNames names, std::string state_dir)
    : names_(names), node_(std::move(names), std::move(state_dir)) {}

LocalFabric::~LocalFabric() { stop(); }

void LocalFabric::start(driver::NetworkSink* sink) {
  sink_ = sink;
  stopping_ = false;
  worker_ = std::thread([this] { loop(); });
}

void LocalFabric::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void LocalFabric::apply(driver::NetworkJob job) {
  {
    std::lock_guard lock(mu_);
    waiting_[job.network] = std::move(job);
  }
  cv_.notify_one();
}

void LocalFabric::apply_firewall(driver::HostFirewallJob job) {
  {
    std::lock_guard lock(mu_);
    firewalls_[job.host] = std::move(job);
  }
  cv_.notify_one();
}

void LocalFabric::loop() {
  for (;;) {
    std::optional<driver::NetworkJob> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !waiting_.empty() || !firewalls_.empty(); });
      if (stopping_) return;
      // Networks first: a host's bridges exist before its rules name their taps.
      if (!waiting_.empty()) {
        job = std::move(waiting_.begin()->second);
        waiting_.erase(waiting_.begin());
      }
    }
    if (job) {
      sink_->network_done(run(*job));
      continue;
    }
    // Taken under apply_mu_ (then mu_), as apply_latest does: a tap opener never sees a job
    // that is neither waiting nor applied.
    std::lock_guard apply(apply_mu_);
    std::optional<driver::HostFirewallJob> firewall;
    {
      std::lock_guard lock(mu_);
      if (firewalls_.empty()) continue;  // apply_latest took it
      firewall = std::move(firewalls_.begin()->second);
      firewalls_.erase(firewalls_.begin());
    }
    sink_->firewall_done(run_firewall(*firewall));
  }
}

Status LocalFabric::apply_latest(const std::string& host) {
  std::lock_guard apply(apply_mu_);
  std::optional<driver::HostFirewallJob> job;
  bool waiting = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = firewalls_.find(host); it != firewalls_.end()) {
      job = std::move(it->second);
      firewalls_.erase(it);
      waiting = true;
    }
  }
  if (!job) {
    const auto it = applied_.find(host);
    if (it == applied_.end()) return {};
    job = it->second;
  }
  const driver::FirewallDone done = run_firewall(*job);
  if (waiting && sink_ != nullptr) sink_->firewall_done(done);
  if (done.error) return fail(Error{ErrorCode::kUnavailable, *done.error, {}, {}});
  return {};
}

driver::FirewallDone LocalFabric::run_firewall(const driver::HostFirewallJob& job) {
  driver::FirewallDone done{job.host, job.generation, std::nullopt};
  if (auto it = applied_.find(job.host);
      it != applied_.end() && it->second.generation > job.generation) {
    return done;  // a newer one is in force: the engine ignores this answer as stale
  }
  const std::string ns = names_.host_ns(job.host);
  if (!netns_exists(ns)) return done;  // no tap yet: nothing to filter
  std::vector<NicFirewall> nics;
  nics.reserve(job.nics.size());
  for (const driver::NicFirewallSpec& n : job.nics) {
    Result<Ipv4> ip = Ipv4::parse(n.ip);
    if (!ip) {
      done.error = "NIC " + std::to_string(n.nic) + " of VM " + std::to_string(n.vm) + ": " +
                   ip.error().message;
      return done;
    }
    nics.push_back({tap_name(n.vm, n.nic), n.mac, *ip, n.rules});
  }
  if (Status applied = net::apply_firewall(ns, nics); !applied) {
    done.error = applied.error().message;
  } else {
    applied_[job.host] = job;
  }
  return done;
}

driver::NetworkDone LocalFabric::run(const driver::NetworkJob& job) {
  driver::NetworkDone done{job.network, job.generation, std::nullopt};
  Result<Cidr> cidr = Cidr::parse(job.cidr);
  if (!cidr) {
    done.error = cidr.error().message;
    return done;
  }
  Status result;
  if (job.remove) {
    result = node_.remove_network(job.network, *cidr);
  } else {
    std::vector<DhcpHost> hosts;
    hosts.reserve(job.leases.size());
    for (const driver::Lease& l : job.leases) hosts.push_back({l.mac, l.ip, l.hostname});
    result = node_.ensure_network(job.network, *cidr, hosts);
  }
  if (!result) done.error = result.error().message;
  return done;
}

}  // namespace corral::net
