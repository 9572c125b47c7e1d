// HostServices: what the API asks of the host a VM is on, synchronously, outside the engine's
// phases — the images it can boot, the VM's serial console, and (the sim only) fault
// injection. HostServicesRouter picks the services of a host by name (`vm.host`).
//
// Contract:
// - Every method may be called from any API thread at once; none waits on the engine.
// - Today one process runs every host: LocalHostServices serves them all from the Driver.
//   When agents come, a remote implementation (the agent's protocol) is added to the router
//   for the agent's hosts, and the API does not change.
// - services_for(host) never fails: a host without services of its own (or "", a VM not
//   placed) gets the local ones, which answer for it as they do today.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
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

// Host name -> its services. Built before use (add), then read-only: safe from any thread.
class HostServicesRouter {
 public:
  // `local` serves every host not added (must outlive the router).
  explicit HostServicesRouter(HostServices& local) : local_(local) {}

  // `services` serve `host` from now on (must outlive the router). Not thread-safe.
  void add(std::string host, HostServices& services) { hosts_[std::move(host)] = &services; }

  // The services of the host a VM is on (`vm.host`); "" (not placed) is the local host.
  HostServices& services_for(std::string_view host) const {
    const auto found = hosts_.find(host);
    return found == hosts_.end() ? local_ : *found->second;
  }
  // This process's own: what is not about one VM (images before placement, the sim's faults).
  HostServices& local() const { return local_; }

 private:
  HostServices& local_;
  std::map<std::string, HostServices*, std::less<>> hosts_;
};

}  // namespace corral::driver
