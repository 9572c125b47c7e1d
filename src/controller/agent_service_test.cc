// The controller's agent service over real gRPC and mutual TLS on loopback (ClusterServer on
// port 0), with a recording registry in place of the engine: agents join with a token, then
// connect with their certificate.
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/files.h"
#include "cluster/test_dir.h"
#include "controller/cluster_server.h"
#include "controller/convert.h"
#include "wire/join.h"
#include "wire/protocol.h"

namespace corral::controller {
namespace {

using cluster::testing::TempDir;
using Stream = grpc::ClientReaderWriter<v1::AgentMessage, v1::ControllerMessage>;
constexpr auto kWait = std::chrono::seconds(20);  // against hangs, not a timing claim

// Admits the hosts it knows, refuses the others as the engine would; records the calls.
class RecordingRegistry final : public AgentRegistry {
 public:
  Result<engine::AgentWelcome> agent_connected(engine::AgentHello hello) override {
    std::function<void(const std::string&)> hook;
    engine::AgentWelcome welcome;
    {
      std::lock_guard lock(mu_);
      if (offline.contains(hello.host)) {
        return fail(Error{ErrorCode::kInvalidState,
                          "host " + hello.host + " is offline: enable it (`corral host enable " +
                              hello.host + "`) before its agent connects",
                          {},
                          {}});
      }
      if (local.contains(hello.host)) {
        return fail(Error{ErrorCode::kConflict,
                          "host " + hello.host + " is served by the server's own driver",
                          {},
                          {}});
      }
      if (!known.contains(hello.host)) return fail(Error::not_found("no host " + hello.host));
      if (unavailable)
        return fail(Error{ErrorCode::kUnavailable, "the engine is stopping", {}, {}});
      welcome.epoch = ++epoch_[hello.host];
      welcome.heartbeat_interval_ms = 2000;
      welcome.lease_ms = 6000;
      welcome.vms.push_back(
          {7, lifecycle::State::kRunning, lifecycle::Power::kRunning, {1, 128, "tiny"}, true});
      connects.push_back(hello.host);
      hook = on_connected;
    }
    if (hook) hook(hello.host);  // e.g. the engine re-dispatching a running phase
    return welcome;
  }
  void agent_heartbeat(std::string_view host, std::uint64_t epoch,
                       const engine::HostMetrics& metrics) override {
    std::lock_guard lock(mu_);
    heartbeats.push_back({std::string(host), epoch, metrics.running_vms});
    changed_.notify_all();
  }
  void agent_disconnected(std::string_view host, std::uint64_t epoch) override {
    std::lock_guard lock(mu_);
    disconnects.push_back({std::string(host), epoch});
    changed_.notify_all();
  }
  bool wait(const std::function<bool()>& done) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kWait, done);
  }

  struct Beat {
    std::string host;
    std::uint64_t epoch;
    int running_vms;
  };
  std::set<std::string> known = {"node-1", "node-2", "sim-1"};
  std::set<std::string> local = {"sim-1"};
  std::set<std::string> offline;
  bool unavailable = false;
  std::function<void(const std::string&)> on_connected;
  std::vector<std::string> connects;
  std::vector<Beat> heartbeats;
  std::vector<std::pair<std::string, std::uint64_t>> disconnects;
  std::mutex mu_;

 private:
  std::map<std::string, std::uint64_t> epoch_;
  std::condition_variable changed_;
};

class RecordingSink final : public driver::DriverSink {
 public:
  void phase_done(driver::PhaseResult result) override {
    std::lock_guard lock(mu_);
    results.push_back(result);
    changed_.notify_all();
  }
  void power_event(driver::PowerEvent event) override {
    std::lock_guard lock(mu_);
    events.push_back(event);
    changed_.notify_all();
  }
  bool wait(const std::function<bool()>& done) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kWait, done);
  }
  std::vector<driver::PhaseResult> results;
  std::vector<driver::PowerEvent> events;
  std::mutex mu_;

 private:
  std::condition_variable changed_;
};

