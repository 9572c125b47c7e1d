// The API's Prometheus metrics (GET /metrics, common/metrics.h), beside the engine's
// (engine/engine_metrics.h) in the same registry:
//
//   corral_http_requests_total{route, method, code}       requests answered
//   corral_http_request_duration_seconds{route, method}   from the request's first byte read
//                                                          to its reply written
//   corral_vms{project, state}                            VMs now (at the scrape)
//   corral_host_vcpus{host}, corral_host_vcpus_used{host}, corral_host_memory_mib{host},
//   corral_host_memory_mib_used{host}, corral_host_vms{host}, corral_host_up{host, state}
//   corral_audit_dropped_total                            audit entries a flood made it drop
//
// Contract: observe() is lock-free after a route's first request (its children are cached by
// the families); the gauges are computed at the scrape from the engine's committed state.
// `route` is a route's pattern or "unmatched": label values stay few whatever the paths.
#pragma once

#include <string_view>

#include "common/metrics.h"

namespace corral::audit {
class AuditLog;
}
namespace corral::auth {
class Identity;
}
namespace corral::engine {
class Engine;
}

namespace corral::api {

class ApiMetrics {
 public:
  // Everything given must outlive the registry's last render().
  ApiMetrics(MetricsRegistry& registry, const engine::Engine& engine,
             const auth::Identity* identity, const audit::AuditLog* audit);
  void observe(std::string_view route, std::string_view method, int status, double seconds);

 private:
  Family<Counter>& requests_;
  Family<Histogram>& latency_;
};

}  // namespace corral::api
