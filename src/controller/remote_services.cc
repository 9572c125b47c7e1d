#include "controller/remote_services.h"

#include "controller/agent_service.h"

namespace corral::controller {
namespace {

Error not_ready(const std::string& host) {
  return Error{ErrorCode::kUnavailable,
               "host " + host + " is not connected (the controller's agent port is not open)",
               {},
               {}};
}

}  // namespace

std::string RemoteHostServices::driver_name() const {
  AgentService* agents = source_.agents();
  if (agents == nullptr) return "agent";
  const std::optional<driver::RemoteHostServicesSource::HostImages> known =
      agents->images_of(host_);
  return known ? known->driver : "agent";
}

std::vector<driver::ImageInfo> RemoteHostServices::images() const {
  AgentService* agents = source_.agents();
  if (agents == nullptr) return {};
  const std::optional<driver::RemoteHostServicesSource::HostImages> known =
      agents->images_of(host_);
  return known ? known->images : std::vector<driver::ImageInfo>{};
}

Result<std::string> RemoteHostServices::console_log(store::VmId vm, std::size_t max_bytes) const {
  AgentService* agents = source_.agents();
  if (agents == nullptr) return fail(not_ready(host_));
  return agents->consoles().console_log(host_, vm, max_bytes);
}

Result<int> RemoteHostServices::attach_console(store::VmId vm, driver::ConsoleOutput output) {
  AgentService* agents = source_.agents();
  if (agents == nullptr) return fail(not_ready(host_));
  return agents->consoles().attach(host_, vm, std::move(output));
}

void RemoteHostServices::detach_console(store::VmId vm, int handle) {
  if (AgentService* agents = source_.agents()) agents->consoles().detach(host_, vm, handle);
}

Status RemoteHostServices::write_console(store::VmId vm, std::string bytes) {
  AgentService* agents = source_.agents();
  if (agents == nullptr) return fail(not_ready(host_));
  return agents->consoles().write(host_, vm, std::move(bytes));
}

Status RemoteHostServices::agent_sim_event(store::VmId vm, std::string event) {
  AgentService* agents = source_.agents();
  if (agents == nullptr) return fail(not_ready(host_));
  return agents->consoles().sim_event(host_, vm, std::move(event));
}

driver::HostServices* AgentHostServices::services_of(std::string_view host) {
  if (host.empty() || is_local_(host)) return nullptr;
  std::lock_guard lock(mu_);
  auto it = hosts_.find(host);
  if (it == hosts_.end()) {
    it = hosts_
             .emplace(std::string(host),
                      std::make_unique<RemoteHostServices>(std::string(host), *this))
             .first;
  }
  return it->second.get();
}

std::vector<driver::RemoteHostServicesSource::HostImages> AgentHostServices::host_images() const {
  AgentService* agents = agents_.load();
  return agents == nullptr ? std::vector<HostImages>{} : agents->host_images();
}

}  // namespace corral::controller
