// AgentService: the controller's side of AgentService.Connect (wire/agent.proto), one
// AgentConnection per stream, and the RemoteHosts the HostRouter sends phases through.
//
// Contract:
// - The first message must be a Hello (else Refuse CODE_HELLO_EXPECTED); its protocol version
//   must be accepted and Hello.host must equal the client certificate's CN (wire::check_hello).
//   Then the registry admits it (kNotFound -> Refuse CODE_UNKNOWN_HOST, kInvalidState ->
//   Refuse CODE_HOST_OFFLINE, kConflict (a host the server's own driver serves) -> Refuse
//   CODE_ALREADY_CONNECTED, each with a message saying what to do); any other error ends the
//   stream with UNAVAILABLE and no Refuse, so the agent retries instead of exiting.
// - Admission runs on a pool of `admission_threads` threads (it may wait for a commit), one
//   admission per host at a time. A newer stream of a host replaces the older one: the older
//   is cancelled (ABORTED, "replaced by a newer connection") before the newer is admitted.
// - After the Welcome: heartbeats go to registry.agent_heartbeat (on gRPC's threads; it must
//   not block), phase results and power events to the sink (the engine's queue, through the
//   HostRouter). A stream that ends reports agent_disconnected(host, its epoch).
// - Every ping_interval_ms the ping thread sweeps every welcomed stream with a Ping, which
//   renews the agent's lease (an agent renews it on any message) and asks for a Heartbeat
//   now; the agent's answer stands for its periodic heartbeat (agent/session.h). So each agent
//   sends one message per interval, and the answers of a sweep reach the controller together,
//   to be read in few wake-ups rather than one per message (corral-bench-agents).
// - Consoles (controller/agent_consoles.h): requests go on the host's welcomed stream, the
//   answers and output come back from it; a stream's end fails what waits on it. Images: the
//   Hello's (and later ImageList's) are kept per host, also after the agent disconnects.
// - Firewalls (driver::RemoteFirewalls, docs/security-groups.md): the newest job of each host
//   is kept (also while its agent is away) and queued on its stream, or right after the
//   Welcome of a stream being admitted; every Welcome carries the host's kept job, so an agent
//   that reconnects converges. The agent's FirewallResult goes to the firewall sink (the
//   engine's queue through driver::FabricRouter) as a FirewallDone; none before a sink is set.
// - shutdown() (or the destructor) stops the ping thread and the pool and cancels the
//   streams; the grpc::Server serving this service must be shut down before it is destroyed.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "controller/agent_connection.h"
#include "controller/agent_consoles.h"
#include "controller/agent_registry.h"
#include "driver/driver.h"
#include "driver/fabric_router.h"
#include "driver/host_router.h"
#include "driver/host_services.h"
#include "wire/agent.grpc.pb.h"

namespace corral::controller {

struct AgentServiceOptions {
  Millis ping_interval_ms = 2'000;  // 0: no pings (tests)
  std::size_t admission_threads = 4;
  std::size_t max_queue = 4'096;      // messages queued to one agent before its stream is closed
  Millis console_timeout_ms = 5'000;  // an agent's console answer, before the API gives up
};

class AgentService final : public v1::AgentService::CallbackService,
                           public driver::RemoteHosts,
                           public driver::RemoteFirewalls,
                           private AgentConnection::Handler {
 public:
  // `registry`, `sink` and `clock` must outlive the service.
  AgentService(AgentRegistry& registry, driver::DriverSink& sink, const Clock& clock,
               AgentServiceOptions options = {});
  ~AgentService() override;
  AgentService(const AgentService&) = delete;
  AgentService& operator=(const AgentService&) = delete;

  void shutdown();

  grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage>* Connect(
      grpc::CallbackServerContext* context) override;
  bool run_remote(const driver::PhaseRequest& request) override;
  void apply_remote_firewall(driver::HostFirewallJob job) override;
  // Where agents' FirewallResults go; null: dropped. `sink` must outlive the service.
  void set_firewall_sink(driver::NetworkSink* sink) { firewall_sink_.store(sink); }

  // Welcomed streams now.
  std::size_t connected() const;
  // The epoch of the host's live stream; 0: none.
  std::uint64_t epoch_of(const std::string& host) const;
  AgentConsoles& consoles() { return consoles_; }
  // What each agent host reported of its images (its driver's), connected now or not.
  std::vector<driver::RemoteHostServicesSource::HostImages> host_images() const;
  std::optional<driver::RemoteHostServicesSource::HostImages> images_of(
      const std::string& host) const;

 private:
  void on_first(std::shared_ptr<AgentConnection> connection, v1::AgentMessage first) override;
  void on_message(AgentConnection& connection, const v1::AgentMessage& message) override;
  void on_done(AgentConnection& connection) override;

  void admit(const std::shared_ptr<AgentConnection>& connection, const v1::AgentMessage& first);
  std::shared_ptr<std::mutex> host_lock(const std::string& host);
  void post(std::function<void()> task);
  void admission_loop();
  void ping_loop();
  // Queues on the host's welcomed stream: its epoch, 0 when none.
  std::uint64_t send_to(const std::string& host, v1::ControllerMessage message);
  // A cold migration's target prolog: grants the target a ticket on the source agent (a
  // TransferGrant on its stream) and says where to pull; nullopt when the source cannot serve.
  std::optional<driver::FileSource> grant_files(const driver::PhaseRequest& request);
  // Long enough for a disk to cross; expiry only refuses new calls (transfer/server.h).
  static constexpr std::int64_t kTransferGrantTtlMs = 3'600'000;
  void set_images(const std::string& host, const std::string& driver,
                  const google::protobuf::RepeatedPtrField<v1::Image>& images);

  AgentRegistry& registry_;
  driver::DriverSink& sink_;
  const Clock& clock_;
  const AgentServiceOptions options_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<AgentConnection>> attached_;  // by host
  std::map<std::string, std::shared_ptr<std::mutex>> admitting_;      // one admission per host
  std::deque<std::function<void()>> tasks_;
  std::condition_variable wake_;       // the admission pool's
  std::condition_variable ping_wake_;  // the ping thread's
  bool stopping_ = false;
  std::uint64_t ping_seq_ = 0;
  std::map<std::string, driver::RemoteHostServicesSource::HostImages> images_;  // by host
  std::map<std::string, std::string> transfer_addresses_;  // by host, from its last Hello
  std::map<std::string, v1::HostFirewall> firewalls_;      // by host, the newest job
  std::atomic<driver::NetworkSink*> firewall_sink_{nullptr};
  AgentConsoles consoles_;

  std::vector<std::thread> pool_;
  std::thread pinger_;
};

}  // namespace corral::controller
