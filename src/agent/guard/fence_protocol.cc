#include "agent/guard/fence_protocol.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <utility>

namespace corral::agent::guard {
namespace {

using nlohmann::json;

json vm_json(const FencedVm& vm) {
  return json{{"vm", vm.vm}, {"pid", vm.pid}, {"start_time", vm.start_time}};
}

json vms_json(const std::vector<FencedVm>& vms) {
  json out = json::array();
  for (const auto& vm : vms) out.push_back(vm_json(vm));
  return out;
}

Error bad(std::string message) { return Error::invalid_argument(std::move(message)); }

// The parsed line as an object carrying "v":1; nlohmann's parser does not recurse on the
// C++ stack, and the line length is bounded before we get here.
Result<json> parse_object(std::string_view line) {
  if (line.size() > kMaxLineBytes) return fail(bad("line too long"));
  json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail(bad("not valid JSON"));
  if (!doc.is_object()) return fail(bad("not a JSON object"));
  const auto v = doc.find("v");
  if (v == doc.end() || !v->is_number_integer() || v->get<std::int64_t>() != kProtocolVersion) {
    return fail(bad(fmt::format("\"v\" must be {}", kProtocolVersion)));
  }
  return doc;
}

Result<std::int64_t> integer_field(const json& obj, const char* key, std::int64_t lo,
                                   std::int64_t hi) {
  const auto it = obj.find(key);
  if (it == obj.end()) return fail(bad(fmt::format("missing \"{}\"", key)));
  if (!it->is_number_integer()) return fail(bad(fmt::format("\"{}\" must be an integer", key)));
  // An unsigned value above INT64_MAX is out of every range we accept.
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
    return fail(bad(fmt::format("\"{}\" out of range", key)));
  }
  const auto value = it->get<std::int64_t>();
  if (value < lo || value > hi) return fail(bad(fmt::format("\"{}\" out of range", key)));
  return value;
}

Result<std::uint64_t> unsigned_field(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) return fail(bad(fmt::format("missing \"{}\"", key)));
  if (!it->is_number_unsigned()) {
    return fail(bad(fmt::format("\"{}\" must be a non-negative integer", key)));
  }
  return it->get<std::uint64_t>();
}

Result<FencedVm> parse_vm(const json& item) {
  if (!item.is_object()) return fail(bad("each of \"vms\" must be an object"));
  FencedVm vm;
  const auto id = item.find("vm");
  if (id == item.end() || !id->is_string()) return fail(bad("\"vm\" must be a string"));
  vm.vm = id->get<std::string>();
  if (vm.vm.empty() || vm.vm.size() > kMaxVmIdBytes) {
    return fail(bad(fmt::format("\"vm\" must be 1..{} bytes", kMaxVmIdBytes)));
  }
  auto pid = integer_field(item, "pid", 1, kMaxPid);
  if (!pid) return fail(pid.error());
  vm.pid = static_cast<pid_t>(*pid);
  auto start = unsigned_field(item, "start_time");
  if (!start) return fail(start.error());
  vm.start_time = *start;
  return vm;
}

Result<std::vector<FencedVm>> parse_vms(const json& obj) {
  const auto it = obj.find("vms");
  if (it == obj.end() || !it->is_array()) return fail(bad("\"vms\" must be an array"));
  if (it->size() > kMaxVms) return fail(bad(fmt::format("more than {} vms", kMaxVms)));
  std::vector<FencedVm> vms;
  vms.reserve(it->size());
  for (const auto& item : *it) {
    auto vm = parse_vm(item);
    if (!vm) return fail(vm.error());
    vms.push_back(std::move(*vm));
  }
  return vms;
}