struct AgentCall {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AgentService::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream;

  AgentCall(int port, const wire::AgentIdentity& id) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per agent
    channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                        wire::agent_channel_credentials(id), args);
    stub = v1::AgentService::NewStub(channel);
    context.set_deadline(std::chrono::system_clock::now() + kWait);
    stream = stub->Connect(&context);
  }
  v1::ControllerMessage read() {
    v1::ControllerMessage in;
    if (!stream->Read(&in)) in.Clear();
    return in;
  }
  grpc::Status finish() {
    stream->WritesDone();
    for (v1::ControllerMessage ignored; stream->Read(&ignored);) {
    }
    return stream->Finish();
  }
};

v1::AgentMessage hello(const std::string& host) {
  engine::AgentHello h;
  h.host = host;
  h.agent_version = "0.1.0";
  h.driver = "sim";
  h.capacity = {8, 16384};
  v1::AgentMessage m;
  *m.mutable_hello() = hello_to_wire(h);
  return m;
}

class AgentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterServerOptions options;
    options.dir = tmp_.path() / "cluster";
    options.agent_listen = "127.0.0.1:0";
    options.join_listen = "127.0.0.1:0";
    options.agents.ping_interval_ms = 0;  // tests send what they read, pings aside
    Result<std::unique_ptr<ClusterServer>> started =
        ClusterServer::start(options, registry_, sink_, clock_);
    ASSERT_TRUE(started) << started.error().message;
    server_ = std::move(*started);
  }

  wire::AgentIdentity join(const std::string& host) {
    Result<std::string> token = server_->tokens().issue(host);
    EXPECT_TRUE(token);
    Result<std::string> key = cluster::generate_private_key();
    EXPECT_TRUE(key);
    Result<wire::AgentIdentity> id =
        wire::join_cluster("127.0.0.1", server_->join_port(), *token, *key, clock_);
    EXPECT_TRUE(id) << id.error().message;
    return *id;
  }

  TempDir tmp_;
  SystemClock clock_;
  RecordingRegistry registry_;
  RecordingSink sink_;
  std::unique_ptr<ClusterServer> server_;
};

TEST_F(AgentServiceTest, WritesItsBoundPortsAndKeepsItsCa) {
  Result<std::string> ports = cluster::read_file(tmp_.path() / "cluster" / "ports.json");
  ASSERT_TRUE(ports);
  EXPECT_NE(ports->find(server_->agent_address()), std::string::npos) << *ports;
  EXPECT_NE(ports->find(server_->join_address()), std::string::npos) << *ports;
  EXPECT_NE(server_->agent_port(), server_->join_port());
  const std::string ca = server_->ca().cert_pem();
  server_.reset();
  RecordingRegistry registry;
  RecordingSink sink;
  ClusterServerOptions options;
  options.dir = tmp_.path() / "cluster";
  options.agent_listen = "127.0.0.1:0";
  options.join_listen = "127.0.0.1:0";
  Result<std::unique_ptr<ClusterServer>> again =
      ClusterServer::start(options, registry, sink, clock_);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)->ca().cert_pem(), ca);
}

TEST_F(AgentServiceTest, APortInUseFailsNamingTheAddress) {
  ClusterServerOptions options;
  options.dir = tmp_.path() / "cluster";
  options.agent_listen = server_->agent_address();
  options.join_listen = "127.0.0.1:0";
  Result<std::unique_ptr<ClusterServer>> second =
      ClusterServer::start(options, registry_, sink_, clock_);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find(server_->agent_address()), std::string::npos)
      << second.error().message;
}

