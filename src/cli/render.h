// Render: API v1 JSON -> the text a person reads (tables, `vm show`). Pure.
//
// Contract: never throws on any JSON shape — a missing or mistyped field renders as "-" —
// so a server that adds fields or sends null never breaks the client. Field names are the
// API's (docs in client.h's callers); unknown fields still appear in `vm show`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lifecycle/types.h"

namespace corral::cli {

// object[key], or a null JSON if `object` is not an object or has no such key.
const nlohmann::json& field(const nlohmann::json& object, std::string_view key);

// Scalars as text (strings unquoted); null or missing as `empty`; objects/arrays as JSON.
std::string text_of(const nlohmann::json& value, std::string_view empty = "-");

// MiB as `onevm list` shows memory: "256M", "2G", "1.5G"; "-" if not a number.
std::string memory_text(const nlohmann::json& mib);

// The VM's operation as "action/phase", with " (status)" unless it is running; "-" if there
// is none or it succeeded (the VM keeps its last operation).
std::string operation_text(const nlohmann::json& operation);

// Any operation as "action/phase", with " (status)" unless it is running.
std::string operation_summary(const nlohmann::json& operation);

// The VM's state in a vocabulary: canonical state; OpenNebula "ACTIVE/RUNNING" or
// "POWEROFF"; Nova status ("SHUTOFF"); Azure power state ("VM running" -> its code);
// StratusLab state ("Running").
std::string state_label(const nlohmann::json& vm, lifecycle::Vocabulary vocabulary);

bool is_done(const nlohmann::json& vm);

// `corral vm list`: ID NAME STAT STATE CPU MEM HOST OPERATION (STATE in `vocabulary`).
std::string vm_list_table(const std::vector<nlohmann::json>& vms, lifecycle::Vocabulary vocabulary);

// `corral vm show`: every field, then the operation, then each vocabulary's view.
std::string vm_details(const nlohmann::json& vm);

// `corral vm history`: ID AT FROM TO ACTION PHASE STATUS ACTOR REASON.
std::string history_table(const nlohmann::json& history);

// `corral hosts`: NAME VCPUS USED_VCPUS MEMORY USED_MEMORY VMS.
std::string hosts_table(const nlohmann::json& hosts);
// One host, a line per field (`corral host show`).
std::string host_text(const nlohmann::json& host);

// One line for an accepted action: "VM 12: stop accepted (operation 7: shutdown/shutdown)".
std::string accepted_text(const nlohmann::json& response, std::string_view verb);

}  // namespace corral::cli
