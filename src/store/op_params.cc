#include "store/op_params.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace corral::store {

namespace {

using nlohmann::json;

json model_json(const VmModel& m) {
  return {{"vcpus", m.vcpus}, {"memory_mib", m.memory_mib}, {"image", m.image}};
}

std::optional<VmModel> model_from(const json& j) {
  if (!j.is_object() || !j.contains("vcpus") || !j["vcpus"].is_number_integer() ||
      !j.contains("memory_mib") || !j["memory_mib"].is_number_integer() || !j.contains("image") ||
      !j["image"].is_string()) {
    return std::nullopt;
  }
  return VmModel{j["vcpus"].get<int>(), j["memory_mib"].get<int>(), j["image"].get<std::string>()};
}

json migration_json(const MigrationParams& m) {
  return {{"copy_storage", m.copy_storage},
          {"auto_converge", m.auto_converge},
          {"postcopy_after_ms", m.postcopy_after_ms},
          {"max_downtime_ms", m.max_downtime_ms},
          {"bandwidth_mib_s", m.bandwidth_mib_s}};
}

std::optional<MigrationParams> migration_from(const json& j) {
  if (!j.is_object()) return std::nullopt;
  MigrationParams m;
  auto flag = [&](const char* key, bool& out) {
    auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_boolean()) return false;
    out = it->get<bool>();
    return true;
  };
  auto number = [&](const char* key, std::int32_t& out) {
    auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_number_integer()) return false;
    const auto v = it->get<std::int64_t>();
    if (v < -1 || v > kMaxBandwidthMibS * std::int64_t{4096}) return false;
    out = static_cast<std::int32_t>(v);
    return true;
  };
  if (!flag("copy_storage", m.copy_storage) || !flag("auto_converge", m.auto_converge) ||
      !number("postcopy_after_ms", m.postcopy_after_ms) ||
      !number("max_downtime_ms", m.max_downtime_ms) ||
      !number("bandwidth_mib_s", m.bandwidth_mib_s)) {
    return std::nullopt;
  }
  return m;
}

json endpoint_json(const MigrationEndpoint& e) {
  return {{"migration_uri", e.migration_uri},
          {"nbd_host", e.nbd_host},
          {"nbd_port", e.nbd_port},
          {"nbd_export", e.nbd_export}};
}

std::optional<MigrationEndpoint> endpoint_from(const json& j) {
  if (!j.is_object()) return std::nullopt;
  auto text = [&](const char* key) -> const json* {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? &*it : nullptr;
  };
  const json* uri = text("migration_uri");
  const json* host = text("nbd_host");
  const json* name = text("nbd_export");
  auto port = j.find("nbd_port");
  if (!uri || !host || !name || port == j.end() || !port->is_number_integer()) return std::nullopt;
  const auto p = port->get<std::int64_t>();
  if (p < 0 || p > 65535) return std::nullopt;
  return MigrationEndpoint{uri->get<std::string>(), host->get<std::string>(),
                           static_cast<std::int32_t>(p), name->get<std::string>()};
}

json nic_json(const Nic& n) {
  return {{"index", n.index},
          {"network", n.network},
          {"ip", n.ip},
          {"mac", n.mac},
          {"security_groups", n.security_groups}};
}

// Absent: the NIC predates security groups, and is in the default group.
std::optional<std::vector<std::int64_t>> security_groups_from(const json& j) {
  auto it = j.find("security_groups");
  if (it == j.end()) return std::vector<std::int64_t>{kDefaultSecurityGroupId};
  if (!it->is_array()) return std::nullopt;
  std::vector<std::int64_t> out;
  for (const json& id : *it) {
    if (!id.is_number_integer() || id.get<std::int64_t>() <= 0) return std::nullopt;
    out.push_back(id.get<std::int64_t>());
  }
  return out;
}

std::optional<Nic> nic_from(const json& j) {
  if (!j.is_object()) return std::nullopt;
  auto index = j.find("index");
  auto network = j.find("network");
  auto ip = j.find("ip");
  auto mac = j.find("mac");
  if (index == j.end() || !index->is_number_integer() || network == j.end() ||
      !network->is_number_integer() || ip == j.end() || !ip->is_string() || mac == j.end() ||
      !mac->is_string()) {
    return std::nullopt;
  }
  const auto i = index->get<std::int64_t>();
  if (i < 0 || i >= kMaxNics) return std::nullopt;
  std::optional<std::vector<std::int64_t>> groups = security_groups_from(j);
  if (!groups) return std::nullopt;
  return Nic{static_cast<int>(i), network->get<std::int64_t>(), ip->get<std::string>(),
             mac->get<std::string>(), std::move(*groups)};
}

bool takes_name(lifecycle::Action a) {
  using lifecycle::Action;
  return a == Action::kSnapshot || a == Action::kBackup || a == Action::kDiskSnapshot ||
         a == Action::kDiskSnapshotRevert || a == Action::kDiskSnapshotDelete ||
         a == Action::kCheckpoint || a == Action::kCheckpointRevert ||
         a == Action::kCheckpointDelete;
}

}  // namespace

bool valid_param_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxParamNameChars || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