TEST_F(AgentServiceTest, RefusesWithAReasonAPersonUnderstands) {
  registry_.offline.insert("node-2");
  const wire::AgentIdentity node1 = join("node-1");
  const wire::AgentIdentity node2 = join("node-2");
  const wire::AgentIdentity node3 = join("node-3");  // joined, but the registry has no such host
  const wire::AgentIdentity sim1 = join("sim-1");    // a host the server's own driver serves
  v1::AgentMessage heartbeat;
  heartbeat.mutable_heartbeat()->set_seq(1);
  v1::AgentMessage old_version = hello("node-1");
  old_version.mutable_hello()->set_protocol_version(wire::kProtocolVersion + 1);

  struct Case {
    const char* name;
    const wire::AgentIdentity* id;
    v1::AgentMessage first;
    v1::Refuse::Code code;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"hello expected", &node1, heartbeat, v1::Refuse::CODE_HELLO_EXPECTED, "must be a Hello"},
      {"cn mismatch", &node1, hello("node-2"), v1::Refuse::CODE_IDENTITY_MISMATCH,
       "certificate names \"node-1\""},
      {"version", &node1, old_version, v1::Refuse::CODE_INCOMPATIBLE_VERSION,
       "upgrade the controller"},
      {"unknown host", &node3, hello("node-3"), v1::Refuse::CODE_UNKNOWN_HOST,
       "corral host add node-3"},
      {"offline", &node2, hello("node-2"), v1::Refuse::CODE_HOST_OFFLINE,
       "corral host enable node-2"},
      {"local host", &sim1, hello("sim-1"), v1::Refuse::CODE_ALREADY_CONNECTED,
       "served by the server's own driver"},
  };
  for (const Case& c : cases) {
    AgentCall call(server_->agent_port(), *c.id);
    ASSERT_TRUE(call.stream->Write(c.first)) << c.name;
    const v1::ControllerMessage in = call.read();
    ASSERT_TRUE(in.has_refuse()) << c.name << ": " << in.DebugString();
    EXPECT_EQ(in.refuse().code(), c.code) << c.name;
    EXPECT_NE(in.refuse().message().find(c.says), std::string::npos)
        << c.name << ": " << in.refuse().message();
    const grpc::Status status = call.finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << c.name;
    EXPECT_EQ(status.error_message(), in.refuse().message()) << c.name;
  }
  std::lock_guard lock(registry_.mu_);
  EXPECT_TRUE(registry_.connects.empty());
  EXPECT_EQ(server_->agents().connected(), 0U);
}

