#include "controller/cluster_server.h"

#include <absl/synchronization/mutex.h>
#include <grpc/grpc.h>
#include <grpcpp/server_builder.h>

#include <nlohmann/json.hpp>

#include "cluster/files.h"
#include "cluster/server_names.h"
#include "common/log.h"
#include "daemon/address.h"
#include "wire/credentials.h"

namespace corral::controller {
namespace {

void tune(grpc::ServerBuilder& builder) {
  // A second controller on the same port must fail, not share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Ping idle connections so a vanished agent's stream ends (the engine's down-timeout still
  // decides the host's state; this only frees the stream).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Agents ping too (their own keepalive): allow it every 5 s without closing them.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // No bandwidth-delay probing: the stream carries small messages, and each probe is an
  // HTTP/2 PING the other side must answer (it halved the controller's CPU with 1,000 agents
  // in corral-bench-agents).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
}

}  // namespace

Result<std::unique_ptr<ClusterServer>> ClusterServer::start(ClusterServerOptions options,
                                                            AgentRegistry& registry,
                                                            driver::DriverSink& sink,
                                                            const Clock& clock) {
  const std::optional<daemon::HostPort> agent = daemon::parse_host_port(options.agent_listen);
  if (!agent) {
    return fail(
        Error::invalid_argument("--agent-listen wants HOST:PORT (e.g. 127.0.0.1:8781), "
                                "not '" +
                                options.agent_listen + "'"));
  }
  const std::optional<daemon::HostPort> join = daemon::parse_host_port(options.join_listen);
  if (!join) {
    return fail(
        Error::invalid_argument("--join-listen wants HOST:PORT (e.g. 127.0.0.1:8782), "
                                "not '" +
                                options.join_listen + "'"));
  }
  // Debian builds Abseil without NDEBUG, so every absl::Mutex gRPC takes (several per message)
  // also maintains a global lock-order graph under a global spinlock: 5-10% of the controller's
  // CPU with 1,000 agents (corral-bench-agents). The graph only reports cycles; it does not
  // prevent any, so it is switched off for the process.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::unique_ptr<ClusterServer> s(new ClusterServer());
  Result<cluster::CertificateAuthority> ca =
      cluster::CertificateAuthority::load_or_create(options.dir, clock);
  if (!ca) return fail(ca.error());
  s->ca_.emplace(std::move(*ca));
  const std::vector<std::string> names = cluster::server_cert_names({agent->host, join->host});
  Result<cluster::CertAndKey> server_cert = s->ca_->load_or_issue_server_cert(names);
  if (!server_cert) return fail(server_cert.error());
  s->token_store_ = std::make_unique<cluster::FileJoinTokenStore>(options.dir / "join-tokens.json");
  s->tokens_ =
      std::make_unique<cluster::JoinTokens>(*s->token_store_, clock, s->ca_->fingerprint());
  s->join_service_ = std::make_unique<wire::JoinServiceImpl>(*s->tokens_, *s->ca_);
  s->agents_ = std::make_unique<AgentService>(registry, sink, clock, options.agents);

  const wire::ControllerTls tls{server_cert->cert_pem, server_cert->key_pem, s->ca_->cert_pem()};
  {
    grpc::ServerBuilder builder;
    tune(builder);
    builder.AddListeningPort(daemon::host_port_text(agent->host, agent->port),
                             wire::agent_port_credentials(tls), &s->agent_port_);
    builder.RegisterService(s->agents_.get());
    s->agent_server_ = builder.BuildAndStart();
    if (!s->agent_server_ || s->agent_port_ == 0) {
      return fail(Error{ErrorCode::kUnavailable,
                        "cannot listen for agents on " + options.agent_listen +
                            " (address in use or not permitted)",
                        {},
                        {}});
    }
  }
  {
    grpc::ServerBuilder builder;
    tune(builder);
    builder.AddListeningPort(daemon::host_port_text(join->host, join->port),
                             wire::join_port_credentials(tls), &s->join_port_);
    builder.RegisterService(s->join_service_.get());
    s->join_server_ = builder.BuildAndStart();
    if (!s->join_server_ || s->join_port_ == 0) {
      return fail(Error{ErrorCode::kUnavailable,
                        "cannot listen for joining agents on " + options.join_listen +
                            " (address in use or not permitted)",
                        {},
                        {}});
    }
  }
  s->agent_address_ = daemon::host_port_text(agent->host, s->agent_port_);
  s->join_address_ = daemon::host_port_text(join->host, s->join_port_);
  const nlohmann::json ports = {{"agent", s->agent_address_}, {"join", s->join_address_}};
  if (Status written =
          cluster::write_file_atomic(options.dir / "ports.json", ports.dump() + "\n", 0644);
      !written) {
    return fail(written.error());
  }
  return s;
}

ClusterServer::~ClusterServer() { stop(); }

void ClusterServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Streams first (they are long-lived: Shutdown would wait for them), then the servers.
  if (agents_) agents_->shutdown();
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(2);
  if (agent_server_) agent_server_->Shutdown(deadline);
  if (join_server_) join_server_->Shutdown(deadline);
}

}  // namespace corral::controller
