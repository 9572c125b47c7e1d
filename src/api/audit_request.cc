#include "api/audit_request.h"

#include <httplib.h>

#include "api/handlers.h"
#include "api/queries.h"
#include "audit/audit_log.h"
#include "audit/entry_codec.h"
#include "common/log.h"

namespace corral::api {

namespace {
constexpr std::string_view kRequestIdHeader = "X-Request-Id";
constexpr std::size_t kMaxText = 256;  // a hostile path or message is cut, not stored whole

std::string cut(std::string_view text) { return std::string(text.substr(0, kMaxText)); }
}  // namespace

bool audited(std::string_view method, std::string_view path, int status) {
  if (path == "/healthz" || path == "/metrics") return false;
  const bool read = method == "GET" || method == "HEAD" || method == "OPTIONS";
  return !read || status >= 400;
}

namespace {

// The entry of a request as its reply stands (`status`; `message` for a refusal).
audit::Entry entry_of(const httplib::Request& req, const httplib::Response& res, const Call* call,
                      std::string_view route, int status, std::string_view message) {
  audit::Entry e;
  e.at = SystemClock().now_ms();
  e.request_id = res.get_header_value(std::string(kRequestIdHeader).c_str());
  e.source = req.remote_addr;
  e.method = cut(req.method);
  e.path = cut(req.path);
  e.route = std::string(route);
  e.status = status;
  e.outcome = audit::outcome_of_status(status);
  if (e.outcome != audit::Outcome::kAccepted) e.message = cut(message);
  e.vocabulary = "corral";
  if (call != nullptr) {
    if (const auth::Principal* who = call->who()) {
      e.user_id = who->user;
      e.user = who->user_name;
      e.project_id = who->project;
      e.project = who->project_name;
    } else {
      e.user = cut(call->audit.user);
    }
    e.vm = call->audit.vm;
    if (e.vm == 0 && route.starts_with("/v1/vms/{id}") && !call->args.empty()) {
      // The VM the path names, found or not: its owners see who tried.
      if (std::optional<std::int64_t> id = parse_id(call->args[0])) e.vm = *id;
    }
    e.verb = cut(call->audit.verb);
    if (!call->audit.vocabulary.empty()) e.vocabulary = call->audit.vocabulary;
  }
  if (e.verb.empty()) e.verb = e.method + " " + (route.empty() ? e.path : e.route);
  return e;
}

}  // namespace

std::string outbox_record(const audit::AuditLog* audit_log, const Call& call, int status) {
  if (audit_log == nullptr) return {};
  return audit::encode_entry(entry_of(call.req, call.res, &call, call.route, status, ""));
}

void audit_request(audit::AuditLog* audit_log, const httplib::Request& req,
                   const httplib::Response& res, const Call* call, std::string_view route,
                   std::string_view message) {
  if (audit_log == nullptr || !audited(req.method, req.path, res.status)) return;
  audit::Entry e = entry_of(req, res, call, route, res.status, message);
  if (e.outcome == audit::Outcome::kAccepted) {
    // Committed with the change it asked for (EngineOptions::audit_sink): copied in already.
    if (call != nullptr && call->audit.in_outbox) return;
    if (Status written = audit_log->record(std::move(e)); !written) {
      log(LogLevel::kWarn, "audit",
          {{"msg", "entry not written"}, {"error", written.error().message}});
    }
    return;
  }
  audit_log->record_later(std::move(e));
}

}  // namespace corral::api
