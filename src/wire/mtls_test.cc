// The agent protocol over real gRPC, in one process, on loopback ports: a test controller
// (wire/test_controller.h) and agents that join with a token and connect with mutual TLS.
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "cluster/files.h"
#include "cluster/test_dir.h"
#include "cluster/tls_dial.h"
#include "wire/join.h"
#include "wire/protocol.h"
#include "wire/rpc_status.h"
#include "wire/test_controller.h"

namespace corral::wire {
namespace {

namespace fs = std::filesystem;
using cluster::testing::TempDir;
using testing::TestController;
using testing::TestControllerOptions;
using Stream = grpc::ClientReaderWriter<v1::AgentMessage, v1::ControllerMessage>;

constexpr auto kWait = std::chrono::seconds(20);  // a deadline against hangs, not a timing claim

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

v1::AgentMessage hello(const std::string& host, std::uint32_t version = kProtocolVersion) {
  v1::AgentMessage m;
  v1::Hello* h = m.mutable_hello();
  h->set_protocol_version(version);
  h->set_agent_version("0.1.0");
  h->set_host(host);
  h->mutable_capacity()->set_vcpus(8);
  h->mutable_capacity()->set_memory_mib(16384);
  (*h->mutable_labels())["zone"] = "a";
  v1::RunningVm* vm = h->add_vms();
  vm->set_vm(7);
  vm->set_power(v1::POWER_RUNNING);
  vm->set_pid(4242);
  h->set_driver("sim");
  return m;
}

// An agent's side of one Connect call.
struct AgentCall {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AgentService::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream;

  AgentCall(int port, const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), credentials);
    stub = v1::AgentService::NewStub(channel);
    context.set_deadline(std::chrono::system_clock::now() + kWait);
    stream = stub->Connect(&context);
  }
  // Ends the call; the status, as the agent would report it.
  grpc::Status finish() {
    stream->WritesDone();
    for (v1::ControllerMessage ignored; stream->Read(&ignored);) {
    }
    return stream->Finish();
  }
};

class WireMtls : public ::testing::Test {
 protected:
  void SetUp() override {
    TestControllerOptions options;
    options.dir = tmp_.path() / "controller";
    v1::PlacedVm placed;
    placed.set_vm(7);
    placed.set_state(v1::STATE_RUNNING);
    placed.set_power(v1::POWER_RUNNING);
    placed.mutable_model()->set_vcpus(1);
    placed.mutable_model()->set_memory_mib(128);
    placed.mutable_model()->set_image("tiny");
    options.placed.push_back(placed);
    v1::PhaseRequest pause;
    pause.set_vm(7);
    pause.set_op(31);
    pause.set_step(1);
    pause.set_attempt(2);
    pause.set_action(v1::ACTION_SNAPSHOT);
    pause.set_phase(v1::PHASE_SNAPSHOT);
    pause.set_origin(v1::STATE_RUNNING);
    *pause.mutable_model() = placed.model();
    pause.set_host("node-1");
    pause.set_power_after(v1::POWER_RUNNING);
    pause.mutable_named()->set_name("before-upgrade");
    options.after_welcome.push_back(pause);
    Result<std::unique_ptr<TestController>> started = TestController::start(options, clock_);
    ASSERT_TRUE(started) << started.error().message;
    controller_ = std::move(*started);
  }

  Result<AgentIdentity> join(const std::string& token) {
    Result<std::string> key = cluster::generate_private_key();
    if (!key) return fail(key.error());
    return join_cluster("127.0.0.1", controller_->join_port(), token, *key, clock_);
  }

  TempDir tmp_;
  FakeClock clock_{SystemClock().now_ms()};  // certificates are checked against real time by TLS
  std::unique_ptr<TestController> controller_;
};