Result<GuardStatus> parse_status(const json& obj) {
  if (!obj.is_object()) return fail(bad("\"status\" must be an object"));
  GuardStatus st;
  auto pid = integer_field(obj, "pid", 1, kMaxPid);
  if (!pid) return fail(pid.error());
  st.pid = static_cast<pid_t>(*pid);
  const auto armed = obj.find("armed");
  if (armed == obj.end() || !armed->is_boolean()) return fail(bad("\"armed\" must be a bool"));
  st.armed = armed->get<bool>();
  auto lease = integer_field(obj, "lease_ms", 0, kMaxLeaseMs);
  if (!lease) return fail(lease.error());
  st.lease_ms = *lease;
  const auto rem = obj.find("remaining_ms");
  if (rem != obj.end() && !rem->is_null()) {
    auto value = integer_field(obj, "remaining_ms", 0, kMaxLeaseMs);
    if (!value) return fail(value.error());
    st.remaining_ms = *value;
  }
  auto vms = parse_vms(obj);
  if (!vms) return fail(vms.error());
  st.vms = std::move(*vms);
  auto total = unsigned_field(obj, "fenced_total");
  if (!total) return fail(total.error());
  st.fenced_total = *total;
  return st;
}

}  // namespace

std::string encode_request(const Request& request) {
  json doc{{"v", kProtocolVersion}};
  if (const auto* renew = std::get_if<RenewRequest>(&request)) {
    doc["op"] = "renew";
    doc["lease_ms"] = renew->lease_ms;
    doc["vms"] = vms_json(renew->vms);
  } else if (std::holds_alternative<ClearRequest>(request)) {
    doc["op"] = "clear";
  } else if (std::holds_alternative<StatusRequest>(request)) {
    doc["op"] = "status";
  } else {
    doc["op"] = "shutdown";
  }
  return doc.dump();
}

std::string encode_reply(const Reply& reply) {
  json doc{{"v", kProtocolVersion}, {"ok", reply.ok}};
  if (!reply.ok) doc["error"] = reply.error;
  if (reply.status) {
    const auto& st = *reply.status;
    doc["status"] = json{{"pid", st.pid},
                         {"armed", st.armed},
                         {"lease_ms", st.lease_ms},
                         {"remaining_ms", st.remaining_ms ? json(*st.remaining_ms) : json()},
                         {"vms", vms_json(st.vms)},
                         {"fenced_total", st.fenced_total}};
  }
  // Invalid UTF-8 in an error message (echoed input) must not make dump() throw.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Request> parse_request(std::string_view line) {
  auto doc = parse_object(line);
  if (!doc) return fail(doc.error());
  const auto op = doc->find("op");
  if (op == doc->end() || !op->is_string()) return fail(bad("\"op\" must be a string"));
  const auto& name = op->get_ref<const std::string&>();
  if (name == "renew") {
    RenewRequest renew;
    auto lease = integer_field(*doc, "lease_ms", 0, kMaxLeaseMs);
    if (!lease) return fail(lease.error());
    renew.lease_ms = *lease;
    auto vms = parse_vms(*doc);
    if (!vms) return fail(vms.error());
    renew.vms = std::move(*vms);
    return renew;
  }
  if (name == "clear") return ClearRequest{};
  if (name == "status") return StatusRequest{};
  if (name == "shutdown") return ShutdownRequest{};
  return fail(bad("unknown \"op\""));
}

Result<Reply> parse_reply(std::string_view line) {
  auto doc = parse_object(line);
  if (!doc) return fail(doc.error());
  Reply reply;
  const auto ok = doc->find("ok");
  if (ok == doc->end() || !ok->is_boolean()) return fail(bad("\"ok\" must be a bool"));
  reply.ok = ok->get<bool>();
  if (!reply.ok) {
    const auto err = doc->find("error");
    if (err == doc->end() || !err->is_string()) return fail(bad("\"error\" must be a string"));
    reply.error = err->get<std::string>();
  }
  const auto st = doc->find("status");
  if (st != doc->end()) {
    auto status = parse_status(*st);
    if (!status) return fail(status.error());
    reply.status = std::move(*status);
  }
  return reply;
}

}  // namespace corral::agent::guard
