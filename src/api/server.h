// The HTTP API v1 server (docs/api.md): routing, request ids, limits, JSON replies.
//
// Contract:
// - Handlers run on the HTTP thread pool; they parse and validate, then read the engine's
//   committed state (get, list, hosts) or call its blocking create()/act(). Nothing else
//   waits on the engine thread; the event stream only enqueues on it (api/events.h).
// - Every reply is JSON (Content-Type application/json) except GET /v1/events
//   (text/event-stream); every reply carries X-Request-Id (the caller's if sane, else a new
//   "req-<16 hex>"), which is also passed to the engine with the command.
// - Every error goes through api::to_http (api/errors.h), including the library's own
//   (unknown route 404, wrong method 405, body over 64 KiB 413, malformed HTTP 400).
// - Path ids that are not 1-18 decimal digits name nothing: 404, like unknown ids.
// - Images and the console are asked of the VM's host through a driver::HostServicesRouter
//   (driver/host_services.h): the driver's own hosts locally, agent hosts through
//   ServerOptions::remote_hosts.
// - /v1/admin/* exists only when a FaultInjector (the sim) is given (404 otherwise).
// - HTTPS when ServerOptions::tls is given (TLS 1.2 and up, api/tls.h), plain HTTP otherwise:
//   which one, and on which address, is the server command's decision (cli/server_command.h).
// - bind() then run() (blocks); stop() from any thread (not a signal handler) ends the event
//   streams, stops accepting, and makes run() return once the connections in flight are done.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "api/front_end.h"
#include "auth/identity.h"
#include "common/result.h"
#include "driver/driver.h"
#include "engine/engine.h"

namespace corral {
class MetricsRegistry;
}
namespace corral::audit {
class AuditLog;
}
namespace corral::driver {
class RemoteHostServicesSource;
}
namespace corral::driver::sim {
class FaultInjector;
}

namespace corral::api {

// How agents join (POST /v1/hosts, /v1/hosts/{name}/join-token): the cluster's join tokens and
// the addresses an agent dials. The server command implements it over the cluster server;
// while it is not ready (or not configured) its calls fail with kUnavailable.
class HostJoin {
 public:
  virtual ~HostJoin() = default;
  // A one-time token bound to `host` (cluster/join_tokens.h).
  [[nodiscard]] virtual Result<std::string> issue_token(const std::string& host) = 0;
  virtual std::string agent_address() const = 0;  // HOST:PORT, as bound
  virtual std::string join_address() const = 0;
};

// The certificate (PEM; the leaf first, then any chain) and private key (PEM) the API serves
// HTTPS with.
struct TlsIdentity {
  std::string cert_pem;
  std::string key_pem;
};

struct ServerOptions {
  // HTTPS with this identity; nullopt: plain HTTP.
  std::optional<TlsIdentity> tls;
  // Who may call what (auth/identity.h, api/policy.h). Required: without it, every route but
  // the public ones (GET /healthz, POST /v1/auth/tokens) answers 401.
  auth::Identity* identity = nullptr;
  // When set, every request acts as this principal and no token is read (Nova's noauth2):
  // `corral server --no-auth`, plain HTTP on loopback only, for benchmarks that measure what
  // authentication costs. Audit, policy and rate limits still apply to it.
  std::optional<auth::Principal> no_auth;
  // Where every request but a successful read is recorded (audit/audit_log.h); nullptr: none
  // (GET /v1/vms/{id}/actions and /v1/audit answer 503).
  audit::AuditLog* audit = nullptr;
  // Where the API's and the VMs' figures go (api/api_metrics.h) and GET /metrics reads them;
  // nullptr: GET /metrics answers 503.
  MetricsRegistry* metrics = nullptr;
  HostJoin* host_join = nullptr;  // nullptr: hosts are added without a token
  // The agent hosts' images and consoles (controller/remote_services.h); nullptr: this
  // process's driver serves every host.
  driver::RemoteHostServicesSource* remote_hosts = nullptr;
  std::size_t threads = 128;  // connections served at once (keep-alive and SSE hold one each)
  std::chrono::milliseconds heartbeat{15'000};  // SSE comment when no event came
  std::size_t event_queue_limit = 4096;         // events an SSE client may lag before dropped
  // An idle keep-alive connection is closed after this many seconds. Not 5: clients that poll
  // every 5 s (the openstack command's --wait) sent their next request on the connection the
  // server was closing that instant and failed with "connection aborted". It holds one of
  // `threads` per idle client, so not much longer; a stop does not wait for it (stop() ends
  // idle connections at once).
  int keep_alive_timeout_s = 20;
  // Requests a second per client address after a burst (api/rate_limit.h); 0: no limit.
  // GET /healthz is never limited.
  double rate_limit = 5000;
  double rate_burst = 10000;
  // And per token and per project, for every caller but the cloud's admin (whose project has
  // no quotas either): one user's script cannot take the whole API from the others.
  double token_rate_limit = 500;
  double token_rate_burst = 1000;
  double project_rate_limit = 1000;
  double project_rate_burst = 2000;
  // The network namespace users reach the VMs' networks from (their gateways' side: `ip netns
  // exec NS ssh root@IP`), shown as each network's "namespace"; empty: none on this machine.
  std::string network_namespace;
  // Other clouds' APIs served on the same port under their prefixes (api/front_end.h); each
  // must outlive the Server.
  std::vector<FrontEnd*> front_ends;
};

class Server {
 public:
  // `faults` (the sim) enables /v1/admin (may be nullptr). Everything given must outlive the
  // Server.
  Server(engine::Engine& engine, driver::Driver& driver, driver::sim::FaultInjector* faults,
         const ServerOptions& options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (port 0: any free port). Errors: kUnavailable naming the address and
  // the reason (in use, cannot resolve, not permitted); kInvalidArgument when the TLS
  // identity cannot be used (nothing is bound then).
  [[nodiscard]] Status bind(const std::string& host, int port);
  // The port bound (after bind()).
  int port() const;
  // Whether it serves HTTPS ("https") or plain HTTP ("http").
  const char* scheme() const;
  // Serves until stop(). Errors: kUnavailable if the listening socket fails.
  [[nodiscard]] Status run();
  // Safe from any thread, any number of times.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::api
