// Nova's views of the cloud's hosts and moves: os-services and os-hypervisors from
// GET /v1/hosts (each host is one nova-compute service and one QEMU hypervisor), os-migrations
// from GET /v1/migrations and a server's migrations from GET /v1/vms/{id}/migrations. All are
// the cloud admin's in Nova and in Corral: a member's request is refused by v1's policy, and
// the refusal is Nova's 403.
#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "compat/openstack/front.h"

namespace corral::compat::openstack::internal {

using nlohmann::json;

namespace {

std::string time_of_ms(const json& ms) {
  if (!ms.is_number_integer()) return "";
  return openstack_time(format_time(ms.get<Millis>()));
}

// One host as a nova-compute service.
json service_json(const json& host) {
  const json& nova = host["nova"];
  return {{"id", host.value("id", 0)},
          {"binary", "nova-compute"},
          {"host", host.value("name", "")},
          {"zone", "nova"},
          {"status", nova.value("status", "enabled")},
          {"state", nova.value("state", "down")},
          {"updated_at", time_of_ms(host["updated_ms"])},
          {"disabled_reason", nova.value("disabled_reason", json(nullptr))},
          {"forced_down", nova.value("forced_down", false)}};
}

// One host as a hypervisor; `detail` adds what GET /os-hypervisors/detail shows (before 2.88).
json hypervisor_json(const json& host, bool detail) {
  const json& nova = host["nova"];
  json out = {{"id", host.value("id", 0)},
              {"hypervisor_hostname", host.value("name", "")},
              {"state", nova.value("state", "down")},
              {"status", nova.value("status", "enabled")}};
  if (!detail) return out;
  const int vcpus = host.value("vcpus", 0);
  const int memory = host.value("memory_mib", 0);
  const int used_vcpus = host.value("used_vcpus", 0);
  const int used_memory = host.value("used_memory_mib", 0);
  out.update({{"hypervisor_type", "QEMU"},
              {"hypervisor_version", 7002000},
              {"host_ip", host.value("local", false) ? "127.0.0.1" : host.value("name", "")},
              {"service",
               {{"host", host.value("name", "")},
                {"id", host.value("id", 0)},
                {"disabled_reason", nova.value("disabled_reason", json(nullptr))}}},
              {"vcpus", vcpus},
              {"vcpus_used", used_vcpus},
              {"memory_mb", memory},
              {"memory_mb_used", used_memory},
              {"free_ram_mb", memory - used_memory},
              {"local_gb", 0},
              {"local_gb_used", 0},
              {"free_disk_gb", 0},
              {"disk_available_least", 0},
              {"current_workload", 0},
              {"running_vms", host["vms"].is_array() ? host["vms"].size() : 0},
              {"cpu_info", "{}"}});
  return out;
}

// A v1 migration record as Nova's.
json nova_migration(const json& m) {
  const std::string id = std::to_string(m.value("id", 0));
  return {{"id", m.value("id", 0)},
          {"uuid", id},
          {"instance_uuid", std::to_string(m.value("vm_id", 0))},
          {"migration_type", m.value("migration_type", "")},
          {"status", m.value("status", "")},
          {"source_compute", m.value("source_compute", json(nullptr))},
          {"source_node", m.value("source_compute", json(nullptr))},
          {"dest_compute", m.value("dest_compute", json(nullptr))},
          {"dest_node", m.value("dest_compute", json(nullptr))},
          {"dest_host", m.value("dest_compute", json(nullptr))},
          {"old_instance_type_id", nullptr},
          {"new_instance_type_id", nullptr},
          {"created_at", openstack_time(m["created_at"])},
          {"updated_at", openstack_time(m["updated_at"])},
          {"memory_total_bytes", m.value("memory_total_bytes", 0)},
          {"memory_processed_bytes", m.value("memory_processed_bytes", 0)},
          {"memory_remaining_bytes", m.value("memory_remaining_bytes", 0)},
          {"disk_total_bytes", m.value("disk_total_bytes", 0)},
          {"disk_processed_bytes", m.value("disk_processed_bytes", 0)},
          {"disk_remaining_bytes", m.value("disk_remaining_bytes", 0)},
          {"project_id", nullptr},
          {"user_id", nullptr}};
}

// Nova's os-migrations filters: a host (either end), status, type, server, changes-since.
bool wanted(const api::FrontRequest& req, const json& m) {
  if (const std::optional<std::string> host = query_value(req, "host")) {
    if (m["source_compute"] != *host && m["dest_compute"] != *host) return false;
  }
  if (const std::optional<std::string> status = query_value(req, "status")) {
    if (m["status"] != *status) return false;
  }
  if (const std::optional<std::string> type = query_value(req, "migration_type")) {
    if (m["migration_type"] != *type) return false;
  }
  if (const std::optional<std::string> server = query_value(req, "instance_uuid")) {
    if (m["instance_uuid"] != *server) return false;
  }
  if (const std::optional<std::string> since = query_value(req, "changes-since")) {
    if (m["updated_at"].get<std::string>() < *since) return false;
  }
  return true;
}

}  // namespace

api::FrontReply hosts_route(const api::FrontRequest& req, api::ApiCaller& api,
                            const std::string& token, const std::string& what,
                            const std::vector<std::string>& rest) {
  if (req.method != "GET") return nova_error(405, "Method not allowed");
  const api::InnerReply r = api.call({"GET", "/v1/hosts", {}, nullptr, token});
  if (r.status != 200) return from_v1_error(r);
  const json hosts = r.body.value("hosts", json::array());
  if (what == "os-services") {
    const std::optional<std::string> host = query_value(req, "host");
    json list = json::array();
    for (const json& h : hosts) {
      if (!host || h["name"] == *host) list.push_back(service_json(h));
    }
    return json_reply(200, {{"services", list}});
  }
  // os-hypervisors[/detail | /{id} | /{pattern}/search]
  const bool detail = !rest.empty() && rest[0] == "detail";
  json list = json::array();
  for (const json& h : hosts) {
    if (rest.size() == 1 && !detail) {
      if (std::to_string(h.value("id", 0)) == rest[0] || h["name"] == rest[0]) {
        return json_reply(200, {{"hypervisor", hypervisor_json(h, true)}});
      }
      continue;
    }
    if (rest.size() == 2 && rest[1] == "search" &&
        h.value("name", "").find(rest[0]) == std::string::npos) {
      continue;
    }
    list.push_back(hypervisor_json(h, detail));
  }
  if (rest.size() == 1 && !detail) {
    return nova_error(404, "Hypervisor " + rest[0] + " could not be found.");
  }
  return json_reply(200, {{"hypervisors", list}});
}

api::FrontReply migrations_route(const api::FrontRequest& req, api::ApiCaller& api,
                                 const std::string& token) {
  if (req.method != "GET") return nova_error(405, "Method not allowed");
  const std::optional<long> asked = query_limit(req, -1);  // -1: no limit, as Nova's default
  if (!asked) return nova_error(400, "limit must be a non-negative integer");
  const long limit = *asked;
  const std::optional<std::string> marker = query_value(req, "marker");
  bool past_marker = !marker.has_value();
  json out = json::array();
  std::string before;
  for (;;) {
    std::multimap<std::string, std::string> query = {{"limit", "1000"}};
    if (!before.empty()) query.emplace("before", before);
    const api::InnerReply r = api.call({"GET", "/v1/migrations", query, nullptr, token});
    if (r.status != 200) return from_v1_error(r);
    for (const json& m : r.body.value("migrations", json::array())) {
      const json nova = nova_migration(m);
      if (!past_marker) {
        past_marker = nova["uuid"] == *marker;
        continue;
      }
      if (!wanted(req, nova)) continue;
      if (limit >= 0 && static_cast<long>(out.size()) >= limit) break;
      out.push_back(nova);
    }
    if (r.body["next_before"].is_null() || (limit >= 0 && static_cast<long>(out.size()) >= limit)) {
      break;
    }
    before = std::to_string(r.body["next_before"].get<std::int64_t>());
  }
  if (!past_marker) return nova_error(404, "Marker " + *marker + " could not be found.");
  return json_reply(200, {{"migrations", out}});
}

api::FrontReply server_migrations(const api::FrontRequest& req, api::ApiCaller& api,
                                  const std::string& token, const std::string& server,
                                  const std::string& migration) {
  if (req.method != "GET") return nova_error(405, "Method not allowed");
  const api::InnerReply r =
      api.call({"GET", "/v1/vms/" + server + "/migrations", {}, nullptr, token});
  if (r.status != 200) return from_v1_error(r, "", server);
  // Nova lists only the live migrations still in progress here.
  json out = json::array();
  for (const json& m : r.body.value("migrations", json::array())) {
    const std::string status = m.value("status", "");
    if (m.value("migration_type", "") != "live-migration") continue;
    if (status != "accepted" && status != "queued" && status != "preparing" &&
        status != "running") {
      continue;
    }
    json nova = nova_migration(m);
    nova["server_uuid"] = nova["instance_uuid"];
    if (!migration.empty() && std::to_string(m.value("id", 0)) == migration) {
      return json_reply(200, {{"migration", nova}});
    }
    out.push_back(nova);
  }
  if (!migration.empty()) {
    return nova_error(404, "Migration " + migration + " does not exist for instance " + server +
                               " or is not in progress.");
  }
  return json_reply(200, {{"migrations", out}});
}

}  // namespace corral::compat::openstack::internal
