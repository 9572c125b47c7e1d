// What a driver's answers (phase results) and a hypervisor's events (power events) do to a
// VM. Engine thread only.
#include "engine/engine_impl.h"
#include "lifecycle/table.h"

namespace corral::engine {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::Phase;
using lc::State;

namespace {

// The states that say the VM's process runs on its host. Not RESIZED: a resize from
// POWEROFF waits for its confirm with the VM off.
constexpr lc::StateSet kProcessRuns = {State::kRunning, State::kPaused, State::kRescued};

// What the drift policy is told a hypervisor's event means; nullopt: nothing it acts on
// (a guest's readiness completes a phase instead; an unusual power is only noted).
std::optional<lc::Observation> observation_of(const driver::PowerEvent& event) {
  switch (event.kind) {
    case driver::PowerEventKind::kGuestReady:
      return std::nullopt;
    case driver::PowerEventKind::kGuestPoweroff:
      return lc::Observation::kGuestPoweroff;
    case driver::PowerEventKind::kVanished:
      return lc::Observation::kVanished;
    case driver::PowerEventKind::kUnresponsive:
      return lc::Observation::kUnresponsive;
    case driver::PowerEventKind::kPowerChanged:
      break;
  }
  if (event.power == lc::Power::kShutdown || event.power == lc::Power::kCrashed) {
    return lc::Observation::kGuestPoweroff;
  }
  if (event.power == lc::Power::kPaused) return lc::Observation::kPaused;
  if (event.power == lc::Power::kRunning) return lc::Observation::kRunning;
  return std::nullopt;
}

}  // namespace

void Engine::Impl::handle_result(const driver::PhaseResult& result) {
  if (!exists(result.vm)) return;
  const store::Vm& vm = current(result.vm);
  if (!vm.record.busy() || vm.op.id != result.op || vm.record.op->step != result.step ||
      vm.op.attempt != result.attempt) {
    return;  // an answer for a phase that already ended (deadline, pre-emption, retry)
  }
  const Action action = vm.record.op->action;
  // A phase that removes a copy on one side of a move, or any undo phase, reports the power
  // of a copy that is not (or no longer) the VM: the table names the VM's power then.
  const bool other_copy =
      vm.record.op->undoing.has_value() || lc::current_removes_copy(*vm.record.op);
  const bool power_known = result.power_known && !other_copy;
  if (result.ok) {
    // The host that lacked the VM at its agent's reconnect has worked on it again since —
    // unless the phase, meant to leave it running, found nothing running there (a hotplug into
    // a process that is gone succeeds with power shutdown): the VM is still missing, and the
    // drift policy must settle it once the operation ends, not leave it RUNNING and off.
    auto powered = [](lc::Power p) { return p == lc::Power::kRunning || p == lc::Power::kPaused; };
    const bool still_missing =
        power_known && powered(lc::power_after_phase(vm.record)) && !powered(result.power);
    if (auto note = vanished_during_op.find(result.vm);
        note != vanished_during_op.end() && note->second == internal::phase_hosts(vm).host &&
        !still_missing) {
      vanished_during_op.erase(note);
    }
    // The power this phase left is recorded first: the next phase's power_after is named
    // from it (lifecycle::power_after_phase), e.g. a migration's prolog after its save.
    if (power_known && vm.record.power != result.power) {
      mutate(result.vm).record.power = result.power;
    }
    // A live migration's target answered where to send: kept with the operation (persisted
    // with this step), so the source's phase gets it even after a restart.
    if (result.endpoint) mutate(result.vm).op.params.endpoint = result.endpoint;
    const lc::Step step = lc::phase_succeeded(current(result.vm).record);
    apply(result.vm, step, false, {}, {action, "driver", {}, {}});
  } else {
    // The driver says whether the origin is intact: a kRollbackIfIntact phase reads it.
    const lc::Step step = lc::phase_failed(vm.record, lc::OpStatus::kFailed, result.integrity);
    apply(result.vm, step, false, {}, {action, "driver", {}, result.error});
  }
  if (power_known) {
    store::Vm& changed = mutate(result.vm);
    // A terminated VM has no power state, whatever the driver last saw.
    if (changed.record.state != State::kDone) changed.record.power = result.power;
  }
  // An operation that ended with the VM in a state that says its process runs, and the
  // driver saying it is off: its QEMU ended during the operation (a hotplug, a pause), whose
  // power events were not acted on while it ran (handle_power). The drift policy settles it
  // now, as the monitor would have, so it never stays RUNNING and off. A VM its host's agent
  // came back without is settled as vanished instead (settle_vanished), the truer word.
  if (!exists(result.vm)) return;
  const store::Vm& after = current(result.vm);
  if (power_known && !after.record.busy() && kProcessRuns.contains(after.record.state) &&
      !vanished_during_op.contains(result.vm) &&
      (after.record.power == lc::Power::kShutdown || after.record.power == lc::Power::kCrashed)) {
    handle_power({result.vm, driver::PowerEventKind::kPowerChanged, after.record.power,
                  "found off when its operation ended"});
  }
}

void Engine::Impl::handle_power(const driver::PowerEvent& event) {
  if (!exists(event.vm)) return;
  const store::Vm& vm = current(event.vm);
  if (event.kind == driver::PowerEventKind::kGuestReady) {
    // Azure: OS provisioning completes when the guest says it is ready — even after the
    // deadline turned the operation to failed.
    if (vm.record.busy() && lc::current_phase(*vm.record.op) == Phase::kOsProvisioning) {
      apply(event.vm, lc::phase_succeeded(vm.record), false, {},
            {vm.record.op->action, "monitor", {}, "guest ready"});
    } else if (std::optional<lc::Step> late = lc::late_success(vm.record)) {
      apply(event.vm, *late, false, {}, {vm.record.op->action, "monitor", {}, "guest ready late"});
    }
    return;
  }
  // Never reconcile a VM while its own operation runs: that operation decides.
  if (vm.record.busy()) return;
  const std::optional<lc::Observation> observed = observation_of(event);
  if (!observed) {
    // Nothing a policy acts on (e.g. a guest's own S3 suspend): its power is noted.
    if (vm.record.power != event.power) mutate(event.vm).record.power = event.power;
    return;
  }
  const lc::Observation seen = *observed;
  const std::optional<lc::DriftStep> drift = lc::react(options.drift, vm.record, seen, event.power);
  if (!drift) {
    // No rule of the policy moves the VM (OpenNebula keeps a PAUSED VM missing from its host
    // PAUSED): the power it was seen in is noted all the same, so it never shows one it lost.
    if (vm.record.state != State::kDone && vm.record.power != event.power) {
      mutate(event.vm).record.power = event.power;
    }
    return;
  }
  // A FAILED VM keeps the failed operation its recover options act on (seed 001: a *_FAILURE
  // state is left by recover; retry runs the failed phase again). A power the policy only
  // records is noted without an operation that would replace it.
  if (vm.record.state == State::kFailed && drift->observed == Action::kObservedPower) {
    if (vm.record.power != drift->power) mutate(event.vm).record.power = drift->power;
    return;
  }
  Result<lc::Step> step = lc::begin(vm.record, {drift->observed, State::kRunning});
  if (!step) {  // the table refuses what the policy asked: keep the state, note the power
    if (vm.record.power != drift->power) mutate(event.vm).record.power = drift->power;
    return;
  }
  std::string cause = event.cause.empty() ? std::string(lc::observation_name(seen)) : event.cause;
  cause += " (" + std::string(drift->why) + ")";
  apply(event.vm, *step, true, {}, {drift->observed, "monitor", {}, cause});
  mutate(event.vm).record.power = drift->power;
  if (!drift->then) return;
  // The policy starts an operation of its own (Nova's force_stop), as a request would.
  const store::Vm& now = current(event.vm);
  Result<lc::Step> then = lc::begin(now.record, {*drift->then, State::kRunning});
  if (!then) return;
  apply(event.vm, *then, true, {}, {*drift->then, "monitor", {}, std::string(drift->why)});
}

}  // namespace corral::engine