TEST_F(WireMtls, AJoinedAgentIsWelcomedAndAnswersAPhaseRequest) {
  Result<std::string> token = controller_->tokens().issue("node-1");
  ASSERT_TRUE(token) << token.error().message;
  Result<AgentIdentity> id = join(*token);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->host, "node-1");
  EXPECT_EQ(id->ca_pem, controller_->ca().cert_pem());

  AgentCall call(controller_->agent_port(), agent_channel_credentials(*id));
  ASSERT_TRUE(call.stream->Write(hello("node-1")));
  v1::ControllerMessage in;
  ASSERT_TRUE(call.stream->Read(&in));
  ASSERT_TRUE(in.has_welcome()) << in.DebugString();
  EXPECT_EQ(in.welcome().epoch(), 1U);
  ASSERT_EQ(in.welcome().vms_size(), 1);
  EXPECT_EQ(in.welcome().vms(0).vm(), 7);
  EXPECT_EQ(in.welcome().vms(0).state(), v1::STATE_RUNNING);
  EXPECT_GT(in.welcome().lease_ms(), in.welcome().heartbeat_interval_ms());

  ASSERT_TRUE(call.stream->Read(&in));
  ASSERT_TRUE(in.has_phase_request()) << in.DebugString();
  const v1::PhaseRequest& request = in.phase_request();
  EXPECT_EQ(request.epoch(), 1U);
  EXPECT_EQ(request.phase(), v1::PHASE_SNAPSHOT);
  ASSERT_EQ(request.params_case(), v1::PhaseRequest::kNamed);
  EXPECT_EQ(request.named().name(), "before-upgrade");

  v1::AgentMessage out;
  v1::PhaseResult* result = out.mutable_phase_result();
  result->set_vm(request.vm());
  result->set_op(request.op());
  result->set_step(request.step());
  result->set_attempt(request.attempt());
  result->set_ok(true);
  result->set_power(v1::POWER_RUNNING);
  result->set_power_known(true);
  ASSERT_TRUE(call.stream->Write(out));
  ASSERT_TRUE(controller_->wait_received(1, kWait));
  EXPECT_TRUE(call.finish().ok());

  const std::vector<v1::AgentMessage> got = controller_->received();
  ASSERT_EQ(got.size(), 1U);
  ASSERT_TRUE(got[0].has_phase_result());
  EXPECT_EQ(got[0].phase_result().op(), 31);
  EXPECT_EQ(got[0].phase_result().step(), 1U);
  EXPECT_EQ(got[0].phase_result().attempt(), 2U);
  EXPECT_TRUE(got[0].phase_result().ok());
}

TEST_F(WireMtls, ABadJoinTokenIsRefusedWithTheReasonAndSignsNothing) {
  const std::string good = *controller_->tokens().issue("node-1");
  const std::set<std::string> before = files_in(tmp_.path() / "controller");
  const std::string tokens_before =
      *cluster::read_file(tmp_.path() / "controller" / "join-tokens.json");
  std::string wrong_secret = good;
  // The secret is the fourth field; change its first digit.
  std::size_t at = 0;
  for (int colons = 0; colons < 3; ++at) colons += wrong_secret[at] == ':';
  wrong_secret[at] = wrong_secret[at] == '0' ? '1' : '0';

  Result<AgentIdentity> id = join(wrong_secret);
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().message.find("join token refused: unknown or already used"),
            std::string::npos)
      << id.error().message;
  EXPECT_EQ(files_in(tmp_.path() / "controller"), before);
  EXPECT_EQ(*cluster::read_file(tmp_.path() / "controller" / "join-tokens.json"), tokens_before);

  // Already spent, and a token of another cluster (refused by the agent itself: its pin).
  ASSERT_TRUE(join(good));
  Result<AgentIdentity> again = join(good);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already used"), std::string::npos) << again.error().message;
  std::string other_cluster = *controller_->tokens().issue("node-2");
  other_cluster.back() = other_cluster.back() == 'a' ? 'b' : 'a';
  Result<AgentIdentity> pinned = join(other_cluster);
  ASSERT_FALSE(pinned);
  EXPECT_NE(pinned.error().message.find("does not present the CA"), std::string::npos)
      << pinned.error().message;
  EXPECT_EQ(controller_->connects(), 0);
}

