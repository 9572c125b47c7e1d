#include "lifecycle/drift.h"

#include <array>

namespace corral::lifecycle {
namespace {

using S = State;
using O = Observation;
using R = Reaction;
constexpr DriftPolicy kOne = DriftPolicy::kOpenNebula;
constexpr DriftPolicy kNova = DriftPolicy::kNova;

// Where a VM's process is expected to run.
constexpr StateSet kOnHost = {S::kRunning, S::kPaused, S::kRescued, S::kResized};
// The states OpenNebula shows as ACTIVE/RUNNING (the view).
constexpr StateSet kOneRunning = {S::kRunning, S::kRescued, S::kResized};

// clang-format off
constexpr DriftRule kRules[] = {
  // OpenNebula: the monitor's report becomes the state (src/im/InformationManager.cc).
  {kOne, O::kGuestPoweroff, kOnHost.with(S::kUnknown), R::kPoweroff,
   "opennebula: a VM the host reports off is POWEROFF"},
  // MISSING_STATE and host ERROR move only VMs OpenNebula shows as RUNNING (RESCUED and a
  // powered RESIZED show so) or UNKNOWN: opennebula.md:54, :56. A PAUSED VM (shown SUSPENDED)
  // keeps its state: only RUNNING VMs become UNKNOWN.
  {kOne, O::kVanished, kOneRunning.with(S::kUnknown), R::kMissingState,
   "opennebula: a VM missing from its host takes the missing state"},
  {kOne, O::kUnresponsive, kOneRunning, R::kLost,
   "opennebula: a VM its host cannot report on is UNKNOWN"},
  // opennebula.md:57: POWEROFF/SUSPENDED/UNKNOWN seen running are RUNNING (PAUSED shows as
  // SUSPENDED).
  {kOne, O::kRunning, {S::kUnknown, S::kPoweroff, S::kPaused, S::kSuspended}, R::kRunning,
   "opennebula: a VM the host reports running is RUNNING"},

  // Nova: _sync_instance_power_state (the database's vm_state wins; power is copied).
  {kNova, O::kGuestPoweroff, {S::kRunning, S::kUnknown}, R::kPoweroff,
   "nova: instance shutdown by itself, calling the stop API"},
  {kNova, O::kGuestPoweroff, {S::kPaused}, R::kPoweroff,
   "nova: paused instance shut down, calling force_stop"},
  {kNova, O::kVanished, kOnHost, R::kNotePower,
   "nova: instance is unexpectedly not found, ignored (power NOSTATE)"},
  {kNova, O::kUnresponsive, kOnHost, R::kNotePower,
   "nova: the driver cannot report on the instance, ignored (power NOSTATE)"},
  {kNova, O::kRunning, {S::kUnknown}, R::kRunning,
   "nova: the instance runs again"},
  {kNova, O::kRunning, {S::kPoweroff}, R::kForceStop,
   "nova: instance is not stopped, calling force_stop"},
  {kNova, O::kPaused, {S::kPoweroff}, R::kForceStop,
   "nova: stopped instance is paused, calling force_stop"},
  {kNova, O::kPaused, {S::kRunning}, R::kNotePower,
   "nova: instance is paused unexpectedly, ignored (bug 1097806)"},
};
// clang-format on

Power seen_power(Observation seen, Power off_power) {
  switch (seen) {
    case O::kGuestPoweroff:
      return off_power == Power::kCrashed ? Power::kCrashed : Power::kShutdown;
    case O::kVanished:
    case O::kUnresponsive:
      return Power::kNoState;
    case O::kRunning:
      return Power::kRunning;
    case O::kPaused:
      return Power::kPaused;
  }
  return Power::kNoState;
}

// The rules react() reads: the built-in ones, or a mutant (testing::ScopedDriftRules).
std::span<const DriftRule> g_rules = kRules;

}  // namespace

std::string_view drift_policy_name(DriftPolicy policy) {
  switch (policy) {
    case DriftPolicy::kOpenNebula:
      return "opennebula";
    case DriftPolicy::kNova:
      return "nova";
  }
  return "?";
}

Result<DriftPolicy> parse_drift_policy(std::string_view name) {
  for (DriftPolicy p : {DriftPolicy::kOpenNebula, DriftPolicy::kNova}) {
    if (name == drift_policy_name(p)) return p;
  }
  return fail(Error::invalid_argument("unknown drift policy \"" + std::string(name) +
                                      "\" (expected opennebula or nova)"));
}

std::string_view observation_name(Observation seen) {
  switch (seen) {
    case O::kGuestPoweroff:
      return "guest_poweroff";
    case O::kVanished:
      return "vanished";
    case O::kUnresponsive:
      return "unresponsive";
    case O::kRunning:
      return "running";
    case O::kPaused:
      return "paused";
  }
  return "?";
}

std::span<const DriftRule> drift_rules() { return g_rules; }

namespace testing {

ScopedDriftRules::ScopedDriftRules(std::span<const DriftRule> rules) : previous_(g_rules) {
  g_rules = rules;
}

ScopedDriftRules::~ScopedDriftRules() { g_rules = previous_; }

}  // namespace testing

std::optional<DriftStep> react(const DriftOptions& options, const VmRecord& record,
                               Observation seen, Power off_power) {
  // A terminated VM has nothing left to reconcile (the table records nothing on DONE).
  if (record.busy() || record.state == S::kDone) return std::nullopt;
  const Power power = seen_power(seen, off_power);
  for (const DriftRule& rule : drift_rules()) {
    if (rule.policy != options.policy || rule.seen != seen || !rule.from.contains(record.state)) {
      continue;
    }
    DriftStep step;
    step.power = power;
    step.why = rule.why;
    switch (rule.reaction) {
      case R::kNotePower:
        if (record.power == power) return std::nullopt;
        step.observed = Action::kObservedPower;
        break;
      case R::kPoweroff:
        step.observed = Action::kObservedPoweroff;
        break;
      case R::kLost:
        step.observed = Action::kObservedLost;
        break;
      case R::kMissingState:
        step.observed = options.missing_state == S::kPoweroff ? Action::kObservedPoweroff
                                                              : Action::kObservedLost;
        if (record.state == S::kUnknown && step.observed == Action::kObservedLost) {
          return std::nullopt;  // UNKNOWN already says it
        }
        break;
      case R::kRunning:
        step.observed = Action::kObservedRunning;
        break;
      case R::kForceStop:
        step.observed = Action::kObservedRunning;
        step.then = Action::kShutdownHard;
        break;
    }
    return step;
  }
  // No rule: the state stays, and a changed power is recorded.
  if (record.power == power) return std::nullopt;
  DriftStep step;
  step.power = power;
  step.why = options.policy == kNova ? "nova: power state copied from the hypervisor"
                                     : "opennebula: power state as the host reports it";
  return step;
}

}  // namespace corral::lifecycle
