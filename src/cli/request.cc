#include "cli/request.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "common/text.h"
#include "lifecycle/vocabulary.h"

namespace corral::cli {
namespace {

namespace lc = corral::lifecycle;

constexpr std::size_t kMaxIdLength = 64;

std::optional<long long> parse_integer(std::string_view text) {
  long long value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  if (iequals(text, "true") || iequals(text, "yes") || text == "1") return true;
  if (iequals(text, "false") || iequals(text, "no") || text == "0") return false;
  return std::nullopt;
}

enum class ParamType : std::uint8_t { kString, kInteger, kBool };

ParamType param_type(std::string_view key) {
  if (key == "vcpus" || key == "memory_mib" || key == "rotation" || key == "size_mib") {
    return ParamType::kInteger;
  }
  if (key == "offload" || key == "skipShutdown" || key == "hard") return ParamType::kBool;
  return ParamType::kString;
}

// One "key=value" into `body`, typed by key.
CliResult<void> add_param(std::string_view param, nlohmann::json& body) {
  const std::size_t eq = param.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return fail(usage_failure(fmt::format("--param '{}' must look like KEY=VALUE", param)));
  }
  const std::string key(param.substr(0, eq));
  const std::string_view value = param.substr(eq + 1);
  if (key == "action" || key == "vocabulary") {
    return fail(usage_failure(fmt::format("--param cannot set '{}'", key)));
  }
  switch (param_type(key)) {
    case ParamType::kString:
      body[key] = std::string(value);
      return {};
    case ParamType::kInteger: {
      const std::optional<long long> number = parse_integer(value);
      if (!number) {
        return fail(usage_failure(fmt::format("--param {}: '{}' is not an integer", key, value)));
      }
      body[key] = *number;
      return {};
    }
    case ParamType::kBool: {
      const std::optional<bool> flag = parse_bool(value);
      if (!flag) {
        return fail(
            usage_failure(fmt::format("--param {}: '{}' is not true or false", key, value)));
      }
      body[key] = *flag;
      return {};
    }
  }
  return {};
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view w : words) out += (out.empty() ? "" : ", ") + std::string(w);
  return out;
}

}  // namespace

std::string url_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

CliResult<std::string> check_vm_id(std::string_view id) {
  const bool ok =
      !id.empty() && id.size() <= kMaxIdLength && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
      });
  if (!ok) return fail(usage_failure(fmt::format("'{}' is not a VM id", id)));
  return std::string(id);
}

std::string vm_path(std::string_view id, std::string_view suffix) {
  return "/v1/vms/" + url_encode(id) + std::string(suffix);
}

CliResult<lc::Vocabulary> parse_vocabulary_arg(std::string_view name) {
  const std::optional<lc::Vocabulary> vocabulary = lc::parse_vocabulary(name);
  if (!vocabulary) {
    return fail(usage_failure(fmt::format(
        "unknown vocabulary '{}' (corral, opennebula, nova, azure, stratuslab)", name)));
  }
  return *vocabulary;
}

CliResult<lc::State> parse_state_arg(std::string_view name) {
  const std::optional<lc::State> state = lc::parse_state(name);
  if (!state) {
    std::vector<std::string_view> names;
    for (lc::State s : lc::kAllStates) names.push_back(lc::state_name(s));
    return fail(usage_failure(fmt::format("unknown state '{}' (one of: {})", name, join(names))));
  }
  return *state;
}

CliResult<nlohmann::json> create_request(const CreateArgs& args) {
  if (args.name.empty()) return fail(usage_failure("the VM needs a name"));
  if (args.image.empty()) return fail(usage_failure("--image must not be empty"));
  if (args.vcpus < 1) return fail(usage_failure("--vcpus must be at least 1"));
  if (args.memory_mib < 1) return fail(usage_failure("--memory must be at least 1 (MiB)"));
  nlohmann::json body = {{"name", args.name},
                         {"image", args.image},
                         {"vcpus", args.vcpus},
                         {"memory_mib", args.memory_mib}};
  if (args.hold) body["hold"] = true;
  if (!args.requirements.empty()) body["requirements"] = args.requirements;
  if (!args.group.empty()) body["group"] = args.group;
  if (!args.networks.empty()) body["networks"] = args.networks;
  if (!args.security_groups.empty()) body["security_groups"] = args.security_groups;
  if (!args.ssh_keys.empty()) body["ssh_keys"] = args.ssh_keys;
  return body;
}

CliResult<std::string> list_path(const ListArgs& args, std::string_view marker) {
  std::string path = fmt::format("/v1/vms?limit={}", args.limit);
  if (!args.state.empty()) {
    CliResult<lc::State> state = parse_state_arg(args.state);
    if (!state) return fail(std::move(state.error()));
    path += "&state=" + std::string(lc::state_name(*state));
  }
  if (!args.name.empty()) path += "&name=" + url_encode(args.name);
  if (args.all_projects) path += "&all_projects=true";
  if (!args.project.empty()) path += "&project=" + url_encode(args.project);
  if (!marker.empty()) path += "&marker=" + url_encode(marker);
  return path;
}

bool is_verb_of(lc::Vocabulary vocabulary, std::string_view verb) {
  const std::vector<std::string_view> verbs = lc::verbs(vocabulary);
  return std::any_of(verbs.begin(), verbs.end(),
                     [verb](std::string_view v) { return iequals(v, verb); });
}

CliResult<nlohmann::json> action_request(const ActionArgs& args) {
  CliResult<lc::Vocabulary> vocabulary = parse_vocabulary_arg(args.vocabulary);
  if (!vocabulary) return fail(std::move(vocabulary.error()));
  if (!is_verb_of(*vocabulary, args.verb)) {
    return fail(usage_failure(fmt::format("{} has no verb '{}'; its verbs: {}",
                                          lc::vocabulary_name(*vocabulary), args.verb,
                                          join(lc::verbs(*vocabulary)))));
  }
  nlohmann::json body = nlohmann::json::object();
  for (const std::string& param : args.params) {
    CliResult<void> added = add_param(param, body);
    if (!added) return fail(std::move(added.error()));
  }
  body["action"] = args.verb;
  body["vocabulary"] = std::string(lc::vocabulary_name(*vocabulary));
  const auto put = [&body](const char* key, const auto& value) {
    if (value) body[key] = *value;
  };
  put("vcpus", args.vcpus);
  put("memory_mib", args.memory_mib);
  put("type", args.type);
  put("image", args.image);
  put("name", args.name);
  put("backup_type", args.backup_type);
  put("rotation", args.rotation);
  put("size_mib", args.size_mib);
  put("password", args.password);
  put("host", args.host);
  put("network", args.network);
  put("ip", args.ip);
  put("nic", args.nic);
  put("volume", args.volume);
  put("delete_on_termination", args.delete_on_termination);
  put("state", args.state);
  put("op", args.op);
  put("offload", args.offload);
  put("skipShutdown", args.skip_shutdown);
  put("copy_storage", args.copy_storage);
  put("auto_converge", args.auto_converge);
  put("postcopy_after_ms", args.postcopy_after_ms);
  put("max_downtime_ms", args.max_downtime_ms);
  put("bandwidth_mib_s", args.bandwidth_mib_s);
  if (args.vcpus && *args.vcpus < 1) return fail(usage_failure("--vcpus must be at least 1"));
  if (args.memory_mib && *args.memory_mib < 1) {
    return fail(usage_failure("--memory must be at least 1 (MiB)"));
  }
  return body;
}

}  // namespace corral::cli
