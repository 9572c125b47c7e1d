// Which requests the audit log records, and what of them (audit/audit_log.h).
//
// Recorded: every request but a successful read (GET, HEAD, OPTIONS under 400) and the
// probes (/healthz, /metrics) — so every change, every refusal (401, 403, 404, 409, 429 …)
// and every failure. A VM create, action or delete carries its entry to the engine, which
// commits it with the change (audit/audit_log.h, copy_from_outbox): one commit, no wait of its
// own. Any other change that was accepted waits for its entry's commit before the reply goes
// out; refusals and failures are queued (a flood of bad requests must not hold threads).
#pragma once

#include <string>
#include <string_view>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace corral::audit {
class AuditLog;
}

namespace corral::api::internal {
struct Call;
}

namespace corral::api {

using internal::Call;

bool audited(std::string_view method, std::string_view path, int status);

// The entry `call` will have if the engine accepts its change with reply `status`, encoded
// for the engine's audit outbox (engine::CreateRequest::audit_record); "" without a log.
std::string outbox_record(const audit::AuditLog* log, const Call& call, int status);

// `call`: nullptr when the request never reached a route (unknown route, wrong method, rate
// limited). `route`: the matched route's pattern or "". `message`: the error's, for a refusal.
void audit_request(audit::AuditLog* log, const httplib::Request& req, const httplib::Response& res,
                   const Call* call, std::string_view route, std::string_view message);

}  // namespace corral::api
