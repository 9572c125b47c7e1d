#include "api/host_json.h"

#include <cmath>
#include <regex>
#include <set>

#include "lifecycle/host_table.h"

namespace corral::api {

using nlohmann::json;

namespace {

json resources_json(const store::HostResources& r) {
  return {{"vcpus", r.vcpus}, {"memory_mib", r.memory_mib}};
}

json millis_or_null(Millis at) { return at == 0 ? json(nullptr) : json(at); }

Error bad(std::string message) { return Error::invalid_argument(std::move(message)); }

bool valid_label_key(const std::string& key) {
  static const std::regex kKey("[A-Za-z_][A-Za-z0-9_.-]{0,62}");
  return std::regex_match(key, kKey);
}

}  // namespace

json host_json(const engine::HostDetail& host) {
  const store::HostRow& row = host.row;
  json actions = json::array();
  for (const auto event : host.allowed_actions) {
    actions.push_back(std::string(lifecycle::host_event_name(event)));
  }
  json labels = json::object();
  for (const auto& [k, v] : row.labels) labels[k] = v;
  const bool enabled = row.enabled;
  return {
      {"name", row.name},
      {"id", row.id},
      {"state", std::string(lifecycle::host_state_opennebula_name(row.state))},
      {"state_id", static_cast<int>(row.state)},
      {"local", host.local},
      {"connected", host.connected},
      {"nova",
       {{"status", enabled ? "enabled" : "disabled"},
        {"disabled_reason", enabled ? json(nullptr) : json(row.disabled_reason)},
        {"state", host.up ? "up" : "down"},
        {"forced_down", row.forced_down}}},
      // The flat keys of the first /v1/hosts.
      {"vcpus", row.capacity.vcpus},
      {"memory_mib", row.capacity.memory_mib},
      {"used_vcpus", host.used_vcpus},
      {"used_memory_mib", host.used_memory_mib},
      {"vms", host.vms},
      {"capacity", resources_json(row.capacity)},
      {"reserved", resources_json(row.reserved)},
      {"cpu_allocation_ratio", row.cpu_allocation_ratio},
      {"ram_allocation_ratio", row.ram_allocation_ratio},
      {"labels", std::move(labels)},
      {"agent_version", row.agent_version.empty() ? json(nullptr) : json(row.agent_version)},
      {"epoch", row.epoch},
      {"last_heartbeat_ms", millis_or_null(row.last_heartbeat_at)},
      {"metrics",
       {{"used_vcpus", host.metrics.used_vcpus},
        {"used_memory_mib", host.metrics.used_memory_mib},
        {"running_vms", host.metrics.running_vms},
        {"free_cpu_percent", host.metrics.free_cpu_percent},
        {"load1", host.metrics.load1},
        {"guarded_vms", host.metrics.guarded_vms}}},
      {"error", row.error.empty() ? json(nullptr) : json(row.error)},
      {"firewall_error", host.firewall_error ? json(*host.firewall_error) : json(nullptr)},
      {"allowed_actions", std::move(actions)},
      {"created_ms", millis_or_null(row.created_at)},
      {"updated_ms", millis_or_null(row.updated_at)},
  };
}

json host_change_json(const engine::HostChange& change) {
  return {{"host", change.host},
          {"event", std::string(lifecycle::host_event_name(change.event))},
          {"from", std::string(lifecycle::host_state_opennebula_name(change.from))},
          {"to", std::string(lifecycle::host_state_opennebula_name(change.to))},
          {"removed", change.removed},
          {"actor", change.actor},
          {"reason", change.reason},
          {"at_ms", change.at}};
}

Result<engine::HostSpec> parse_host_spec(const json& body) {
  if (!body.is_object()) return fail(bad("the body must be a JSON object"));
  static const std::set<std::string> kFields = {"name", "labels", "reserved",
                                                "cpu_allocation_ratio", "ram_allocation_ratio"};
  for (const auto& [key, value] : body.items()) {
    if (!kFields.contains(key)) return fail(bad("unknown field '" + key + "'"));
  }
  engine::HostSpec spec;
  if (!body.contains("name") || !body["name"].is_string()) {
    return fail(bad("\"name\" (a string) is required"));
  }
  spec.name = body["name"].get<std::string>();
  if (body.contains("labels")) {
    const json& labels = body["labels"];
    if (!labels.is_object()) return fail(bad("\"labels\" must be an object of strings"));
    if (labels.size() > 64) return fail(bad("at most 64 labels"));
    for (const auto& [k, v] : labels.items()) {
      if (!valid_label_key(k)) {
        return fail(bad("label '" + k.substr(0, 64) +
                        "': a key is a letter or _ then letters, digits, _ . - (63 at most)"));
      }
      if (!v.is_string() || v.get<std::string>().size() > 255) {
        return fail(bad("label '" + k + "': the value must be a string of 255 bytes at most"));
      }
      spec.labels[k] = v.get<std::string>();
    }
  }
  if (body.contains("reserved")) {
    const json& r = body["reserved"];
    if (!r.is_object()) return fail(bad("\"reserved\" must be {\"vcpus\", \"memory_mib\"}"));
    for (const auto& [k, v] : r.items()) {
      if (k != "vcpus" && k != "memory_mib")
        return fail(bad("reserved: unknown field '" + k + "'"));
      if (!v.is_number_integer()) return fail(bad("reserved." + k + " must be an integer"));
    }
    const auto vcpus = r.value("vcpus", std::int64_t{0});
    const auto memory = r.value("memory_mib", std::int64_t{0});
    if (std::llabs(vcpus) > 100'000 || std::llabs(memory) > (std::int64_t{1} << 40)) {
      return fail(bad("reserved: out of range"));
    }
    spec.reserved.vcpus = static_cast<int>(vcpus);
    spec.reserved.memory_mib = memory;
  }
  for (const char* key : {"cpu_allocation_ratio", "ram_allocation_ratio"}) {
    if (!body.contains(key)) continue;
    if (!body[key].is_number()) return fail(bad(std::string(key) + " must be a number"));
    const double ratio = body[key].get<double>();
    if (!std::isfinite(ratio) || ratio <= 0 || ratio > 1000) {
      return fail(bad(std::string(key) + " must be more than 0 and at most 1000"));
    }
    (std::string_view(key) == "cpu_allocation_ratio" ? spec.cpu_allocation_ratio
                                                     : spec.ram_allocation_ratio) = ratio;
  }
  return spec;
}

Result<engine::HostActionRequest> parse_host_action(const std::string& host, const json& body) {
  if (!body.is_object()) return fail(bad("the body must be a JSON object"));
  for (const auto& [key, value] : body.items()) {
    if (key != "action" && key != "reason") return fail(bad("unknown field '" + key + "'"));
  }
  if (!body.contains("action") || !body["action"].is_string()) {
    return fail(bad("\"action\" (a string) is required"));
  }
  const std::string name = body["action"].get<std::string>();
  std::string normalized = name;
  for (char& c : normalized) {
    if (c == '-') c = '_';
  }
  const auto event = lifecycle::parse_host_event(normalized);
  if (!event || !lifecycle::is_operator_action(*event) || *event == lifecycle::HostEvent::kDelete) {
    std::string allowed;
    for (const auto e : lifecycle::kAllHostEvents) {
      if (!lifecycle::is_operator_action(e) || e == lifecycle::HostEvent::kDelete) continue;
      allowed += (allowed.empty() ? "" : ", ") + std::string(lifecycle::host_event_name(e));
    }
    return fail(Error{ErrorCode::kUnknownAction,
                      "unknown host action '" + name.substr(0, 64) + "' (one of: " + allowed +
                          "; DELETE /v1/hosts/{name} deletes)",
                      {},
                      {}});
  }
  engine::HostActionRequest request;
  request.host = host;
  request.event = *event;
  if (body.contains("reason")) {
    if (!body["reason"].is_string() || body["reason"].get<std::string>().size() > 255) {
      return fail(bad("\"reason\" must be a string of 255 bytes at most"));
    }
    request.reason = body["reason"].get<std::string>();
  }
  return request;
}

}  // namespace corral::api
