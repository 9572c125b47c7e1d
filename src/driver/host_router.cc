#include "driver/host_router.h"

#include "common/log.h"

namespace corral::driver {

HostRouter::HostRouter(Driver& local) : local_(local) {
  for (const HostInfo& host : local_.hosts()) local_hosts_.insert(host.name);
}

bool HostRouter::is_local(const std::string& host) const {
  return host.empty() || local_hosts_.contains(host);
}

void HostRouter::start(DriverSink* sink) {
  forward_.set(sink);
  local_.start(sink);
}

void HostRouter::stop() {
  local_.stop();
  forward_.set(nullptr);  // waits for a forward in flight: no callbacks after stop() returns
}

void HostRouter::run_phase(const PhaseRequest& request) {
  if (is_local(request.host)) {
    local_.run_phase(request);
    return;
  }
  RemoteHosts* remote = remote_.load();
  if (remote != nullptr && remote->run_remote(request)) return;
  dropped_.fetch_add(1);
  // Not an error of the request: the host's agent is away; the phase deadline (or the
  // re-dispatch when the agent reconnects) decides what happens to the operation.
  log(LogLevel::kWarn, "phase_not_sent",
      {{"host", request.host},
       {"vm", std::to_string(request.vm)},
       {"op", std::to_string(request.op)},
       {"phase", std::string(lifecycle::phase_name(request.phase))},
       {"reason", "no agent of the host is connected"}});
}

void HostRouter::adopt(store::VmId vm, const std::string& host, lifecycle::Power power) {
  // An agent's VMs are in its Hello; only the local driver adopts.
  if (is_local(host)) local_.adopt(vm, host, power);
}

void HostRouter::Forward::set(DriverSink* sink) {
  std::lock_guard lock(mu_);
  sink_ = sink;
}

void HostRouter::Forward::phase_done(PhaseResult result) {
  std::lock_guard lock(mu_);
  if (sink_ == nullptr) {
    log(LogLevel::kWarn, "agent_result_dropped",
        {{"vm", std::to_string(result.vm)}, {"reason", "the engine is not running"}});
    return;
  }
  sink_->phase_done(std::move(result));
}

void HostRouter::Forward::power_event(PowerEvent event) {
  std::lock_guard lock(mu_);
  if (sink_ == nullptr) {
    log(LogLevel::kWarn, "agent_event_dropped",
        {{"vm", std::to_string(event.vm)}, {"reason", "the engine is not running"}});
    return;
  }
  sink_->power_event(std::move(event));
}

void HostRouter::Forward::phase_progress(PhaseProgress progress) {
  std::lock_guard lock(mu_);
  if (sink_ != nullptr) sink_->phase_progress(progress);  // advisory: dropped quietly
}

}  // namespace corral::driver