TEST_F(AgentServiceTest, AnEngineThatCannotAdmitNowEndsTheStreamWithoutARefusal) {
  {
    std::lock_guard lock(registry_.mu_);
    registry_.unavailable = true;
  }
  AgentCall call(server_->agent_port(), join("node-1"));
  ASSERT_TRUE(call.stream->Write(hello("node-1")));
  v1::ControllerMessage in;
  EXPECT_FALSE(call.stream->Read(&in)) << in.DebugString();  // no Refuse: the agent retries
  const grpc::Status status = call.stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("the engine is stopping"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(server_->agents().epoch_of("node-1"), 0U);
}

TEST_F(AgentServiceTest, WelcomesHeartbeatsAndCarriesPhasesBothWays) {
  const wire::AgentIdentity id = join("node-1");
  AgentCall call(server_->agent_port(), id);
  ASSERT_TRUE(call.stream->Write(hello("node-1")));
  const v1::ControllerMessage welcome = call.read();
  ASSERT_TRUE(welcome.has_welcome()) << welcome.DebugString();
  EXPECT_EQ(welcome.welcome().epoch(), 1U);
  ASSERT_EQ(welcome.welcome().vms_size(), 1);
  EXPECT_TRUE(welcome.welcome().vms(0).may_fence());

  v1::AgentMessage beat;
  beat.mutable_heartbeat()->set_seq(1);
  beat.mutable_heartbeat()->mutable_metrics()->set_running_vms(3);
  ASSERT_TRUE(call.stream->Write(beat));
  ASSERT_TRUE(registry_.wait([&] { return !registry_.heartbeats.empty(); }));
  {
    std::lock_guard lock(registry_.mu_);
    EXPECT_EQ(registry_.heartbeats[0].host, "node-1");
    EXPECT_EQ(registry_.heartbeats[0].epoch, 1U);
    EXPECT_EQ(registry_.heartbeats[0].running_vms, 3);
  }

  driver::PhaseRequest pause;
  pause.vm = 7;
  pause.op = 31;
  pause.step = 1;
  pause.action = lifecycle::Action::kPause;
  pause.phase = lifecycle::Phase::kPause;
  pause.host = "node-1";
  EXPECT_TRUE(server_->agents().run_remote(pause));
  pause.host = "node-2";  // not connected
  EXPECT_FALSE(server_->agents().run_remote(pause));
  const v1::ControllerMessage request = call.read();
  ASSERT_TRUE(request.has_phase_request()) << request.DebugString();
  EXPECT_EQ(request.phase_request().op(), 31);
  EXPECT_EQ(request.phase_request().epoch(), 1U);

  v1::AgentMessage result;
  *result.mutable_phase_result() =
      phase_result_to_wire({7, 31, 1, 0, true, "", lifecycle::Power::kPaused, true, {}});
  ASSERT_TRUE(call.stream->Write(result));
  v1::AgentMessage event;
  *event.mutable_power_event() = power_event_to_wire(
      {7, driver::PowerEventKind::kGuestPoweroff, lifecycle::Power::kShutdown, "guest"});
  ASSERT_TRUE(call.stream->Write(event));
  ASSERT_TRUE(sink_.wait([&] { return !sink_.results.empty() && !sink_.events.empty(); }));
  {
    std::lock_guard lock(sink_.mu_);
    EXPECT_EQ(sink_.results[0].op, 31);
    EXPECT_EQ(sink_.results[0].power, lifecycle::Power::kPaused);
    EXPECT_EQ(sink_.events[0].kind, driver::PowerEventKind::kGuestPoweroff);
  }

  EXPECT_TRUE(call.finish().ok());
  ASSERT_TRUE(registry_.wait([&] { return !registry_.disconnects.empty(); }));
  std::lock_guard lock(registry_.mu_);
  EXPECT_EQ(registry_.disconnects[0], (std::pair<std::string, std::uint64_t>{"node-1", 1}));
}

TEST_F(AgentServiceTest, PhasesSentDuringAdmissionFollowTheWelcome) {
  registry_.on_connected = [this](const std::string& host) {
    driver::PhaseRequest boot;
    boot.vm = 7;
    boot.op = 5;
    boot.action = lifecycle::Action::kCreate;
    boot.phase = lifecycle::Phase::kBoot;
    boot.host = host;
    EXPECT_TRUE(server_->agents().run_remote(boot));
  };
  const wire::AgentIdentity id = join("node-1");
  AgentCall call(server_->agent_port(), id);
  ASSERT_TRUE(call.stream->Write(hello("node-1")));
  const v1::ControllerMessage first = call.read();
  ASSERT_TRUE(first.has_welcome()) << first.DebugString();
  const v1::ControllerMessage second = call.read();
  ASSERT_TRUE(second.has_phase_request()) << second.DebugString();
  EXPECT_EQ(second.phase_request().op(), 5);
  EXPECT_EQ(second.phase_request().epoch(), first.welcome().epoch());
  EXPECT_TRUE(call.finish().ok());
}

TEST_F(AgentServiceTest, ANewerStreamOfTheHostReplacesTheOlder) {
  const wire::AgentIdentity id = join("node-1");
  AgentCall older(server_->agent_port(), id);
  ASSERT_TRUE(older.stream->Write(hello("node-1")));
  ASSERT_EQ(older.read().welcome().epoch(), 1U);

  AgentCall newer(server_->agent_port(), id);
  ASSERT_TRUE(newer.stream->Write(hello("node-1")));
  ASSERT_EQ(newer.read().welcome().epoch(), 2U);

  const grpc::Status ended = older.finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::ABORTED) << ended.error_message();
  EXPECT_NE(ended.error_message().find("replaced by a newer connection"), std::string::npos);
  ASSERT_TRUE(registry_.wait([&] { return !registry_.disconnects.empty(); }));
  EXPECT_EQ(server_->agents().epoch_of("node-1"), 2U);
  EXPECT_EQ(server_->agents().connected(), 1U);

  // Phases now go to the newer stream, with its epoch; its heartbeats carry it too.
  driver::PhaseRequest pause;
  pause.vm = 7;
  pause.op = 8;
  pause.action = lifecycle::Action::kPause;
  pause.phase = lifecycle::Phase::kPause;
  pause.host = "node-1";
  ASSERT_TRUE(server_->agents().run_remote(pause));
  const v1::ControllerMessage request = newer.read();
  ASSERT_TRUE(request.has_phase_request());
  EXPECT_EQ(request.phase_request().epoch(), 2U);
  v1::AgentMessage beat;
  beat.mutable_heartbeat()->set_seq(1);
  ASSERT_TRUE(newer.stream->Write(beat));
  ASSERT_TRUE(registry_.wait([&] { return !registry_.heartbeats.empty(); }));
  std::lock_guard lock(registry_.mu_);
  EXPECT_EQ(registry_.disconnects[0], (std::pair<std::string, std::uint64_t>{"node-1", 1}));
  EXPECT_EQ(registry_.heartbeats[0].epoch, 2U);
}

