// Wire messages (src/wire/agent.proto) <-> the engine's and the driver's types, both ways (the
// controller uses one direction, the agent the other; the tests prove they round-trip).
//
// Contract:
// - Enums go through wire/enums.h. A number this build does not know (a newer peer) is an
//   error for the fields a phase cannot do without (action, phase, origin); a power this
//   build does not know reads as kNoState (the VM's power is then simply not known).
// - The Hello's host is not trusted here: the service checks it against the certificate
//   first (wire::check_hello) and passes it on.
// - A phase's parameters travel in the oneof of their family: backup -> BackupParams,
//   disk_resize -> DiskResizeParams, any other named operation -> NamedParams.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "driver/driver.h"
#include "engine/hosts.h"
#include "wire/agent.pb.h"

namespace corral::controller {

namespace v1 = ::corral::agent::v1;

engine::AgentHello hello_from_wire(const v1::Hello& hello);
v1::Hello hello_to_wire(const engine::AgentHello& hello);  // protocol_version set

// protocol_version and controller_version are filled in.
v1::Welcome welcome_to_wire(const engine::AgentWelcome& welcome);
[[nodiscard]] Result<engine::AgentWelcome> welcome_from_wire(const v1::Welcome& welcome);

v1::PhaseRequest phase_request_to_wire(const driver::PhaseRequest& request, std::uint64_t epoch);
[[nodiscard]] Result<driver::PhaseRequest> phase_request_from_wire(const v1::PhaseRequest& request);

v1::PhaseResult phase_result_to_wire(const driver::PhaseResult& result);
[[nodiscard]] Result<driver::PhaseResult> phase_result_from_wire(const v1::PhaseResult& result);

v1::PhaseProgress phase_progress_to_wire(const driver::PhaseProgress& progress);
[[nodiscard]] Result<driver::PhaseProgress> phase_progress_from_wire(
    const v1::PhaseProgress& progress);

v1::PowerEvent power_event_to_wire(const driver::PowerEvent& event);
driver::PowerEvent power_event_from_wire(const v1::PowerEvent& event);

engine::HostMetrics metrics_from_wire(const v1::HostMetrics& metrics);
v1::HostMetrics metrics_to_wire(const engine::HostMetrics& metrics);

// The controller's version string in Welcome (the build's project version).
inline constexpr const char* kControllerVersion = "0.1.0";

}  // namespace corral::controller
