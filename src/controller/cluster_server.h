// ClusterServer: the controller's two agent-facing ports inside `corral server`.
//
// Contract:
// - On first start it creates the cluster CA in `dir` (<data-dir>/cluster, cluster/pki.h) and
//   the controller's server certificate for localhost, 127.0.0.1, the machine's host name and
//   the listen hosts; later starts reuse them (agents trust that CA).
// - The agent port (--agent-listen, default 127.0.0.1:8781) serves AgentService.Connect with
//   mutual TLS (a client certificate of this cluster or no handshake); the join port
//   (--join-listen, default 127.0.0.1:8782) serves JoinService.Join with server TLS only.
//   Two gRPC servers, so neither service is reachable on the other's port.
// - No SO_REUSEPORT: a second controller on the same port fails to start, naming the address.
//   HTTP/2 keepalive pings find dead peers (an agent whose host vanished).
// - Port 0 picks a free port; the bound addresses are written to <dir>/ports.json
//   ({"agent": "HOST:PORT", "join": "HOST:PORT"}) for tests and tools, and returned.
// - stop() (or the destructor) cancels the agent streams and shuts both servers down.
// - start() switches Abseil's mutex deadlock detection off for the whole process (a debugging
//   aid Debian's Abseil leaves on; it cost the controller ~1 point of a core with 1,000 agents).
#pragma once

#include <grpcpp/server.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cluster/join_tokens.h"
#include "cluster/pki.h"
#include "common/clock.h"
#include "common/result.h"
#include "controller/agent_registry.h"
#include "controller/agent_service.h"
#include "driver/driver.h"
#include "wire/join.h"

namespace corral::controller {

struct ClusterServerOptions {
  std::filesystem::path dir;  // <data-dir>/cluster
  std::string agent_listen = "127.0.0.1:8781";
  std::string join_listen = "127.0.0.1:8782";
  AgentServiceOptions agents;
};

class ClusterServer {
 public:
  // Errors: kInvalidArgument for a malformed address, kUnavailable when a port cannot be
  // bound (naming it), the PKI's errors for an unusable CA directory.
  [[nodiscard]] static Result<std::unique_ptr<ClusterServer>> start(ClusterServerOptions options,
                                                                    AgentRegistry& registry,
                                                                    driver::DriverSink& sink,
                                                                    const Clock& clock);
  ~ClusterServer();
  ClusterServer(const ClusterServer&) = delete;
  ClusterServer& operator=(const ClusterServer&) = delete;

  void stop();

  const std::string& agent_address() const { return agent_address_; }  // as bound
  const std::string& join_address() const { return join_address_; }
  int agent_port() const { return agent_port_; }
  int join_port() const { return join_port_; }
  AgentService& agents() { return *agents_; }
  cluster::JoinTokens& tokens() { return *tokens_; }
  cluster::CertificateAuthority& ca() { return *ca_; }

 private:
  ClusterServer() = default;

  std::optional<cluster::CertificateAuthority> ca_;
  std::unique_ptr<cluster::FileJoinTokenStore> token_store_;
  std::unique_ptr<cluster::JoinTokens> tokens_;
  std::unique_ptr<wire::JoinServiceImpl> join_service_;
  std::unique_ptr<AgentService> agents_;
  std::unique_ptr<grpc::Server> agent_server_;
  std::unique_ptr<grpc::Server> join_server_;
  std::string agent_address_;
  std::string join_address_;
  int agent_port_ = 0;
  int join_port_ = 0;
  bool stopped_ = false;
};

}  // namespace corral::controller