Status validate_params(lifecycle::Action action, const OpParams& params) {
  if (params.name && (!takes_name(action) || !valid_param_name(*params.name))) {
    return fail(Error::invalid_argument(
        "'name' must be 1 to 64 characters of a-z, 0-9, '.', '_', '-', not starting with '.'"));
  }
  if (params.size_mib != 0 && (action != lifecycle::Action::kDiskResize || params.size_mib < 1 ||
                               params.size_mib > kMaxDiskSizeMib)) {
    return fail(Error::invalid_argument("'size_mib' must be an integer from 1 to " +
                                        std::to_string(kMaxDiskSizeMib)));
  }
  const MigrationParams& m = params.migration;
  if (!m.defaults() && action != lifecycle::Action::kLiveMigrate) {
    return fail(Error::invalid_argument("migration options are only for live_migrate"));
  }
  if (m.postcopy_after_ms < -1 || m.postcopy_after_ms > kMaxMigrationMillis) {
    return fail(
        Error::invalid_argument("'postcopy_after_ms' must be -1 (the default), 0 (never) "
                                "or up to " +
                                std::to_string(kMaxMigrationMillis)));
  }
  if (m.max_downtime_ms < 0 || m.max_downtime_ms > kMaxMigrationMillis) {
    return fail(Error::invalid_argument("'max_downtime_ms' must be 0 (the default) to " +
                                        std::to_string(kMaxMigrationMillis)));
  }
  if (m.bandwidth_mib_s < 0 || m.bandwidth_mib_s > kMaxBandwidthMibS) {
    return fail(Error::invalid_argument("'bandwidth_mib_s' must be 0 (unlimited) to " +
                                        std::to_string(kMaxBandwidthMibS)));
  }
  return {};
}

std::string to_json_text(const OpParams& params) {
  // Most operations carry no typed parameter: their text is `shown` (an object's text, as
  // every writer of it makes it), written at each of their steps without a parse.
  if (!params.name && params.size_mib == 0 && params.target_host.empty() &&
      params.source_host.empty() && !params.previous && !params.hold &&
      params.migration.defaults() && !params.endpoint && !params.nic && params.volume == 0 &&
      params.shown.starts_with('{')) {
    return params.shown;
  }
  json j = json::parse(params.shown, nullptr, false);
  if (!j.is_object()) j = json::object();
  if (params.name) j["name"] = *params.name;
  if (params.size_mib != 0) j["size_mib"] = params.size_mib;
  if (!params.target_host.empty()) j["target_host"] = params.target_host;
  if (!params.source_host.empty()) j["source_host"] = params.source_host;
  if (params.previous) j["previous"] = model_json(*params.previous);
  if (params.hold) j["hold"] = true;
  if (!params.migration.defaults()) j["migration"] = migration_json(params.migration);
  if (params.endpoint) j["endpoint"] = endpoint_json(*params.endpoint);
  if (params.nic) j["nic"] = nic_json(*params.nic);
  if (params.volume != 0) j["volume_id"] = params.volume;
  return j.dump();
}

OpParams params_from_json_text(std::string_view text) {
  OpParams params;
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return params;
  if (auto it = j.find("name"); it != j.end() && it->is_string()) {
    params.name = it->get<std::string>();
    j.erase(it);
  }
  if (auto it = j.find("size_mib");
      it != j.end() && it->is_number_integer() && it->get<std::int64_t>() != 0) {
    params.size_mib = it->get<std::int64_t>();
    j.erase(it);
  }
  if (auto it = j.find("target_host");
      it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
    params.target_host = it->get<std::string>();
    j.erase(it);
  }
  if (auto it = j.find("source_host");
      it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
    params.source_host = it->get<std::string>();
    j.erase(it);
  }
  if (auto it = j.find("previous"); it != j.end()) {
    if (std::optional<VmModel> previous = model_from(*it)) {
      params.previous = std::move(previous);
      j.erase(it);
    }
  }
  if (auto it = j.find("hold"); it != j.end() && it->is_boolean() && it->get<bool>()) {
    params.hold = true;
    j.erase(it);
  }
  if (auto it = j.find("migration"); it != j.end()) {
    if (std::optional<MigrationParams> m = migration_from(*it)) {
      params.migration = *m;
      j.erase(it);
    }
  }
  if (auto it = j.find("endpoint"); it != j.end()) {
    if (std::optional<MigrationEndpoint> e = endpoint_from(*it)) {
      params.endpoint = std::move(e);
      j.erase(it);
    }
  }
  if (auto it = j.find("nic"); it != j.end()) {
    if (std::optional<Nic> nic = nic_from(*it)) {
      params.nic = std::move(nic);
      j.erase(it);
    }
  }
  if (auto it = j.find("volume_id");
      it != j.end() && it->is_number_integer() && it->get<std::int64_t>() > 0) {
    params.volume = it->get<std::int64_t>();
    j.erase(it);
  }
  params.shown = j.dump();
  return params;
}

std::string nics_to_json_text(const std::vector<Nic>& nics) {
  if (nics.empty()) return "[]";  // most VMs' (written at every transition)
  json j = json::array();
  for (const Nic& n : nics) j.push_back(nic_json(n));
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<std::vector<Nic>> nics_from_json_text(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::vector<Nic> out;
  for (const json& item : j) {
    std::optional<Nic> nic = nic_from(item);
    if (!nic) return std::nullopt;
    out.push_back(std::move(*nic));
  }
  return out;
}

std::string strings_to_json_text(const std::vector<std::string>& items) {
  if (items.empty()) return "[]";
  return json(items).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<std::vector<std::string>> strings_from_json_text(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const json& item : j) {
    if (!item.is_string()) return std::nullopt;
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace corral::store
