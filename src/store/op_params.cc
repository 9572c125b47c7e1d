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
  return {};
}

std::string to_json_text(const OpParams& params) {
  json j = json::parse(params.shown, nullptr, false);
  if (!j.is_object()) j = json::object();
  if (params.name) j["name"] = *params.name;
  if (params.size_mib != 0) j["size_mib"] = params.size_mib;
  if (!params.target_host.empty()) j["target_host"] = params.target_host;
  if (params.previous) j["previous"] = model_json(*params.previous);
  if (params.hold) j["hold"] = true;
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
  params.shown = j.dump();
  return params;
}

}  // namespace corral::store
