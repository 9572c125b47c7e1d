#include "agent/guard/fence_protocol.h"

#include <nlohmann/json.hpp>

namespace corral::agent::guard {

using nlohmann::json;

namespace {

Error bad(std::string message) { return Error::invalid_argument(std::move(message)); }

json vms_json(const std::vector<FencedVm>& vms) {
  json out = json::array();
  for (const auto& vm : vms) {
    out.push_back({{"vm", vm.vm}, {"pid", vm.pid}, {"start_time", vm.start_time}});
  }
  return out;
}

Result<std::vector<FencedVm>> parse_vms(const json& vms) {
  if (!vms.is_array()) return fail(bad("\"vms\" must be an array"));
  if (vms.size() > 100'000) return fail(bad("too many VMs"));
  std::vector<FencedVm> out;
  for (const auto& v : vms) {
    if (!v.is_object() || !v.contains("vm") || !v.contains("pid") || !v.contains("start_time") ||
        !v["vm"].is_number_integer() || !v["pid"].is_number_integer() ||
        !v["start_time"].is_number_unsigned()) {
      return fail(bad("each VM is {\"vm\":N,\"pid\":N,\"start_time\":N}"));
    }
    FencedVm vm;
    vm.vm = v["vm"].get<std::int64_t>();
    const auto pid = v["pid"].get<std::int64_t>();
    if (pid <= 1 || pid > 0x3fffffff) return fail(bad("pid out of range"));
    vm.pid = static_cast<pid_t>(pid);
    vm.start_time = v["start_time"].get<std::uint64_t>();
    out.push_back(vm);
  }
  return out;
}

}  // namespace

Result<GuardRequest> parse_request(std::string_view line) {
  if (line.size() > kMaxLineBytes) return fail(bad("request too large"));
  const json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(bad("not a JSON object"));
  if (!j.contains("v") || !j["v"].is_number_integer() || j["v"].get<int>() != kProtocolVersion) {
    return fail(bad("unsupported protocol version (want \"v\":1)"));
  }
  if (!j.contains("op") || !j["op"].is_string()) return fail(bad("missing \"op\""));
  const auto op = j["op"].get<std::string>();
  GuardRequest request;
  if (op == "status") {
    request.op = GuardOp::kStatus;
  } else if (op == "clear") {
    request.op = GuardOp::kClear;
  } else if (op == "renew") {
    request.op = GuardOp::kRenew;
    if (!j.contains("lease_ms") || !j["lease_ms"].is_number_integer()) {
      return fail(bad("renew needs \"lease_ms\""));
    }
    request.lease_ms = j["lease_ms"].get<Millis>();
    if (request.lease_ms < 0 || request.lease_ms > 86'400'000) {
      return fail(bad("lease_ms must be 0 to 86400000"));
    }
    auto vms = parse_vms(j.contains("vms") ? j["vms"] : json::array());
    if (!vms) return fail(vms.error());
    request.vms = std::move(*vms);
  } else {
    return fail(bad("unknown op '" + op + "'"));
  }
  return request;
}

std::string render_request(const GuardRequest& request) {
  json j = {{"v", kProtocolVersion}};
  switch (request.op) {
    case GuardOp::kRenew:
      j["op"] = "renew";
      j["lease_ms"] = request.lease_ms;
      j["vms"] = vms_json(request.vms);
      break;
    case GuardOp::kClear:
      j["op"] = "clear";
      break;
    case GuardOp::kStatus:
      j["op"] = "status";
      break;
  }
  return j.dump() + "\n";
}

std::string render_status(const GuardStatus& status) {
  return json{{"ok", true},
              {"armed", status.armed},
              {"lease_ms", status.lease_ms},
              {"remaining_ms", status.remaining_ms},
              {"vms", vms_json(status.vms)},
              {"fenced", status.fenced}}
             .dump() +
         "\n";
}

std::string render_error(std::string_view message) {
  return json{{"ok", false}, {"error", std::string(message)}}.dump() + "\n";
}

Result<GuardStatus> parse_reply(std::string_view line) {
  const json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    return fail(Error{ErrorCode::kUnavailable, "the fence guard's reply is not valid", {}, {}});
  }
  if (!j["ok"].get<bool>()) {
    return fail(Error{ErrorCode::kUnavailable,
                      "the fence guard refused: " + j.value("error", std::string("?")),
                      {},
                      {}});
  }
  GuardStatus status;
  status.armed = j.value("armed", false);
  status.lease_ms = j.value("lease_ms", Millis{0});
  status.remaining_ms = j.value("remaining_ms", Millis{0});
  status.fenced = j.value("fenced", 0);
  if (j.contains("vms")) {
    auto vms = parse_vms(j["vms"]);
    if (vms) status.vms = std::move(*vms);
  }
  return status;
}

}  // namespace corral::agent::guard
