// RemoteHostServices: driver::HostServices of one agent host — its images as its agent last
// reported them, its serial consoles asked over its stream (controller/agent_consoles.h).
// AgentHostServices is the router's source of them (driver/host_services.h).
//
// Contract:
// - AgentHostServices exists before the cluster server (the API server is built first):
//   until attach(service), and after attach(nullptr), every console call of an agent host
//   answers kUnavailable. attach() is safe while API threads call in.
// - services_of(host) is nullptr for the hosts `is_local` claims (this process's driver and
//   ""); any other host is an agent host, connected or not. Its RemoteHostServices lives as
//   long as the AgentHostServices (the API may hold a reference during a console stream).
// - fault_injector() is nullptr: the sim of an agent host runs inside that agent; external
//   events go to it through agent_sim_event(), faults are not forwarded (the API answers 409).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "driver/host_services.h"

namespace corral::controller {

class AgentService;
class AgentHostServices;

class RemoteHostServices final : public driver::HostServices {
 public:
  RemoteHostServices(std::string host, const AgentHostServices& source)
      : host_(std::move(host)), source_(source) {}

  std::string driver_name() const override;
  std::vector<driver::ImageInfo> images() const override;
  [[nodiscard]] Result<std::string> console_log(store::VmId vm,
                                                std::size_t max_bytes) const override;
  [[nodiscard]] Result<int> attach_console(store::VmId vm, driver::ConsoleOutput output) override;
  void detach_console(store::VmId vm, int handle) override;
  [[nodiscard]] Status write_console(store::VmId vm, std::string bytes) override;
  driver::sim::FaultInjector* fault_injector() const override { return nullptr; }
  std::optional<std::string> agent_host() const override { return host_; }
  [[nodiscard]] Status agent_sim_event(store::VmId vm, std::string event) override;

 private:
  const std::string host_;
  const AgentHostServices& source_;
};

class AgentHostServices final : public driver::RemoteHostServicesSource {
 public:
  explicit AgentHostServices(std::function<bool(std::string_view)> is_local)
      : is_local_(std::move(is_local)) {}

  void attach(AgentService* agents) { agents_.store(agents); }
  AgentService* agents() const { return agents_.load(); }

  driver::HostServices* services_of(std::string_view host) override;
  std::vector<HostImages> host_images() const override;

 private:
  const std::function<bool(std::string_view)> is_local_;
  std::atomic<AgentService*> agents_{nullptr};
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<RemoteHostServices>, std::less<>> hosts_;
};

}  // namespace corral::controller
