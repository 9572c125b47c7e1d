#include "net/local_fabric.h"

namespace corral::net {

LocalFabric::LocalFabric(FabricNames names, std::string state_dir)
    : node_(std::move(names), std::move(state_dir)) {}

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

void LocalFabric::loop() {
  for (;;) {
    driver::NetworkJob job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      job = std::move(waiting_.begin()->second);
      waiting_.erase(waiting_.begin());
    }
    driver::NetworkDone done = run(job);
    sink_->network_done(std::move(done));
  }
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
