#include "cli/vm_queries.h"

#include <fmt/core.h>

#include <set>
#include <utility>

#include "cli/render.h"

namespace corral::cli {
namespace {

namespace lc = corral::lifecycle;

constexpr int kMaxPages = 100'000;

}  // namespace

CliResult<std::vector<nlohmann::json>> fetch_all_vms(const Client& client, const ListArgs& args) {
  std::vector<nlohmann::json> vms;
  std::string marker;
  std::set<std::string> seen_markers;
  for (int page = 0; page < kMaxPages; ++page) {
    CliResult<std::string> path = list_path(args, marker);
    if (!path) return fail(std::move(path.error()));
    CliResult<nlohmann::json> body = client.get(*path);
    if (!body) return fail(std::move(body.error()));
    const nlohmann::json& list = field(*body, "vms");
    if (list.is_array()) vms.insert(vms.end(), list.begin(), list.end());
    const nlohmann::json& next = field(*body, "next_marker");
    if (next.is_null() || (next.is_number() && next.get<double>() == 0)) break;
    marker = text_of(next, "");
    // A server that repeats a marker would loop for ever; stop instead.
    if (marker.empty() || !seen_markers.insert(marker).second) break;
  }
  return vms;
}

std::optional<std::string> wait_verdict(const nlohmann::json& vm, lc::State target) {
  const std::string state = text_of(field(vm, "state"), "");
  const std::optional<lc::State> now = lc::parse_state(state);
  if (now == target) return std::string();
  if (now != lc::State::kDone && now != lc::State::kFailed) return std::nullopt;
  std::string why = fmt::format("VM {} reached {} instead of {}", text_of(field(vm, "id"), "?"),
                                state, lc::state_name(target));
  const nlohmann::json& operation = field(vm, "operation");
  const std::string error = text_of(field(operation, "error"), "");
  if (!error.empty()) {
    why += fmt::format(": {} failed: {}", text_of(field(operation, "action"), "operation"), error);
  }
  return why;
}

}  // namespace corral::cli