TEST_F(WireMtls, ACertificateOfAnotherCaIsRefusedAtTheTlsHandshake) {
  Result<cluster::CertificateAuthority> other =
      cluster::CertificateAuthority::load_or_create(tmp_.path() / "other-ca", clock_);
  ASSERT_TRUE(other);
  AgentIdentity forged;
  forged.host = "node-1";
  forged.key_pem = *cluster::generate_private_key();
  forged.cert_pem = *other->sign_agent_csr(*cluster::make_csr(forged.key_pem, "node-1"), "node-1");
  forged.ca_pem = controller_->ca().cert_pem();  // it trusts the real controller

  AgentCall call(controller_->agent_port(), agent_channel_credentials(forged));
  call.stream->Write(hello("node-1"));
  v1::ControllerMessage in;
  EXPECT_FALSE(call.stream->Read(&in));
  const grpc::Status status = call.finish();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  const Error error =
      explain_connect_failure(status, "127.0.0.1", controller_->agent_port(), forged);
  EXPECT_EQ(error.code, ErrorCode::kUnavailable);
  EXPECT_NE(error.message.find("refused this agent's certificate"), std::string::npos)
      << error.message;
  EXPECT_NE(error.message.find("not signed by this cluster's CA"), std::string::npos)
      << error.message;
  // The diagnosis tells the two apart: the real certificate passes the same probe.
  Result<AgentIdentity> joined = join(*controller_->tokens().issue("node-1"));
  ASSERT_TRUE(joined) << joined.error().message;
  EXPECT_TRUE(cluster::probe_client_certificate("127.0.0.1", controller_->agent_port(),
                                                joined->cert_pem, joined->key_pem, joined->ca_pem));
  EXPECT_EQ(controller_->connects(), 0) << "the stream reached the service";
  EXPECT_EQ(controller_->epoch(), 0U);
}

TEST_F(WireMtls, AnIncompatibleProtocolVersionIsRefusedBeforeAnythingElse) {
  Result<AgentIdentity> id = join(*controller_->tokens().issue("node-1"));
  ASSERT_TRUE(id) << id.error().message;
  AgentCall call(controller_->agent_port(), agent_channel_credentials(*id));
  ASSERT_TRUE(call.stream->Write(hello("node-1", kProtocolVersion + 1)));
  v1::ControllerMessage in;
  ASSERT_TRUE(call.stream->Read(&in));
  ASSERT_TRUE(in.has_refuse()) << in.DebugString();
  EXPECT_EQ(in.refuse().code(), v1::Refuse::CODE_INCOMPATIBLE_VERSION);
  EXPECT_NE(in.refuse().message().find("incompatible agent protocol version 2"), std::string::npos)
      << in.refuse().message();
  EXPECT_NE(in.refuse().message().find("upgrade the controller"), std::string::npos);
  const grpc::Status status = call.finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), in.refuse().message());
  EXPECT_EQ(controller_->epoch(), 0U) << "a refused agent was given an epoch";
}

TEST_F(WireMtls, AnAgentMustBeTheHostItsCertificateNames) {
  Result<AgentIdentity> id = join(*controller_->tokens().issue("node-1"));
  ASSERT_TRUE(id) << id.error().message;
  struct Case {
    const char* what;
    int port;
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    std::string host;
    const char* message;
  };
  const Case cases[] = {
      {"another host's name", controller_->agent_port(), agent_channel_credentials(*id), "node-2",
       "its certificate names \"node-1\""},
      {"no certificate, on the join port", controller_->join_port(),
       join_channel_credentials(id->ca_pem), "node-1", "no verified client certificate"},
  };
  for (const Case& c : cases) {
    AgentCall call(c.port, c.credentials);
    ASSERT_TRUE(call.stream->Write(hello(c.host))) << c.what;
    v1::ControllerMessage in;
    ASSERT_TRUE(call.stream->Read(&in)) << c.what;
    ASSERT_TRUE(in.has_refuse()) << c.what;
    EXPECT_EQ(in.refuse().code(), v1::Refuse::CODE_IDENTITY_MISMATCH) << c.what;
    EXPECT_NE(in.refuse().message().find(c.message), std::string::npos)
        << c.what << ": " << in.refuse().message();
    EXPECT_FALSE(call.finish().ok());
  }
  EXPECT_EQ(controller_->epoch(), 0U);
}

}  // namespace
}  // namespace corral::wire
