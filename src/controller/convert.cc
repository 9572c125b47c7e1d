#include "controller/convert.h"

#include <string>

#include "wire/enums.h"
#include "wire/migration_wire.h"
#include "wire/protocol.h"

namespace corral::controller {
namespace {

namespace lc = ::corral::lifecycle;

lc::Power power_or_none(v1::Power power) {
  return wire::from_wire(power).value_or(lc::Power::kNoState);
}

v1::VmModel model_to_wire(const store::VmModel& model) {
  v1::VmModel out;
  out.set_vcpus(model.vcpus);
  out.set_memory_mib(model.memory_mib);
  out.set_image(model.image);
  return out;
}

store::VmModel model_from_wire(const v1::VmModel& model) {
  return store::VmModel{model.vcpus(), model.memory_mib(), model.image()};
}

Error unknown(const char* what, int number) {
  return Error::invalid_argument(std::string("unknown ") + what + " " + std::to_string(number) +
                                 " (a peer of a newer version?)");
}

}  // namespace

engine::AgentHello hello_from_wire(const v1::Hello& hello) {
  engine::AgentHello out;
  out.host = hello.host();
  out.agent_version = hello.agent_version();
  out.driver = hello.driver();
  out.capacity = store::HostResources{hello.capacity().vcpus(), hello.capacity().memory_mib()};
  out.labels = {hello.labels().begin(), hello.labels().end()};
  out.vms.reserve(hello.vms_size());
  for (const v1::RunningVm& vm : hello.vms()) {
    out.vms.push_back(engine::AgentVm{vm.vm(), power_or_none(vm.power())});
  }
  out.last_epoch = hello.last_epoch();
  return out;
}

v1::Hello hello_to_wire(const engine::AgentHello& hello) {
  v1::Hello out;
  out.set_protocol_version(wire::kProtocolVersion);
  out.set_agent_version(hello.agent_version);
  out.set_host(hello.host);
  out.set_driver(hello.driver);
  out.mutable_capacity()->set_vcpus(hello.capacity.vcpus);
  out.mutable_capacity()->set_memory_mib(hello.capacity.memory_mib);
  for (const auto& [key, value] : hello.labels) (*out.mutable_labels())[key] = value;
  for (const engine::AgentVm& vm : hello.vms) {
    v1::RunningVm* running = out.add_vms();
    running->set_vm(vm.vm);
    running->set_power(wire::to_wire(vm.power));
  }
  out.set_last_epoch(hello.last_epoch);
  return out;
}

v1::Welcome welcome_to_wire(const engine::AgentWelcome& welcome) {
  v1::Welcome out;
  out.set_epoch(welcome.epoch);
  for (const engine::PlacedVm& vm : welcome.vms) {
    v1::PlacedVm* placed = out.add_vms();
    placed->set_vm(vm.vm);
    placed->set_state(wire::to_wire(vm.state));
    placed->set_power(wire::to_wire(vm.power));
    *placed->mutable_model() = model_to_wire(vm.model);
    placed->set_may_fence(vm.may_fence);
  }
  out.set_heartbeat_interval_ms(static_cast<std::uint32_t>(welcome.heartbeat_interval_ms));
  out.set_lease_ms(static_cast<std::uint32_t>(welcome.lease_ms));
  out.set_protocol_version(wire::kProtocolVersion);
  out.set_controller_version(kControllerVersion);
  return out;
}

Result<engine::AgentWelcome> welcome_from_wire(const v1::Welcome& welcome) {
  engine::AgentWelcome out;
  out.epoch = welcome.epoch();
  out.heartbeat_interval_ms = welcome.heartbeat_interval_ms();
  out.lease_ms = welcome.lease_ms();
  out.vms.reserve(welcome.vms_size());
  for (const v1::PlacedVm& vm : welcome.vms()) {
    const std::optional<lc::State> state = wire::from_wire(vm.state());
    if (!state) return fail(unknown("state", vm.state()));
    out.vms.push_back(engine::PlacedVm{vm.vm(), *state, power_or_none(vm.power()),
                                       model_from_wire(vm.model()), vm.may_fence()});
  }
  return out;
}

v1::PhaseRequest phase_request_to_wire(const driver::PhaseRequest& request, std::uint64_t epoch) {
  v1::PhaseRequest out;
  out.set_vm(request.vm);
  out.set_op(request.op);
  out.set_step(request.step);
  out.set_attempt(request.attempt);
  out.set_action(wire::to_wire(request.action));
  out.set_phase(wire::to_wire(request.phase));
  out.set_origin(wire::to_wire(request.origin));
  *out.mutable_model() = model_to_wire(request.model);
  out.set_host(request.host);
  out.set_epoch(epoch);
  out.set_delete_files(request.delete_files);
  out.set_ends_vm(request.ends_vm);
  out.set_may_fence(request.may_fence);
  out.set_runs_on(wire::to_wire(request.runs_on));
  out.set_peer_host(request.peer_host);
  wire::devices_to_wire(request, out);
  // NO_STATE on the wire is "not named" (the driver reports what it sees).
  if (request.power_after) out.set_power_after(wire::to_wire(*request.power_after));
  if (request.action == lc::Action::kBackup) {
    if (request.name) out.mutable_backup()->set_name(*request.name);
  } else if (request.action == lc::Action::kDiskResize) {
    out.mutable_disk_resize()->set_size_mib(request.size_mib);
  } else if (request.name) {
    out.mutable_named()->set_name(*request.name);
  } else if (std::optional<v1::PlacementParams> placement = wire::placement_to_wire(request)) {
    *out.mutable_placement() = std::move(*placement);
  }
  return out;
}

Result<driver::PhaseRequest> phase_request_from_wire(const v1::PhaseRequest& request) {
  const std::optional<lc::Action> action = wire::from_wire(request.action());
  if (!action) return fail(unknown("action", request.action()));
  const std::optional<lc::Phase> phase = wire::from_wire(request.phase());
  if (!phase) return fail(unknown("phase", request.phase()));
  const std::optional<lc::State> origin = wire::from_wire(request.origin());
  if (!origin) return fail(unknown("state", request.origin()));
  if (request.step() > 255) return fail(Error::invalid_argument("phase step out of range"));
  driver::PhaseRequest out;
  out.vm = request.vm();
  out.op = request.op();
  out.step = static_cast<std::uint8_t>(request.step());
  out.attempt = request.attempt();
  out.action = *action;
  out.phase = *phase;
  out.origin = *origin;
  out.model = model_from_wire(request.model());
  out.host = request.host();
  out.delete_files = request.delete_files();
  out.ends_vm = request.ends_vm();
  out.may_fence = request.may_fence();
  const std::optional<lc::RunsOn> runs_on = wire::from_wire(request.runs_on());
  if (!runs_on) return fail(unknown("runs_on", request.runs_on()));
  out.runs_on = *runs_on;
  out.peer_host = request.peer_host();
  if (Status devices = wire::devices_of(request, out); !devices) return fail(devices.error());
  if (request.power_after() != v1::POWER_NO_STATE) {
    const std::optional<lc::Power> power = wire::from_wire(request.power_after());
    if (!power) return fail(unknown("power", request.power_after()));
    out.power_after = *power;
  }
  switch (request.params_case()) {
    case v1::PhaseRequest::kNamed:
      out.name = request.named().name();
      break;
    case v1::PhaseRequest::kBackup:
      out.name = request.backup().name();
      break;
    case v1::PhaseRequest::kDiskResize:
      out.size_mib = request.disk_resize().size_mib();
      break;
    case v1::PhaseRequest::kPlacement:
      wire::read_placement(request.placement(), out);
      break;  // the hosts: in host and peer_host
    case v1::PhaseRequest::kSetPassword:
    case v1::PhaseRequest::kRebuild:
    case v1::PhaseRequest::kResize:
    case v1::PhaseRequest::PARAMS_NOT_SET:
      break;  // driver::PhaseRequest carries these in model and host
  }
  return out;
}

v1::PhaseResult phase_result_to_wire(const driver::PhaseResult& result) {
  v1::PhaseResult out;
  out.set_vm(result.vm);
  out.set_op(result.op);
  out.set_step(result.step);
  out.set_attempt(result.attempt);
  out.set_ok(result.ok);
  out.set_error(result.error);
  out.set_power(wire::to_wire(result.power));
  out.set_power_known(result.power_known);
  out.set_integrity(wire::to_wire(result.integrity));
  if (result.endpoint) *out.mutable_endpoint() = wire::to_wire(*result.endpoint);
  return out;
}

Result<driver::PhaseResult> phase_result_from_wire(const v1::PhaseResult& result) {
  if (result.step() > 255) return fail(Error::invalid_argument("phase step out of range"));
  driver::PhaseResult out;
  out.vm = result.vm();
  out.op = result.op();
  out.step = static_cast<std::uint8_t>(result.step());
  out.attempt = result.attempt();
  out.ok = result.ok();
  out.error = result.error();
  const std::optional<lc::Power> power = wire::from_wire(result.power());
  out.power = power.value_or(lc::Power::kNoState);
  out.power_known = result.power_known() && power.has_value();
  out.integrity = wire::from_wire(result.integrity()).value_or(lc::Integrity::kUnknown);
  if (result.has_endpoint()) out.endpoint = wire::endpoint_of(result.endpoint());
  return out;
}

v1::PhaseProgress phase_progress_to_wire(const driver::PhaseProgress& progress) {
  return wire::progress_to_wire(progress);
}

Result<driver::PhaseProgress> phase_progress_from_wire(const v1::PhaseProgress& progress) {
  return wire::progress_of(progress);
}

v1::PowerEvent power_event_to_wire(const driver::PowerEvent& event) {
  v1::PowerEvent out;
  out.set_vm(event.vm);
  out.set_power(wire::to_wire(event.power));
  out.set_cause(event.cause);
  switch (event.kind) {
    case driver::PowerEventKind::kPowerChanged:
      out.set_observation(v1::OBSERVATION_UNSPECIFIED);
      break;
    case driver::PowerEventKind::kGuestPoweroff:
      out.set_observation(v1::OBSERVATION_GUEST_POWEROFF);
      break;
    case driver::PowerEventKind::kVanished:
      out.set_observation(v1::OBSERVATION_VANISHED);
      break;
    case driver::PowerEventKind::kUnresponsive:
      out.set_observation(v1::OBSERVATION_UNRESPONSIVE);
      break;
    case driver::PowerEventKind::kGuestReady:
      out.set_observation(v1::OBSERVATION_GUEST_READY);
      break;
  }
  return out;
}

driver::PowerEvent power_event_from_wire(const v1::PowerEvent& event) {
  driver::PowerEvent out;
  out.vm = event.vm();
  out.power = power_or_none(event.power());
  out.cause = event.cause();
  switch (event.observation()) {
    case v1::OBSERVATION_GUEST_POWEROFF:
      out.kind = driver::PowerEventKind::kGuestPoweroff;
      break;
    case v1::OBSERVATION_VANISHED:
      out.kind = driver::PowerEventKind::kVanished;
      break;
    case v1::OBSERVATION_UNRESPONSIVE:
      out.kind = driver::PowerEventKind::kUnresponsive;
      break;
    case v1::OBSERVATION_GUEST_READY:
      out.kind = driver::PowerEventKind::kGuestReady;
      break;
    case v1::OBSERVATION_UNSPECIFIED:
    case v1::OBSERVATION_RUNNING:
    case v1::OBSERVATION_PAUSED:
    default:  // a newer peer's observation: its power is still a fact
      out.kind = driver::PowerEventKind::kPowerChanged;
      break;
  }
  return out;
}

engine::HostMetrics metrics_from_wire(const v1::HostMetrics& metrics) {
  engine::HostMetrics out{metrics.used_vcpus(),
                          metrics.used_memory_mib(),
                          metrics.running_vms(),
                          metrics.free_cpu_percent(),
                          metrics.load1(),
                          {},
                          {}};
  out.guarded_vms.assign(metrics.guarded_vms().begin(), metrics.guarded_vms().end());
  for (const v1::VmUsage& u : metrics.vm_usage()) out.vm_usage.push_back({u.vm(), u.cpu_percent()});
  return out;
}

v1::HostMetrics metrics_to_wire(const engine::HostMetrics& metrics) {
  v1::HostMetrics out;
  out.set_used_vcpus(metrics.used_vcpus);
  out.set_used_memory_mib(metrics.used_memory_mib);
  out.set_running_vms(metrics.running_vms);
  out.set_free_cpu_percent(metrics.free_cpu_percent);
  out.set_load1(metrics.load1);
  for (const store::VmId vm : metrics.guarded_vms) out.add_guarded_vms(vm);
  for (const driver::VmUsage& u : metrics.vm_usage) {
    v1::VmUsage* w = out.add_vm_usage();
    w->set_vm(u.vm);
    w->set_cpu_percent(u.cpu_percent);
  }
  return out;
}

}  // namespace corral::controller
