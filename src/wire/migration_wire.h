// live_migrate's options and the target's endpoint (store/op_params.h) <-> their wire
// messages (agent.proto MigrationParams, MigrationEndpoint), for both ends of the stream.
//
// Contract: field for field, never failing; values are checked where they are used (the
// API validates the options, a driver reads the endpoint it made itself).
#pragma once

#include "store/op_params.h"
#include "wire/agent.pb.h"

namespace corral::wire {

store::MigrationParams migration_of(const agent::v1::MigrationParams& migration);
agent::v1::MigrationParams to_wire(const store::MigrationParams& migration);
store::MigrationEndpoint endpoint_of(const agent::v1::MigrationEndpoint& endpoint);
agent::v1::MigrationEndpoint to_wire(const store::MigrationEndpoint& endpoint);

}  // namespace corral::wire
