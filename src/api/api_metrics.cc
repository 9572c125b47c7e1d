#include "api/api_metrics.h"

#include <string>

#include "audit/audit_log.h"
#include "auth/identity.h"
#include "engine/engine.h"
#include "lifecycle/host_table.h"

namespace corral::api {

namespace lc = corral::lifecycle;

namespace {

std::string project_label(const auth::Identity* identity, store::ProjectId id) {
  if (identity != nullptr) {
    if (std::optional<auth::Project> p = identity->find_project(std::to_string(id))) return p->name;
  }
  return std::to_string(id);
}

void collect_vms(Collector& out, const engine::Engine& engine, const auth::Identity* identity) {
  std::vector<Collector::Sample> samples;
  for (const auto& [key, count] : engine.vm_counts()) {
    samples.push_back(
        {{project_label(identity, key.first), std::string(lc::state_name(key.second))},
         static_cast<double>(count)});
  }
  out.emit("corral_vms", "VMs by project and state (OpenNebula's STATE).", MetricType::kGauge,
           {"project", "state"}, std::move(samples));
}

void collect_hosts(Collector& out, const engine::Engine& engine) {
  std::vector<Collector::Sample> vcpus, vcpus_used, memory, memory_used, vms, up;
  for (const engine::HostDetail& h : engine.host_details()) {
    const std::string& name = h.row.name;
    vcpus.push_back({{name}, static_cast<double>(h.row.capacity.vcpus)});
    vcpus_used.push_back({{name}, static_cast<double>(h.used_vcpus)});
    memory.push_back({{name}, static_cast<double>(h.row.capacity.memory_mib)});
    memory_used.push_back({{name}, static_cast<double>(h.used_memory_mib)});
    vms.push_back({{name}, static_cast<double>(h.vms.size())});
    up.push_back({{name, std::string(lc::host_state_name(h.row.state))}, h.up ? 1.0 : 0.0});
  }
  out.emit("corral_host_vcpus", "A host's vCPUs (its capacity).", MetricType::kGauge, {"host"},
           std::move(vcpus));
  out.emit("corral_host_vcpus_used", "vCPUs claimed by the VMs placed on a host.",
           MetricType::kGauge, {"host"}, std::move(vcpus_used));
  out.emit("corral_host_memory_mib", "A host's memory in MiB (its capacity).", MetricType::kGauge,
           {"host"}, std::move(memory));
  out.emit("corral_host_memory_mib_used", "Memory in MiB claimed by the VMs placed on a host.",
           MetricType::kGauge, {"host"}, std::move(memory_used));
  out.emit("corral_host_vms", "VMs placed on a host.", MetricType::kGauge, {"host"},
           std::move(vms));
  out.emit("corral_host_up", "1 if the host was heard within its down-timeout, by host state.",
           MetricType::kGauge, {"host", "state"}, std::move(up));
}

}  // namespace

ApiMetrics::ApiMetrics(MetricsRegistry& registry, const engine::Engine& engine,
                       const auth::Identity* identity, const audit::AuditLog* audit)
    : requests_(registry.counter("corral_http_requests_total",
                                 "HTTP requests answered, by route, method and status.",
                                 {"route", "method", "code"})),
      latency_(registry.histogram("corral_http_request_duration_seconds",
                                  "From reading an HTTP request to writing its reply.",
                                  default_latency_buckets(), {"route", "method"})) {
  registry.add_collector([&engine, identity](Collector& out) {
    collect_vms(out, engine, identity);
    collect_hosts(out, engine);
  });
  if (audit != nullptr) {
    registry.add_collector([audit](Collector& out) {
      out.emit("corral_audit_dropped_total",
               "Audit entries of refusals dropped because too many were queued.",
               MetricType::kCounter, {}, {{{}, static_cast<double>(audit->dropped())}});
    });
  }
}

void ApiMetrics::observe(std::string_view route, std::string_view method, int status,
                         double seconds) {
  const std::string code = std::to_string(status);
  requests_.with({route, method, code}).inc();
  latency_.with({route, method}).observe(seconds);
}

}  // namespace corral::api
