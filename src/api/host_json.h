// Hosts as the API shows them (GET /v1/hosts[/{name}], POST /v1/hosts, host events), and the
// request bodies of the host endpoints.
//
// A host reads as OpenNebula's host (state name and number, capacity and use, its VMs) and as
// Nova's compute service (status enabled/disabled with the reason, state up/down,
// forced_down), with what its agent last reported. The flat keys of the first /v1/hosts
// (name, vcpus, memory_mib, used_vcpus, used_memory_mib, vms) keep their meaning.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"
#include "engine/hosts.h"

namespace corral::api {

nlohmann::json host_json(const engine::HostDetail& host);
nlohmann::json host_change_json(const engine::HostChange& change);

// POST /v1/hosts: {"name", "labels": {k: v}, "reserved": {"vcpus", "memory_mib"},
// "cpu_allocation_ratio", "ram_allocation_ratio"}. Unknown fields are refused.
[[nodiscard]] Result<engine::HostSpec> parse_host_spec(const nlohmann::json& body);
// POST /v1/hosts/{name}/action: {"action": "enable"|"disable"|..., "reason"}.
[[nodiscard]] Result<engine::HostActionRequest> parse_host_action(const std::string& host,
                                                                  const nlohmann::json& body);

}  // namespace corral::api
