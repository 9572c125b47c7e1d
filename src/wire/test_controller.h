// A minimal controller for tests and benches: the two ports (agent port with mutual TLS, join
// port with server TLS), the JoinService, and an AgentService.Connect that applies
// check_hello(), answers Welcome (epoch + a fixed VM set), sends the phase requests it was
// given, and records every message the agent sends after. Not the controller: the real
// service (store, engine, host table) is written against the same pieces later.
#pragma once

#include <grpcpp/server.h>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "cluster/join_tokens.h"
#include "cluster/pki.h"
#include "common/clock.h"
#include "wire/agent.grpc.pb.h"
#include "wire/join.h"

namespace corral::wire::testing {

struct TestControllerOptions {
  std::filesystem::path dir;                    // the CA, server certificate and token file go here
  std::vector<v1::PlacedVm> placed;             // the VM set every Welcome carries
  std::vector<v1::PhaseRequest> after_welcome;  // sent right after the Welcome
  bool echo_heartbeats = false;      // answer each periodic Heartbeat with a Ping of its seq
  std::optional<v1::Refuse> refuse;  // answer every Hello that passes check_hello with it
  std::uint32_t heartbeat_interval_ms = 2000;
  std::uint32_t lease_ms = 10'000;
  int agent_port = 0;  // 0: any free port (a restarted controller passes its old one)
  bool mute = false;   // read the Hello, then answer nothing until the agent gives up
};

class TestController final : public v1::AgentService::Service {
 public:
  [[nodiscard]] static Result<std::unique_ptr<TestController>> start(TestControllerOptions options,
                                                                     const Clock& clock);
  ~TestController() override;

  int agent_port() const { return agent_port_; }
  int join_port() const { return join_port_; }
  cluster::JoinTokens& tokens() { return *tokens_; }
  cluster::CertificateAuthority& ca() { return *ca_; }

  // Streams that reached the Connect handler, and those welcomed.
  int connects() const;
  std::uint64_t epoch() const;  // the last epoch given; 0: nobody welcomed
  // Waits until `count` messages came after a Welcome (false at the deadline); the messages.
  bool wait_received(std::size_t count, std::chrono::milliseconds deadline);
  std::vector<v1::AgentMessage> received() const;
  std::vector<v1::Hello> hellos() const;  // every Hello that reached the handler, in order
  // Writes to the newest welcomed stream; false when none is live or the write failed.
  bool send(const v1::ControllerMessage& message);
  // Cancels every live stream (the agent sees its stream broken and reconnects).
  void drop_streams();

  grpc::Status Connect(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* stream) override;

 private:
  explicit TestController(TestControllerOptions options) : options_(std::move(options)) {}

  TestControllerOptions options_;
  std::optional<cluster::CertificateAuthority> ca_;
  std::unique_ptr<cluster::FileJoinTokenStore> token_store_;
  std::unique_ptr<cluster::JoinTokens> tokens_;
  std::unique_ptr<JoinServiceImpl> join_service_;
  std::unique_ptr<grpc::Server> server_;
  int agent_port_ = 0;
  int join_port_ = 0;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  int connects_ = 0;
  std::uint64_t epoch_ = 0;
  std::vector<v1::AgentMessage> received_;
  std::vector<v1::Hello> hellos_;
  std::vector<grpc::ServerContext*> live_;
  grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* newest_ = nullptr;
  std::mutex write_mu_;  // one writer at a time on a stream (the handler or send())
};

}  // namespace corral::wire::testing
