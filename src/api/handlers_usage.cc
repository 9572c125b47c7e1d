// GET /v1/usage: what a project's VMs used over a window, from the history (engine/usage.h):
// hours per billing class (lifecycle/billing.h; ?billing= picks the table), vCPU- and
// memory-hours, per VM and per project — and Nova's os-simple-tenant-usage body beside it
// (hours the VM existed, whatever its state, at its latest size: Nova's own definition).
#include <map>
#include <string>

#include "api/handlers.h"
#include "api/policy.h"

namespace corral::api::internal {
namespace {

namespace lc = corral::lifecycle;
using json = nlohmann::json;

constexpr std::array<lc::Billing, 3> kClasses = {lc::Billing::kNotBilled,
                                                 lc::Billing::kBilledHardwareOnly,
                                                 lc::Billing::kBilledHardwareAndSoftware};

json classes_json(const std::array<lc::ClassUsage, 3>& by_class) {
  json out = json::object();
  for (lc::Billing b : kClasses) {
    const lc::ClassUsage& u = by_class[static_cast<std::size_t>(b)];
    out[std::string(lc::billing_name(b))] = {
        {"hours", u.hours}, {"vcpu_hours", u.vcpu_hours}, {"memory_mib_hours", u.memory_mib_hours}};
  }
  return out;
}

json time_or_null(std::optional<Millis> t) { return t ? json(format_time(*t)) : json(nullptr); }

Result<Millis> time_param(const Call& call, const char* name, Millis fallback) {
  if (!call.req.has_param(name)) return fallback;
  const std::string text = call.req.get_param_value(name);
  const std::optional<Millis> t = parse_time(text);
  if (!t) {
    return fail(Error::invalid_argument(std::string("query parameter '") + name +
                                        "' must be a UTC time: 2026-12-01 or "
                                        "2026-12-01T00:00:00[.fff][Z]"));
  }
  return *t;
}

// The first instant of the current month (UTC): Nova's and OpenNebula's usual period.
Millis month_start(Millis now) {
  const std::time_t seconds = static_cast<std::time_t>(now / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  return static_cast<Millis>(timegm(&tm)) * 1000;
}

}  // namespace

HandlerResult usage(Context& ctx, Call& call) {
  static constexpr std::string_view kKnown[] = {"project", "all_projects", "from", "to", "billing"};
  for (const auto& [key, value] : call.req.params) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return failure(Error::invalid_argument("unknown query parameter '" + key.substr(0, 64) +
                                             "' (from, to, billing, project, all_projects)"));
    }
  }
  Result<std::optional<store::ProjectId>> scope = list_scope(ctx, call);
  if (!scope) return failure(std::move(scope.error()));
  lc::BillingTable table = lc::kDefaultBillingTable;
  if (call.req.has_param("billing")) {
    const std::optional<lc::BillingTable> t =
        lc::parse_billing_table(call.req.get_param_value("billing"));
    if (!t) {
      return failure(Error::invalid_argument(
          "query parameter 'billing' must be azure-2021, azure-current or opennebula-showback"));
    }
    table = *t;
  }
  const Millis now = SystemClock().now_ms();
  Result<Millis> from = time_param(call, "from", month_start(now));
  Result<Millis> to = time_param(call, "to", now);
  if (!from) return failure(std::move(from.error()));
  if (!to) return failure(std::move(to.error()));
  if (*to <= *from) return failure(Error::invalid_argument("'to' must be after 'from'"));
  const Millis until = std::min(*to, now);  // Nova caps the end at now

  Result<std::vector<engine::VmUsageReport>> reports =
      ctx.engine.usage({*scope, table, *from, until});
  if (!reports) return failure(std::move(reports.error()));

  struct ProjectTotals {
    lc::UsageTotals totals;
    json servers = json::array();
    json nova_servers = json::array();
    double nova_vcpu_hours = 0;
    double nova_memory_mb_hours = 0;
  };
  std::map<store::ProjectId, ProjectTotals> projects;
  for (const engine::VmUsageReport& r : *reports) {
    ProjectTotals& p = projects[r.vm.project];
    p.totals += r.usage;
    p.servers.push_back({{"id", r.vm.id},
                         {"name", r.vm.name},
                         {"state", std::string(lc::state_name(r.vm.record.state))},
                         {"vcpus", r.usage.vcpus},
                         {"memory_mib", r.usage.memory_mib},
                         {"existed_hours", r.usage.existed_hours},
                         {"started_at", time_or_null(r.usage.started_at)},
                         {"ended_at", time_or_null(r.usage.ended_at)},
                         {"by_class", classes_json(r.usage.by_class)}});
    const lc::NovaView nova = lc::nova_view(r.vm.record);
    const bool ended = r.usage.ended_at.has_value();
    const Millis end = ended ? *r.usage.ended_at : until;
    p.nova_vcpu_hours += r.usage.vcpus * r.usage.existed_hours;
    p.nova_memory_mb_hours += static_cast<double>(r.usage.memory_mib) * r.usage.existed_hours;
    p.nova_servers.push_back({{"instance_id", std::to_string(r.vm.id)},
                              {"name", r.vm.name},
                              {"tenant_id", std::to_string(r.vm.project)},
                              {"vcpus", r.usage.vcpus},
                              {"memory_mb", r.usage.memory_mib},
                              {"local_gb", 0},
                              {"hours", r.usage.existed_hours},
                              {"started_at", time_or_null(r.usage.started_at)},
                              {"ended_at", time_or_null(r.usage.ended_at)},
                              {"state", ended ? std::string("terminated")
                                              : std::string(lc::nova_vm_state_name(nova.vm_state))},
                              {"uptime", std::max<Millis>(0, end - r.usage.started_at) / 1000}});
  }
  json out_projects = json::array();
  json tenant_usages = json::array();
  for (auto& [id, p] : projects) {
    const std::optional<auth::Project> named =
        ctx.identity ? ctx.identity->find_project(std::to_string(id)) : std::nullopt;
    out_projects.push_back({{"project", {{"id", id}, {"name", named ? named->name : ""}}},
                            {"vms", p.totals.vms},
                            {"existed_hours", p.totals.existed_hours},
                            {"by_class", classes_json(p.totals.by_class)},
                            {"servers", std::move(p.servers)}});
    tenant_usages.push_back({{"tenant_id", std::to_string(id)},
                             {"start", format_time(*from)},
                             {"stop", format_time(until)},
                             {"total_hours", p.totals.existed_hours},
                             {"total_vcpus_usage", p.nova_vcpu_hours},
                             {"total_memory_mb_usage", p.nova_memory_mb_hours},
                             {"total_local_gb_usage", 0},
                             {"server_usages", std::move(p.nova_servers)}});
  }
  return Reply{200,
               {{"billing_table", std::string(lc::billing_table_name(table))},
                {"from", format_time(*from)},
                {"to", format_time(until)},
                {"projects", std::move(out_projects)},
                {"tenant_usages", std::move(tenant_usages)}}};
}

}  // namespace corral::api::internal