TEST_F(AgentServiceTest, PingsEveryWelcomedStream) {
  server_.reset();
  ClusterServerOptions options;
  options.dir = tmp_.path() / "cluster";
  options.agent_listen = "127.0.0.1:0";
  options.join_listen = "127.0.0.1:0";
  options.agents.ping_interval_ms = 50;
  Result<std::unique_ptr<ClusterServer>> started =
      ClusterServer::start(options, registry_, sink_, clock_);
  ASSERT_TRUE(started);
  server_ = std::move(*started);
  AgentCall call(server_->agent_port(), join("node-1"));
  ASSERT_TRUE(call.stream->Write(hello("node-1")));
  ASSERT_TRUE(call.read().has_welcome());
  const v1::ControllerMessage ping = call.read();
  ASSERT_TRUE(ping.has_ping()) << ping.DebugString();
  EXPECT_GT(ping.ping().seq(), 0U);
  EXPECT_TRUE(call.finish().ok());
}

// While an agent's heartbeats flow, the controller renews its lease with empty messages and
// asks for nothing; once it falls silent, Pings ask it for a heartbeat. Catches a ping loop that
// always pings (no renewal is ever read) or never does (no Ping after the silence).
// Each interval the ping thread sweeps every welcomed stream with a Ping (its answer stands
// for the agent's periodic heartbeat), whether the stream was heard from or not.
TEST_F(AgentServiceTest, PingsEveryWelcomedStreamEachIntervalHeardFromOrNot) {
  server_.reset();
  ClusterServerOptions options;
  options.dir = tmp_.path() / "cluster";
  options.agent_listen = "127.0.0.1:0";
  options.join_listen = "127.0.0.1:0";
  options.agents.ping_interval_ms = 200;
  Result<std::unique_ptr<ClusterServer>> started =
      ClusterServer::start(options, registry_, sink_, clock_);
  ASSERT_TRUE(started);
  server_ = std::move(*started);
  AgentCall beating(server_->agent_port(), join("node-1"));
  ASSERT_TRUE(beating.stream->Write(hello("node-1")));
  ASSERT_TRUE(beating.read().has_welcome());
  AgentCall silent(server_->agent_port(), join("node-2"));
  ASSERT_TRUE(silent.stream->Write(hello("node-2")));
  ASSERT_TRUE(silent.read().has_welcome());

  std::atomic<bool> beat{true};
  std::thread beater([&] {
    v1::AgentMessage m;
    m.mutable_heartbeat()->set_seq(1);
    while (beat.load() && beating.stream->Write(m)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (AgentCall* call : {&beating, &silent}) {
    std::uint64_t last_seq = 0;
    for (int i = 0; i < 3; ++i) {
      const v1::ControllerMessage in = call->read();
      ASSERT_TRUE(in.has_ping()) << in.DebugString();
      EXPECT_GT(in.ping().seq(), last_seq) << "each sweep has a new seq";
      last_seq = in.ping().seq();
    }
  }
  beat.store(false);
  beater.join();
  EXPECT_TRUE(beating.finish().ok());
  EXPECT_TRUE(silent.finish().ok());
}

}  // namespace
}  // namespace corral::controller

namespace corral::controller {
namespace {

// Over the real stream: the Hello's images are kept per host; a console request reaches the
// welcomed stream and its answer the waiting caller; once the stream ends, the host's console
// is "not connected" at once and its images are kept, marked not connected.
TEST_F(AgentServiceTest, ConsoleRequestsTravelTheStreamAndImagesComeFromTheHello) {
  const wire::AgentIdentity id = join("node-1");
  AgentCall call(server_->agent_port(), id);
  v1::AgentMessage h = hello("node-1");
  v1::Image* image = h.mutable_hello()->add_images();
  image->set_name("tiny");
  image->set_kind("kernel");
  ASSERT_TRUE(call.stream->Write(h));
  ASSERT_TRUE(call.read().has_welcome());

  AgentService& agents = server_->agents();
  const auto known = agents.images_of("node-1");
  ASSERT_TRUE(known);
  EXPECT_EQ(known->driver, "sim");
  EXPECT_TRUE(known->connected);
  ASSERT_EQ(known->images.size(), 1U);
  EXPECT_EQ(known->images[0].name, "tiny");
  EXPECT_EQ(known->images[0].kind, "kernel");
  EXPECT_FALSE(agents.images_of("node-2"));
  // A later ImageList replaces them (the driver stays the Hello's).
  v1::AgentMessage list;
  list.mutable_image_list()->add_images()->set_name("tiny");
  list.mutable_image_list()->add_images()->set_name("snap-1");
  ASSERT_TRUE(call.stream->Write(list));
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (agents.images_of("node-1")->images.size() != 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(agents.images_of("node-1")->images.size(), 2U);
  EXPECT_EQ(agents.images_of("node-1")->driver, "sim");

  Result<std::string> log = fail(Error::not_found("not asked yet"));
  std::thread asker([&] { log = agents.consoles().console_log("node-1", 7, 64); });
  const v1::ControllerMessage request = call.read();
  ASSERT_TRUE(request.has_console_log_request()) << request.DebugString();
  EXPECT_EQ(request.console_log_request().vm(), 7);
  EXPECT_EQ(request.console_log_request().max_bytes(), 64U);
  v1::AgentMessage answer;
  answer.mutable_console_reply()->set_request_id(request.console_log_request().request_id());
  answer.mutable_console_reply()->set_ok(true);
  answer.mutable_console_reply()->set_log("Linux version 6.1\n");
  ASSERT_TRUE(call.stream->Write(answer));
  asker.join();
  ASSERT_TRUE(log) << log.error().message;
  EXPECT_EQ(*log, "Linux version 6.1\n");

  EXPECT_TRUE(call.finish().ok());
  ASSERT_TRUE(registry_.wait([&] { return !registry_.disconnects.empty(); }));
  const Result<std::string> away = agents.consoles().console_log("node-1", 7, 64);
  ASSERT_FALSE(away);
  EXPECT_EQ(away.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(away.error().message.find("host node-1 is not connected"), std::string::npos);
  const auto after = agents.images_of("node-1");
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->connected);
  EXPECT_EQ(after->images.size(), 2U);
}

}  // namespace
}  // namespace corral::controller
