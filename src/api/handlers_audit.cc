// The audit log over HTTP (audit/audit_log.h): one VM's entries for its project (Nova's
// os-instance-actions), and every entry, filtered, for the cloud's admin.
#include <algorithm>
#include <string>

#include "api/handlers.h"
#include "api/queries.h"
#include "audit/audit_log.h"

namespace corral::api::internal {
namespace {

using json = nlohmann::json;

json entry_json(const audit::Entry& e) {
  const auto text_or_null = [](const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
  };
  return {{"id", e.id},
          {"at", format_time(e.at)},
          {"request_id", e.request_id},
          {"user", text_or_null(e.user)},
          {"project", text_or_null(e.project)},
          {"source", e.source},
          {"method", e.method},
          {"path", e.path},
          {"route", text_or_null(e.route)},
          {"vm", e.vm == 0 ? json(nullptr) : json(e.vm)},
          {"verb", e.verb},
          {"vocabulary", e.vocabulary},
          {"status", e.status},
          {"outcome", std::string(audit::outcome_name(e.outcome))},
          {"message", text_or_null(e.message)}};
}

Result<audit::AuditLog*> log_of(const Context& ctx) {
  if (ctx.options.audit == nullptr) {
    return fail(Error{ErrorCode::kUnavailable, "this server keeps no audit log", {}, {}});
  }
  return ctx.options.audit;
}

HandlerResult reply_with(Result<std::vector<audit::Entry>> entries) {
  if (!entries) return failure(std::move(entries.error()));
  json actions = json::array();
  for (const audit::Entry& e : *entries) actions.push_back(entry_json(e));
  return Reply{200, {{"actions", std::move(actions)}}};
}

}  // namespace

HandlerResult vm_actions(Context& ctx, Call& call) {
  Result<HistoryQuery> page = parse_history_query(call.req.params);
  if (!page) return failure(std::move(page.error()));
  auto vm = visible_vm(ctx, call, call.args[0]);
  if (!vm) return std::unexpected(std::move(vm.error()));
  Result<audit::AuditLog*> log = log_of(ctx);
  if (!log) return failure(std::move(log.error()));
  // Since the VM was made: an id probed before it existed named another (or no) VM.
  return reply_with((*log)->list(
      {.vm = vm->id, .since = vm->created_at, .after = page->after, .limit = page->limit}));
}

HandlerResult audit_log(Context& ctx, Call& call) {
  static constexpr std::string_view kKnown[] = {"after", "limit",   "vm",   "project",
                                                "user",  "outcome", "since"};
  for (const auto& [key, value] : call.req.params) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return failure(
          Error::invalid_argument("unknown query parameter '" + key.substr(0, 64) +
                                  "' (known: after, limit, vm, project, user, outcome, since)"));
    }
  }
  QueryParams paging;
  for (const char* key : {"after", "limit"}) {
    if (call.req.has_param(key)) paging.emplace(key, call.req.get_param_value(key));
  }
  Result<HistoryQuery> page = parse_history_query(paging);
  if (!page) return failure(std::move(page.error()));
  audit::Query query{.after = page->after, .limit = page->limit};
  if (call.req.has_param("vm")) {
    const std::optional<std::int64_t> vm = parse_id(call.req.get_param_value("vm"));
    if (!vm) return failure(Error::invalid_argument("query parameter 'vm' must be a VM id"));
    query.vm = *vm;
  }
  if (call.req.has_param("project")) {
    const std::optional<auth::Project> p =
        ctx.identity->find_project(call.req.get_param_value("project"));
    if (!p) {
      return failure(
          Error::not_found("no project " + call.req.get_param_value("project").substr(0, 64)));
    }
    query.project = p->id;
  }
  if (call.req.has_param("user")) query.user = call.req.get_param_value("user");
  if (call.req.has_param("outcome")) {
    const std::string o = call.req.get_param_value("outcome");
    for (audit::Outcome known :
         {audit::Outcome::kAccepted, audit::Outcome::kRefused, audit::Outcome::kFailed}) {
      if (o == audit::outcome_name(known)) query.outcome = known;
    }
    if (!query.outcome) {
      return failure(
          Error::invalid_argument("query parameter 'outcome' must be accepted, refused or failed"));
    }
  }
  if (call.req.has_param("since")) {
    const std::optional<Millis> t = parse_time(call.req.get_param_value("since"));
    if (!t) {
      return failure(Error::invalid_argument(
          "query parameter 'since' must be a UTC time: 2026-12-01 or 2026-12-01T00:00:00Z"));
    }
    query.since = *t;
  }
  Result<audit::AuditLog*> log = log_of(ctx);
  if (!log) return failure(std::move(log.error()));
  return reply_with((*log)->list(query));
}

}  // namespace corral::api::internal
