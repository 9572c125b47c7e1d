// Records -> the API's JSON (docs/api.md shows every shape).
//
// Contract: pure functions of the values given; times are ISO 8601 UTC (corral::format_time);
// absent values are null, never "" or 0 (a deadline or finish time of 0, an empty host,
// error or pending reason). Names are the lifecycle's stable names (state_name, action_name,
// phase_name ...); a phase of kNone is null.
#pragma once

#include <nlohmann/json.hpp>

#include "api/vm_links.h"
#include "engine/engine.h"
#include "store/types.h"

namespace corral::api {

// {"id","name","state","operation","power","host","ip","nics","volumes","vcpus","memory_mib",
//  "image","model","pending_reason","requirements","group_id","resched","created_at",
//  "updated_at","views"}; the NICs' network names and the attached volumes from `links`.
nlohmann::json vm_json(const store::Vm& vm, const VmLinks& links = VmLinks{});

// {"id","vm_id","action","phase","status","origin","started_at","deadline","finished_at",
//  "error","attempt","actor","request_id","params"}
nlohmann::json op_json(const store::OperationRow& row);

// The answer to an accepted create or action: {"vm": VM, "operation": OP | null}.
nlohmann::json accepted_json(const engine::Accepted& accepted, const VmLinks& links = VmLinks{});

// {"id","from","to","action","phase","status","actor","request_id","at","reason"}
nlohmann::json transition_json(const store::TransitionRow& row);

// An event-stream entry: transition_json plus "vm_id", "op_id" and "state" (after it);
// "id" is null when the publisher does not know the history id.
nlohmann::json event_json(const engine::Event& event);

// Azure's instanceView: {"computerName", "statuses": [...]}.
nlohmann::json instance_view_json(const store::Vm& vm);

}  // namespace corral::api
