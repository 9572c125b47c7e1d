// HostServices: what the API asks of the host a VM is on, synchronously, outside the engine's
// phases — the images it can boot, the VM's serial console, and (the sim only) fault
// injection. HostServicesRouter picks the services of a host by name (`vm.host`).
//
// Contract:
// - Every method may be called from any API thread at once; none waits on the engine.
// - LocalHostServices serves the hosts of this process's Driver. Agent hosts are served by a
//   RemoteHostServicesSource (the controller's, controller/remote_services.h) set on the
//   router: it asks the host's agent over its stream, and answers a clear kUnavailable when
//   that agent is not connected.
// - services_for(host) never fails: a host that is neither added nor an agent host (or "", a
//   VM not placed) gets the local ones, which answer for it as they do today.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "driver/driver.h"
#include "store/types.h"

namespace corral::driver {

namespace sim {
class FaultInjector;
}

class HostServices {
 public:
  virtual ~HostServices() = default;
  // The driver serving the host ("qemu", "sim").
  virtual std::string driver_name() const = 0;
  // Images VMs can boot. Empty: any image name is accepted (the sim).
  virtual std::vector<ImageInfo> images() const = 0;
  // The serial console (as Driver's methods of the same names, driver/driver.h).
  [[nodiscard]] virtual Result<std::string> console_log(store::VmId vm,
                                                        std::size_t max_bytes) const = 0;
  [[nodiscard]] virtual Result<int> attach_console(store::VmId vm, ConsoleOutput output) = 0;
  virtual void detach_console(store::VmId vm, int handle) = 0;
  [[nodiscard]] virtual Status write_console(store::VmId vm, std::string bytes) = 0;
  // The sim's admin; nullptr when the host does not run the sim.
  virtual sim::FaultInjector* fault_injector() const = 0;
  // The agent host these services ask; nullopt: this process's own driver.
  virtual std::optional<std::string> agent_host() const { return std::nullopt; }
  // An agent host's sim does an external event (sim::parse_external_event's names) to a VM:
  // asked of the agent. This process's own hosts use fault_injector() instead.
  // By value: an override moves it on. NOLINTNEXTLINE(performance-unnecessary-value-param)
  [[nodiscard]] virtual Status agent_sim_event(store::VmId /*vm*/, std::string /*event*/) {
    return fail(Error{ErrorCode::kConflict, "not an agent host", {}, {}});
  }

 protected:
  HostServices() = default;
  HostServices(const HostServices&) = default;
  HostServices& operator=(const HostServices&) = default;
};

// The services of the hosts this process drives: the Driver's own methods, and the sim's
// fault injection when it runs the sim.
class LocalHostServices final : public HostServices {
 public:
  // `faults` may be nullptr. Both must outlive this.
  explicit LocalHostServices(Driver& driver, sim::FaultInjector* faults = nullptr)
      : driver_(driver), faults_(faults) {}

  std::string driver_name() const override { return driver_.name(); }
  std::vector<ImageInfo> images() const override { return driver_.images(); }
  [[nodiscard]] Result<std::string> console_log(store::VmId vm,
                                                std::size_t max_bytes) const override {
    return driver_.console_log(vm, max_bytes);
  }
  [[nodiscard]] Result<int> attach_console(store::VmId vm, ConsoleOutput output) override {
    return driver_.attach_console(vm, std::move(output));
  }
  void detach_console(store::VmId vm, int handle) override { driver_.detach_console(vm, handle); }
  [[nodiscard]] Status write_console(store::VmId vm, std::string bytes) override {
    return driver_.write_console(vm, std::move(bytes));
  }
  sim::FaultInjector* fault_injector() const override { return faults_; }

 private:
  Driver& driver_;
  sim::FaultInjector* faults_;
};

// The services of the hosts agents serve. Implemented by the controller; thread-safe.
class RemoteHostServicesSource {
 public:
  virtual ~RemoteHostServicesSource() = default;
  // `host`'s services when an agent serves it (connected now or not), valid as long as the
  // source; nullptr when `host` is not an agent host (this process's driver serves it).
  virtual HostServices* services_of(std::string_view host) = 0;
  // What an agent host last reported of its images, connected now or not.
  struct HostImages {
    std::string host;
    std::string driver;
    std::vector<ImageInfo> images;  // empty: any name is accepted (the sim)
    bool connected = false;
  };
  // Every agent host that reported its images since this process started, by name.
  virtual std::vector<HostImages> host_images() const = 0;
};

// Host name -> its services. Built before use (add), then read-only except set_remote():
// safe from any thread.
class HostServicesRouter {
 public:
  // `local` serves every host not added (must outlive the router).
  explicit HostServicesRouter(HostServices& local) : local_(local) {}

  // `services` serve `host` from now on (must outlive the router). Not thread-safe.
  void add(std::string host, HostServices& services) { hosts_[std::move(host)] = &services; }

  // The agent hosts' services from now on (nullptr: none). `remote` must outlive its use.
  void set_remote(RemoteHostServicesSource* remote) { remote_.store(remote); }
  RemoteHostServicesSource* remote() const { return remote_.load(); }

  // The services of the host a VM is on (`vm.host`); "" (not placed) is the local host.
  HostServices& services_for(std::string_view host) const {
    const auto found = hosts_.find(host);
    if (found != hosts_.end()) return *found->second;
    if (RemoteHostServicesSource* remote = remote_.load(); remote != nullptr && !host.empty()) {
      if (HostServices* services = remote->services_of(host)) return *services;
    }
    return local_;
  }
  // This process's own: what is not about one VM (images before placement, the sim's faults).
  HostServices& local() const { return local_; }

 private:
  HostServices& local_;
  std::map<std::string, HostServices*, std::less<>> hosts_;
  std::atomic<RemoteHostServicesSource*> remote_{nullptr};
};

}  // namespace corral::driver
