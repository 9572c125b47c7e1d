// A phase request's parameters beyond its plain fields (store/op_params.h, driver.h) <-> their
// wire messages (agent.proto), for both ends of the stream: live_migrate's options, the
// target's endpoint, the migrate phase's progress, and the VM's devices and guest keys.
//
// Contract: field for field, never failing; values are checked where they are used (the
// API validates the options, a driver reads the endpoint it made itself).
#pragma once

#include <optional>

#include "common/result.h"
#include "driver/driver.h"
#include "store/op_params.h"
#include "wire/agent.pb.h"

namespace corral::wire {

store::MigrationParams migration_of(const agent::v1::MigrationParams& migration);
agent::v1::MigrationParams to_wire(const store::MigrationParams& migration);
store::MigrationEndpoint endpoint_of(const agent::v1::MigrationEndpoint& endpoint);
agent::v1::MigrationEndpoint to_wire(const store::MigrationEndpoint& endpoint);

// A phase request's placement parameters (PlacementParams): the hosts of a move, live_migrate's
// options and endpoint, a cold migration's file source. nullopt when the request has none to
// send (the hosts alone travel in host and peer_host). read_placement() fills them back in.
std::optional<agent::v1::PlacementParams> placement_to_wire(const driver::PhaseRequest& request);
void read_placement(const agent::v1::PlacementParams& placement, driver::PhaseRequest& request);

// A phase request's devices and guest keys (fields nics, volumes, ssh_keys), both ways.
// devices_of refuses (kInvalidArgument) a NIC index above 7, a volume slot above 15 or a format
// other than raw and qcow2: a driver never gets a device it cannot place.
void devices_to_wire(const driver::PhaseRequest& request, agent::v1::PhaseRequest& out);
[[nodiscard]] Status devices_of(const agent::v1::PhaseRequest& request, driver::PhaseRequest& out);

// A migrate phase's progress (driver.h PhaseProgress), for both ends of the stream; a step
// above 255 is refused (kInvalidArgument).
agent::v1::PhaseProgress progress_to_wire(const driver::PhaseProgress& progress);
[[nodiscard]] Result<driver::PhaseProgress> progress_of(const agent::v1::PhaseProgress& progress);

}  // namespace corral::wire
