// Lifecycle enums <-> their wire enums (agent.proto). Both carry the same stable numbers
// (enums_test.cc proves it for every value), so to_wire is a cast; from_wire checks the
// number, because a peer of another version may send a value this build does not know.
#pragma once

#include <optional>

#include "lifecycle/drift.h"
#include "lifecycle/types.h"
#include "wire/agent.pb.h"

namespace corral::wire {

namespace v1 = ::corral::agent::v1;

inline v1::State to_wire(lifecycle::State v) { return static_cast<v1::State>(v); }
inline v1::Action to_wire(lifecycle::Action v) { return static_cast<v1::Action>(v); }
inline v1::Phase to_wire(lifecycle::Phase v) { return static_cast<v1::Phase>(v); }
inline v1::Power to_wire(lifecycle::Power v) { return static_cast<v1::Power>(v); }
inline v1::Integrity to_wire(lifecycle::Integrity v) { return static_cast<v1::Integrity>(v); }
inline v1::Observation to_wire(lifecycle::Observation v) { return static_cast<v1::Observation>(v); }
inline v1::RunsOn to_wire(lifecycle::RunsOn v) { return static_cast<v1::RunsOn>(v); }

// nullopt: a number this build's lifecycle does not have (or a proto-only value such as
// ACTION_UNSPECIFIED or OBSERVATION_GUEST_READY).
std::optional<lifecycle::State> from_wire(v1::State v);
std::optional<lifecycle::Action> from_wire(v1::Action v);
std::optional<lifecycle::Phase> from_wire(v1::Phase v);
std::optional<lifecycle::Power> from_wire(v1::Power v);
std::optional<lifecycle::Integrity> from_wire(v1::Integrity v);
std::optional<lifecycle::Observation> from_wire(v1::Observation v);
std::optional<lifecycle::RunsOn> from_wire(v1::RunsOn v);

}  // namespace corral::wire
