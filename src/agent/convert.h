// Wire (agent.proto) <-> driver types, on the agent's side of the stream.
//
// Contract: to_driver() refuses (kInvalidArgument, naming the field) a request whose enums
// this build does not know, so an agent never runs a phase it would misread; the typed params
// the driver has (name for named/backup, size_mib for disk_resize, live_migrate's options and
// endpoint) are carried over, the others
// are not the driver's business. The to_wire() functions never fail. A driver PowerEvent
// becomes a wire PowerEvent with the matching Observation (kPowerChanged: by its power).
#pragma once

#include "common/result.h"
#include "driver/driver.h"
#include "wire/agent.pb.h"

namespace corral::agent {

namespace v1 = ::corral::agent::v1;

[[nodiscard]] Result<driver::PhaseRequest> to_driver(const v1::PhaseRequest& request);
v1::PhaseRequest to_wire(const driver::PhaseRequest& request);  // tests, the controller's mirror

v1::PhaseResult to_wire(const driver::PhaseResult& result);
[[nodiscard]] Result<driver::PhaseResult> to_driver(const v1::PhaseResult& result);

v1::PowerEvent to_wire(const driver::PowerEvent& event);
[[nodiscard]] Result<driver::PowerEvent> to_driver(const v1::PowerEvent& event);

v1::PhaseProgress to_wire(const driver::PhaseProgress& progress);
[[nodiscard]] Result<driver::PhaseProgress> to_driver(const v1::PhaseProgress& progress);

v1::RunningVm to_wire(const driver::FoundVm& vm);

}  // namespace corral::agent
