#include "agent/convert.h"

#include <optional>
#include <string>

#include "wire/enums.h"
#include "wire/migration_wire.h"

namespace corral::agent {
namespace {

namespace lc = corral::lifecycle;

template <typename T, typename W>
Result<T> known(W value, const char* field) {
  std::optional<T> v = wire::from_wire(value);
  if (!v) {
    return fail(Error::invalid_argument(std::string("unknown ") + field + " " +
                                        std::to_string(static_cast<int>(value)) +
                                        " (the controller is newer than this agent?)"));
  }
  return *v;
}

// The observation a driver event is, and back (kPowerChanged has none of its own: its power
// says what was seen).
v1::Observation observation_of(const driver::PowerEvent& e) {
  switch (e.kind) {
    case driver::PowerEventKind::kPowerChanged:
      switch (e.power) {
        case lc::Power::kRunning:
          return v1::OBSERVATION_RUNNING;
        case lc::Power::kPaused:
          return v1::OBSERVATION_PAUSED;
        case lc::Power::kNoState:
        case lc::Power::kShutdown:
        case lc::Power::kCrashed:
        case lc::Power::kSuspended:
          return v1::OBSERVATION_UNSPECIFIED;
      }
      return v1::OBSERVATION_UNSPECIFIED;
    case driver::PowerEventKind::kGuestPoweroff:
      return v1::OBSERVATION_GUEST_POWEROFF;
    case driver::PowerEventKind::kVanished:
      return v1::OBSERVATION_VANISHED;
    case driver::PowerEventKind::kUnresponsive:
      return v1::OBSERVATION_UNRESPONSIVE;
    case driver::PowerEventKind::kGuestReady:
      return v1::OBSERVATION_GUEST_READY;
  }
  return v1::OBSERVATION_UNSPECIFIED;
}

}  // namespace

Result<driver::PhaseRequest> to_driver(const v1::PhaseRequest& w) {
  driver::PhaseRequest r;
  r.vm = w.vm();
  r.op = w.op();
  if (w.step() > 255) return fail(Error::invalid_argument("step out of range"));
  r.step = static_cast<std::uint8_t>(w.step());
  r.attempt = w.attempt();
  Result<lc::Action> action = known<lc::Action>(w.action(), "action");
  if (!action) return fail(action.error());
  r.action = *action;
  Result<lc::Phase> phase = known<lc::Phase>(w.phase(), "phase");
  if (!phase) return fail(phase.error());
  r.phase = *phase;
  Result<lc::State> origin = known<lc::State>(w.origin(), "origin state");
  if (!origin) return fail(origin.error());
  r.origin = *origin;
  r.model.vcpus = w.model().vcpus();
  r.model.memory_mib = w.model().memory_mib();
  r.model.image = w.model().image();
  r.host = w.host();
  r.delete_files = w.delete_files();
  r.ends_vm = w.ends_vm();
  Result<lc::RunsOn> runs_on = known<lc::RunsOn>(w.runs_on(), "runs_on");
  if (!runs_on) return fail(runs_on.error());
  r.runs_on = *runs_on;
  r.peer_host = w.peer_host();
  if (Status devices = wire::devices_of(w, r); !devices) return fail(devices.error());
  // NO_STATE on the wire is "not named": the driver reports what it sees.
  if (w.power_after() != v1::POWER_NO_STATE) {
    Result<lc::Power> power = known<lc::Power>(w.power_after(), "power_after");
    if (!power) return fail(power.error());
    r.power_after = *power;
  }
  switch (w.params_case()) {
    case v1::PhaseRequest::kNamed:
      r.name = w.named().name();
      break;
    case v1::PhaseRequest::kBackup:
      r.name = w.backup().name();
      break;
    case v1::PhaseRequest::kDiskResize:
      r.size_mib = w.disk_resize().size_mib();
      break;
    case v1::PhaseRequest::kPlacement:
      wire::read_placement(w.placement(), r);
      break;
    case v1::PhaseRequest::kSetPassword:
    case v1::PhaseRequest::kRebuild:
    case v1::PhaseRequest::kResize:
    case v1::PhaseRequest::PARAMS_NOT_SET:
      break;
  }
  return r;
}

v1::PhaseRequest to_wire(const driver::PhaseRequest& r) {
  v1::PhaseRequest w;
  w.set_vm(r.vm);
  w.set_op(r.op);
  w.set_step(r.step);
  w.set_attempt(r.attempt);
  w.set_action(wire::to_wire(r.action));
  w.set_phase(wire::to_wire(r.phase));
  w.set_origin(wire::to_wire(r.origin));
  w.mutable_model()->set_vcpus(r.model.vcpus);
  w.mutable_model()->set_memory_mib(r.model.memory_mib);
  w.mutable_model()->set_image(r.model.image);
  w.set_host(r.host);
  w.set_delete_files(r.delete_files);
  w.set_ends_vm(r.ends_vm);
  w.set_runs_on(wire::to_wire(r.runs_on));
  w.set_peer_host(r.peer_host);
  wire::devices_to_wire(r, w);
  if (r.power_after) w.set_power_after(wire::to_wire(*r.power_after));
  if (r.size_mib != 0) {
    w.mutable_disk_resize()->set_size_mib(r.size_mib);
  } else if (r.name) {
    w.mutable_named()->set_name(*r.name);
  } else if (std::optional<v1::PlacementParams> placement = wire::placement_to_wire(r)) {
    *w.mutable_placement() = std::move(*placement);
  }
  return w;
}

v1::PhaseResult to_wire(const driver::PhaseResult& r) {
  v1::PhaseResult w;
  w.set_vm(r.vm);
  w.set_op(r.op);
  w.set_step(r.step);
  w.set_attempt(r.attempt);
  w.set_ok(r.ok);
  w.set_error(r.error);
  w.set_power(wire::to_wire(r.power));
  w.set_power_known(r.power_known);
  w.set_integrity(wire::to_wire(r.integrity));
  if (r.endpoint) *w.mutable_endpoint() = wire::to_wire(*r.endpoint);
  return w;
}

Result<driver::PhaseResult> to_driver(const v1::PhaseResult& w) {
  driver::PhaseResult r;
  r.vm = w.vm();
  r.op = w.op();
  if (w.step() > 255) return fail(Error::invalid_argument("step out of range"));
  r.step = static_cast<std::uint8_t>(w.step());
  r.attempt = w.attempt();
  r.ok = w.ok();
  r.error = w.error();
  Result<lc::Power> power = known<lc::Power>(w.power(), "power");
  if (!power) return fail(power.error());
  r.power = *power;
  r.power_known = w.power_known();
  Result<lc::Integrity> integrity = known<lc::Integrity>(w.integrity(), "integrity");
  if (!integrity) return fail(integrity.error());
  r.integrity = *integrity;
  if (w.has_endpoint()) r.endpoint = wire::endpoint_of(w.endpoint());
  return r;
}

v1::PhaseProgress to_wire(const driver::PhaseProgress& p) { return wire::progress_to_wire(p); }

Result<driver::PhaseProgress> to_driver(const v1::PhaseProgress& w) { return wire::progress_of(w); }

v1::PowerEvent to_wire(const driver::PowerEvent& e) {
  v1::PowerEvent w;
  w.set_vm(e.vm);
  w.set_power(wire::to_wire(e.power));
  w.set_observation(observation_of(e));
  w.set_cause(e.cause);
  return w;
}

Result<driver::PowerEvent> to_driver(const v1::PowerEvent& w) {
  driver::PowerEvent e;
  e.vm = w.vm();
  Result<lc::Power> power = known<lc::Power>(w.power(), "power");
  if (!power) return fail(power.error());
  e.power = *power;
  e.cause = w.cause();
  switch (w.observation()) {
    case v1::OBSERVATION_GUEST_POWEROFF:
      e.kind = driver::PowerEventKind::kGuestPoweroff;
      break;
    case v1::OBSERVATION_VANISHED:
      e.kind = driver::PowerEventKind::kVanished;
      break;
    case v1::OBSERVATION_UNRESPONSIVE:
      e.kind = driver::PowerEventKind::kUnresponsive;
      break;
    case v1::OBSERVATION_GUEST_READY:
      e.kind = driver::PowerEventKind::kGuestReady;
      break;
    case v1::OBSERVATION_UNSPECIFIED:
    case v1::OBSERVATION_RUNNING:
    case v1::OBSERVATION_PAUSED:
      e.kind = driver::PowerEventKind::kPowerChanged;
      break;
    default:
      return fail(Error::invalid_argument("unknown observation " +
                                          std::to_string(static_cast<int>(w.observation()))));
  }
  return e;
}

v1::RunningVm to_wire(const driver::FoundVm& vm) {
  v1::RunningVm w;
  w.set_vm(vm.vm);
  w.set_power(wire::to_wire(vm.power));
  w.set_pid(vm.pid);
  return w;
}

}  // namespace corral::agent
