#include "wire/test_controller.h"

#include <grpcpp/server_builder.h>

#include "wire/credentials.h"
#include "wire/protocol.h"

namespace corral::wire::testing {

TestController::~TestController() {
  drop_streams();  // the handlers end now rather than at the shutdown deadline
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

Result<std::unique_ptr<TestController>> TestController::start(TestControllerOptions options,
                                                              const Clock& clock) {
  std::unique_ptr<TestController> c(new TestController(std::move(options)));
  Result<cluster::CertificateAuthority> ca =
      cluster::CertificateAuthority::load_or_create(c->options_.dir, clock);
  if (!ca) return fail(ca.error());
  c->ca_.emplace(std::move(*ca));
  Result<cluster::CertAndKey> server =
      c->ca_->load_or_issue_server_cert({"localhost", "127.0.0.1"});
  if (!server) return fail(server.error());
  c->token_store_ =
      std::make_unique<cluster::FileJoinTokenStore>(c->options_.dir / "join-tokens.json");
  c->tokens_ =
      std::make_unique<cluster::JoinTokens>(*c->token_store_, clock, c->ca_->fingerprint());
  c->join_service_ = std::make_unique<JoinServiceImpl>(*c->tokens_, *c->ca_);

  const ControllerTls tls{server->cert_pem, server->key_pem, c->ca_->cert_pem()};
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(c->options_.agent_port),
                           agent_port_credentials(tls), &c->agent_port_);
  builder.AddListeningPort("127.0.0.1:0", join_port_credentials(tls), &c->join_port_);
  builder.RegisterService(c.get());
  builder.RegisterService(c->join_service_.get());
  c->server_ = builder.BuildAndStart();
  if (!c->server_ || c->agent_port_ == 0 || c->join_port_ == 0) {
    return fail(Error::internal("the test controller could not listen on 127.0.0.1"));
  }
  return c;
}

int TestController::connects() const {
  std::lock_guard lock(mu_);
  return connects_;
}

std::uint64_t TestController::epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

bool TestController::wait_received(std::size_t count, std::chrono::milliseconds deadline) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, deadline, [&] { return received_.size() >= count; });
}

std::vector<v1::AgentMessage> TestController::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::vector<v1::Hello> TestController::hellos() const {
  std::lock_guard lock(mu_);
  return hellos_;
}

bool TestController::send(const v1::ControllerMessage& message) {
  std::lock_guard write(write_mu_);
  grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* stream = nullptr;
  {
    std::lock_guard lock(mu_);
    stream = newest_;
  }
  return stream != nullptr && stream->Write(message);
}

void TestController::drop_streams() {
  std::lock_guard lock(mu_);
  for (grpc::ServerContext* c : live_) c->TryCancel();
}

grpc::Status TestController::Connect(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* stream) {
  {
    std::lock_guard lock(mu_);
    ++connects_;
  }
  v1::AgentMessage first;
  if (!stream->Read(&first)) return grpc::Status(grpc::StatusCode::CANCELLED, "no Hello");
  {
    std::lock_guard lock(mu_);
    if (first.has_hello()) hellos_.push_back(first.hello());
  }
  if (options_.mute) {
    for (v1::AgentMessage ignored; stream->Read(&ignored);) {
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "mute");
  }
  std::optional<v1::Refuse> refuse = check_hello(first, peer_host(*context));
  if (!refuse && options_.refuse) refuse = options_.refuse;
  if (refuse) {
    v1::ControllerMessage out;
    *out.mutable_refuse() = *refuse;
    stream->Write(out);
    // The status repeats the reason for a client that reads only the status.
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, refuse->message());
  }
  std::uint64_t epoch = 0;
  {
    std::lock_guard lock(mu_);
    epoch = ++epoch_;
  }
  v1::ControllerMessage welcome;
  v1::Welcome* w = welcome.mutable_welcome();
  w->set_epoch(epoch);
  for (const v1::PlacedVm& vm : options_.placed) *w->add_vms() = vm;
  w->set_heartbeat_interval_ms(options_.heartbeat_interval_ms);
  w->set_lease_ms(options_.lease_ms);
  w->set_protocol_version(kProtocolVersion);
  w->set_controller_version("test");
  struct Gone {
    TestController& c;
    grpc::ServerContext* context;
    grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* stream;
    ~Gone() {
      std::lock_guard write(c.write_mu_);
      std::lock_guard lock(c.mu_);
      std::erase(c.live_, context);
      if (c.newest_ == stream) c.newest_ = nullptr;
    }
  } gone{*this, context, stream};
  {
    // The stream is the newest before the Welcome goes out, under the write lock: an agent
    // that has read its Welcome can be sent to at once (send() waits for this block).
    std::lock_guard write(write_mu_);
    {
      std::lock_guard lock(mu_);
      live_.push_back(context);
      newest_ = stream;
    }
    if (!stream->Write(welcome)) return grpc::Status(grpc::StatusCode::CANCELLED, "agent gone");
    for (v1::PhaseRequest request : options_.after_welcome) {
      request.set_epoch(epoch);
      v1::ControllerMessage out;
      *out.mutable_phase_request() = std::move(request);
      if (!stream->Write(out)) return grpc::Status(grpc::StatusCode::CANCELLED, "agent gone");
    }
  }
  for (v1::AgentMessage in; stream->Read(&in);) {
    if (options_.echo_heartbeats && in.has_heartbeat() && in.heartbeat().ping_seq() == 0) {
      v1::ControllerMessage ping;
      ping.mutable_ping()->set_seq(in.heartbeat().seq());
      std::lock_guard write(write_mu_);
      stream->Write(ping);
      continue;  // not recorded: a bench sends many
    }
    std::lock_guard lock(mu_);
    received_.push_back(in);
    changed_.notify_all();
  }
  return grpc::Status::OK;
}

}  // namespace corral::wire::testing
