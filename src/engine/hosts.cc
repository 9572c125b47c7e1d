// Hosts: the engine's public host methods (hosts.h). Commands go through the engine's queue
// and are answered after their commit; reads use the published state; heartbeats touch only
// the host's HostLiveness (atomics), never the queue.
#include "engine/engine_impl.h"

namespace corral::engine {

Result<HostDetail> Engine::add_host(HostSpec spec) {
  return impl_->submit(internal::AddHostCommand{std::move(spec), {}});
}

Result<HostDetail> Engine::host_action(HostActionRequest request) {
  return impl_->submit(internal::HostActionCommand{std::move(request), {}});
}

Result<AgentWelcome> Engine::agent_connected(AgentHello hello) {
  return impl_->submit(internal::AgentConnectedCommand{std::move(hello), {}});
}

std::vector<HostDetail> Engine::host_details() const {
  const Impl& e = *impl_;
  std::shared_lock lock(e.published_mu);
  std::map<std::string, std::vector<VmId>, std::less<>> on_host;
  for (const store::Vm& vm : e.vms) {
    if (!vm.host.empty()) on_host[vm.host].push_back(vm.id);
  }
  std::vector<HostDetail> out;
  out.reserve(e.published_hosts.size());
  for (const internal::HostSlot& slot : e.published_hosts) {
    auto it = on_host.find(slot.row.name);
    out.push_back(
        e.detail_of(slot, it == on_host.end() ? std::vector<VmId>{} : std::move(it->second)));
  }
  return out;
}

std::optional<HostDetail> Engine::host(std::string_view name) const {
  const Impl& e = *impl_;
  std::shared_lock lock(e.published_mu);
  for (const internal::HostSlot& slot : e.published_hosts) {
    if (slot.row.name != name) continue;
    std::vector<VmId> ids;
    for (const store::Vm& vm : e.vms) {
      if (vm.host == name) ids.push_back(vm.id);
    }
    return e.detail_of(slot, std::move(ids));
  }
  return std::nullopt;
}

void Engine::agent_heartbeat(std::string_view host, std::uint64_t epoch,
                             const HostMetrics& metrics) {
  Impl& e = *impl_;
  std::shared_lock lock(e.live_mu);
  const auto it = e.live.find(host);
  if (it == e.live.end()) return;
  internal::HostLiveness& live = *it->second;
  if (epoch != live.epoch.load()) return;  // an older stream's: ignored
  {
    std::lock_guard metrics_lock(live.metrics_mu);
    live.metrics = metrics;
  }
  live.last_heard = e.clock.now_ms();
}

std::vector<driver::VmUsage> Engine::vm_usage() const {
  Impl& e = *impl_;
  std::vector<driver::VmUsage> out = e.driver.usage();
  std::shared_lock lock(e.live_mu);
  for (const auto& [host, live] : e.live) {
    if (!live->connected) continue;
    const HostMetrics metrics = live->read_metrics();
    out.insert(out.end(), metrics.vm_usage.begin(), metrics.vm_usage.end());
  }
  return out;
}

void Engine::agent_disconnected(std::string_view host, std::uint64_t epoch) {
  Impl& e = *impl_;
  std::shared_lock lock(e.live_mu);
  const auto it = e.live.find(host);
  if (it == e.live.end()) return;
  if (epoch == it->second->epoch.load()) it->second->connected = false;
}

}  // namespace corral::engine
