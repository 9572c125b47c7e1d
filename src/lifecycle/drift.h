// Drift: what Corral does when the hypervisor changes a VM behind its back.
//
// A policy is data (kRules in drift.cc): for each policy, what the hypervisor was seen doing, and
// the VM's state, the reaction. Two policies, after the systems Corral replaces:
//   - opennebula: the monitor's view wins. A guest that powered itself off is POWEROFF; a VM
//     OpenNebula shows as RUNNING (RUNNING, RESCUED, a powered-on RESIZED) that the hypervisor
//     no longer has is UNKNOWN (or POWEROFF with missing_state = POWEROFF, OpenNebula's
//     shipped MISSING_STATE; its users report that as wrong, #3853 #5564), and so is one it
//     does not answer for; any other VM keeps its state, its power noted (a PAUSED VM is not
//     UNKNOWN); seen running again, UNKNOWN, POWEROFF, PAUSED and SUSPENDED are RUNNING.
//   - nova (_sync_instance_power_state): the database's vm_state wins. A guest that shut itself
//     down is stopped; a VM not found or not answering keeps its state, only its power becomes
//     NOSTATE; a paused one is ignored (bug 1097806); a stopped VM seen running is powered off
//     again (force_stop).
// Whatever no rule covers is recorded as a power change (kNotePower).
//
// Contract: pure (no I/O, no clock). The engine asks react() only for a VM with no operation
// running: an operation in flight decides its VM's state, never the monitor.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/result.h"
#include "lifecycle/model.h"

namespace corral::lifecycle {

// Persisted in no store; numbered for the options and logs only.
enum class DriftPolicy : std::uint8_t { kOpenNebula = 1, kNova = 2 };

std::string_view drift_policy_name(DriftPolicy policy);  // "opennebula", "nova"
[[nodiscard]] Result<DriftPolicy> parse_drift_policy(std::string_view name);

struct DriftOptions {
  DriftPolicy policy = DriftPolicy::kOpenNebula;
  State missing_state = State::kUnknown;  // opennebula: UNKNOWN or POWEROFF
};

// What the hypervisor was seen doing to a VM.
enum class Observation : std::uint8_t {
  kGuestPoweroff = 1,  // the guest shut itself down or crashed (power SHUTDOWN/CRASHED)
  kVanished = 2,       // the hypervisor no longer has the VM (process gone)
  kUnresponsive = 3,   // the hypervisor does not answer for the VM (it may still run)
  kRunning = 4,        // seen running
  kPaused = 5,         // seen paused (stopped outside Corral)
};

std::string_view observation_name(Observation seen);

enum class Reaction : std::uint8_t {
  kNotePower = 1,     // keep the state; record the new power (observed_power)
  kPoweroff = 2,      // observed_poweroff -> POWEROFF
  kLost = 3,          // observed_lost -> UNKNOWN
  kMissingState = 4,  // kLost or kPoweroff, by DriftOptions::missing_state
  kRunning = 5,       // observed_running -> RUNNING
  kForceStop = 6,     // observed_running, then a hard power-off started by the monitor
};

struct DriftRule {
  DriftPolicy policy;
  Observation seen;
  StateSet from;
  Reaction reaction;
  std::string_view why;  // recorded in the VM's history beside the driver's cause
};

std::span<const DriftRule> drift_rules();

struct DriftStep {
  Action observed = Action::kObservedPower;  // the system action to record
  std::optional<Action> then;                // an operation the monitor starts next
  Power power = Power::kNoState;             // the VM's power afterwards
  std::string_view why;
};

// The reaction to `seen` on an idle VM in `record`. nullopt when there is nothing to record:
// the VM is busy, or its state and power already say what was seen. `off_power` is the power
// a kGuestPoweroff came with (kShutdown, or kCrashed for a guest that crashed).
std::optional<DriftStep> react(const DriftOptions& options, const VmRecord& record,
                               Observation seen, Power off_power = Power::kShutdown);

namespace testing {

// The mutation tool's hook: until destroyed, drift_rules() and react() read `rules` instead
// of the built-in ones. Not thread-safe; `rules` must outlive it.
class ScopedDriftRules {
 public:
  explicit ScopedDriftRules(std::span<const DriftRule> rules);
  ~ScopedDriftRules();
  ScopedDriftRules(const ScopedDriftRules&) = delete;
  ScopedDriftRules& operator=(const ScopedDriftRules&) = delete;

 private:
  std::span<const DriftRule> previous_;
};

}  // namespace testing
}  // namespace corral::lifecycle
