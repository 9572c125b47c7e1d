// FaultInjector: the simulated hypervisor's admin — faults injected into phases, and things the
// hypervisor does by itself (drift). An optional interface: a host's services offer it only
// when the host runs the sim (driver::HostServices::fault_injector()), so that the API reaches
// it through the host a VM is on, as it will reach a remote agent's sim.
//
// Contract: as SimDriver's methods of the same names (driver/sim/sim_driver.h); every method
// is safe from any thread.
#pragma once

#include <cstdint>
#include <vector>

#include "store/types.h"

namespace corral::driver::sim {

struct Fault;                             // driver/sim/sim_driver.h
enum class ExternalEvent : std::uint8_t;  // driver/sim/sim_driver.h

class FaultInjector {
 public:
  virtual ~FaultInjector() = default;
  // Returns the fault's id. A fault with times == 0 is spent: not kept.
  virtual std::uint64_t add_fault(Fault fault) = 0;
  virtual std::vector<Fault> faults() const = 0;
  // False when there is no fault with this id.
  virtual bool remove_fault(std::uint64_t id) = 0;
  virtual void clear_faults() = 0;
  // Delivered as a PowerEvent, after what the host already has due.
  virtual void external_event(store::VmId vm, ExternalEvent kind) = 0;

 protected:
  FaultInjector() = default;
  FaultInjector(const FaultInjector&) = default;
  FaultInjector& operator=(const FaultInjector&) = default;
};

}  // namespace corral::driver::sim
