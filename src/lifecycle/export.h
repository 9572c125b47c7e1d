// Exports of the model: the Graphviz diagram and the JSON document of `corral states`
// (also served as GET /v1/states). Both are generated from the transition table and the
// views, so they cannot drift from the code.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "lifecycle/model.h"
#include "lifecycle/types.h"

namespace corral::lifecycle {

// The diagram in a vocabulary's names. For kCorral: the canonical states and actions, with a
// dashed edge to FAILED where a phase fails without rolling back. For another vocabulary:
// its own state names (canonical states that look alike there are merged) and its own verbs;
// actions the vocabulary has no verb for are left out.
std::string to_dot(Vocabulary vocabulary);

// The whole model: states (with every vocabulary's view), actions, phases, transitions and
// each vocabulary's verbs and names. The names cover every value each view can render:
// OpenNebula states and LCM states with their short aliases; Nova vm_states, task_states,
// power_states and API statuses; Azure provisioning states and power states, each with the
// status line ({code, level, displayStatus, timed}) the API shows, and billing;
// StratusLab states. export_test holds this against every reachable record's views.
nlohmann::json model_json();

// A record's four views, in the API's shape:
// {"opennebula": {state, state_id, lcm_state, lcm_state_id, short},
//  "nova": {vm_state, task_state, power_state, status},
//  "azure": {statuses, provisioning_state, power_state, billing},
//  "stratuslab": {state}}.
// `time` is the ISO-8601 time Azure's timed statuses carry (omitted when empty).
nlohmann::json views_json(const VmRecord& record, const std::string& time = {});

}  // namespace corral::lifecycle
