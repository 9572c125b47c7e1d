#include "controller/agent_service.h"

#include <grpc/grpc_security_constants.h>

#include "common/log.h"
#include "controller/convert.h"
#include "transfer/ticket.h"
#include "wire/firewall_wire.h"
#include "wire/protocol.h"

namespace corral::controller {
namespace {

// The CN of the client's verified certificate ("" without one), as wire::peer_host() reads
// it for the synchronous API.
std::string peer_cn(const grpc::CallbackServerContext& context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return "";
  const std::vector<grpc::string_ref> names = auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (names.size() != 1) return "";
  return {names[0].data(), names[0].size()};
}

// What an agent (and the person reading its exit message) is told when the registry refuses.
std::optional<v1::Refuse> refusal_for(const std::string& host, const Error& error) {
  switch (error.code) {
    case ErrorCode::kNotFound:
      return wire::make_refuse(
          v1::Refuse::CODE_UNKNOWN_HOST,
          "host \"" + host + "\" is not known to this controller (never added, or deleted): " +
              "add it with `corral host add " + host + "` and join the agent with the new token");
    case ErrorCode::kInvalidState:  // the engine's message says what to do (enable it)
      return wire::make_refuse(v1::Refuse::CODE_HOST_OFFLINE,
                               "the controller refuses host \"" + host + "\": " + error.message);
    case ErrorCode::kConflict:  // e.g. a host the server's own driver serves
      return wire::make_refuse(v1::Refuse::CODE_ALREADY_CONNECTED,
                               "the controller refuses host \"" + host + "\": " + error.message);
    case ErrorCode::kUnknownAction:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kUnavailable:
    case ErrorCode::kInternal:
    case ErrorCode::kTooLarge:
    case ErrorCode::kRateLimited:
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kForbidden:
    case ErrorCode::kQuotaExceeded:
    case ErrorCode::kLocked:
      return std::nullopt;  // not the agent's fault: it should retry, not exit
  }
  return std::nullopt;
}

}  // namespace

AgentService::AgentService(AgentRegistry& registry, driver::DriverSink& sink, const Clock& clock,
                           AgentServiceOptions options)
    : registry_(registry),
      sink_(sink),
      clock_(clock),
      options_(options),
      consoles_([this](const std::string& host,
                       v1::ControllerMessage m) { return send_to(host, std::move(m)); },
                options.console_timeout_ms) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.admission_threads); ++i) {
    pool_.emplace_back([this] { admission_loop(); });
  }
  if (options_.ping_interval_ms > 0) pinger_ = std::thread([this] { ping_loop(); });
}

AgentService::~AgentService() { shutdown(); }

void AgentService::shutdown() {
  std::map<std::string, std::shared_ptr<AgentConnection>> attached;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    attached.swap(attached_);
  }
  wake_.notify_all();
  ping_wake_.notify_all();
  for (std::thread& t : pool_) t.join();
  if (pinger_.joinable()) pinger_.join();
  for (auto& [host, connection] : attached) {
    connection->close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the controller is stopping"),
                      AgentConnection::Close::kCancel);
  }
}

grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage>* AgentService::Connect(
    grpc::CallbackServerContext* context) {
  return AgentConnection::open(context, *this, options_.max_queue);
}

void AgentService::on_first(std::shared_ptr<AgentConnection> connection, v1::AgentMessage first) {
  post([this, connection = std::move(connection), first = std::move(first)] {
    admit(connection, first);
  });
}

std::shared_ptr<std::mutex> AgentService::host_lock(const std::string& host) {
  std::lock_guard lock(mu_);
  std::shared_ptr<std::mutex>& slot = admitting_[host];
  if (!slot) slot = std::make_shared<std::mutex>();
  return slot;
}

void AgentService::admit(const std::shared_ptr<AgentConnection>& connection,
                         const v1::AgentMessage& first) {
  const std::string cn = peer_cn(connection->context());
  if (std::optional<v1::Refuse> refuse = wire::check_hello(first, cn)) {
    log(LogLevel::kWarn, "agent_refused",
        {{"cert_host", cn},
         {"code", v1::Refuse::Code_Name(refuse->code())},
         {"reason", refuse->message()}});
    connection->refuse(*refuse);
    return;
  }
  const std::string host = first.hello().host();
  connection->set_host(host);
  // One admission per host at a time, so epochs are given in the order streams are attached.
  const std::shared_ptr<std::mutex> admitting = host_lock(host);
  std::lock_guard one(*admitting);

  std::shared_ptr<AgentConnection> older;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    older = std::exchange(attached_[host], connection);
  }
  if (older) {
    log(LogLevel::kInfo, "agent_replaced",
        {{"host", host}, {"old_epoch", std::to_string(older->epoch())}});
    older->close(
        grpc::Status(grpc::StatusCode::ABORTED, "replaced by a newer connection of host " + host),
        AgentConnection::Close::kDrop);
    consoles_.on_disconnected(host, older->epoch());  // its attachments ended with it
  }
  // Before the registry admits it: its admission re-dispatches the phases of this host's
  // moves, and a cold migration's grant must name the address this agent serves files on now
  // (a restarted agent listens on a new port).
  {
    std::lock_guard lock(mu_);
    transfer_addresses_[host] = first.hello().transfer_address();
  }
  Result<engine::AgentWelcome> welcome = registry_.agent_connected(hello_from_wire(first.hello()));
  if (!welcome) {
    {
      std::lock_guard lock(mu_);
      auto it = attached_.find(host);
      if (it != attached_.end() && it->second == connection) attached_.erase(it);
    }
    std::optional<v1::Refuse> refuse = refusal_for(host, welcome.error());
    log(LogLevel::kWarn, "agent_refused", {{"host", host}, {"reason", welcome.error().message}});
    if (refuse) {
      connection->refuse(*refuse);
    } else {
      connection->close(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "the controller cannot admit host " + host +
                                                          " now: " + welcome.error().message),
          AgentConnection::Close::kDrain);
    }
    return;
  }
  const std::uint64_t epoch = welcome->epoch;
  set_images(host, first.hello().driver(), first.hello().images());
  v1::Welcome wire_welcome = welcome_to_wire(*welcome);
  {
    // A newer job kept after this goes on the stream right after the Welcome
    // (apply_remote_firewall): the agent ends with the newest either way.
    std::lock_guard lock(mu_);
    if (auto it = firewalls_.find(host); it != firewalls_.end()) {
      *wire_welcome.mutable_firewall() = it->second;
    }
  }
  if (!connection->welcome(std::move(wire_welcome))) {
    // The stream ended while the registry admitted it: the registry must not wait for it.
    registry_.agent_disconnected(host, epoch);
    return;
  }
  log(LogLevel::kInfo, "agent_connected",
      {{"host", host},
       {"epoch", std::to_string(epoch)},
       {"vms", std::to_string(welcome->vms.size())},
       {"agent_version", first.hello().agent_version()}});
}

void AgentService::on_message(AgentConnection& connection, const v1::AgentMessage& message) {
  switch (message.body_case()) {
    case v1::AgentMessage::kHeartbeat:
      registry_.agent_heartbeat(connection.host(), connection.epoch(),
                                metrics_from_wire(message.heartbeat().metrics()));
      return;
    case v1::AgentMessage::kPhaseResult: {
      Result<driver::PhaseResult> result = phase_result_from_wire(message.phase_result());
      if (!result) {
        log(LogLevel::kWarn, "agent_message_dropped",
            {{"host", connection.host()}, {"reason", result.error().message}});
        return;
      }
      sink_.phase_done(std::move(*result));
      return;
    }
    case v1::AgentMessage::kPowerEvent:
      sink_.power_event(power_event_from_wire(message.power_event()));
      return;
    case v1::AgentMessage::kPhaseProgress: {
      Result<driver::PhaseProgress> progress = phase_progress_from_wire(message.phase_progress());
      if (!progress) {
        log(LogLevel::kWarn, "agent_message_dropped",
            {{"host", connection.host()}, {"reason", progress.error().message}});
        return;
      }
      sink_.phase_progress(*progress);
      return;
    }
    case v1::AgentMessage::kConsoleReply:
      consoles_.on_reply(message.console_reply());
      return;
    case v1::AgentMessage::kConsoleOutput:
      consoles_.on_output(connection.host(), connection.epoch(), message.console_output());
      return;
    case v1::AgentMessage::kImageList: {
      std::string driver;
      if (std::optional<driver::RemoteHostServicesSource::HostImages> known =
              images_of(connection.host())) {
        driver = known->driver;
      }
      set_images(connection.host(), driver, message.image_list().images());
      return;
    }
    case v1::AgentMessage::kFirewallResult: {
      const v1::FirewallResult& result = message.firewall_result();
      driver::FirewallDone done{connection.host(), result.generation(), std::nullopt};
      if (!result.error().empty()) done.error = result.error();
      if (driver::NetworkSink* sink = firewall_sink_.load(); sink != nullptr) {
        sink->firewall_done(std::move(done));
      }
      return;
    }
    case v1::AgentMessage::kHello:
    case v1::AgentMessage::BODY_NOT_SET:
      log(LogLevel::kWarn, "agent_message_dropped",
          {{"host", connection.host()}, {"reason", "a Hello or an empty message after Welcome"}});
      return;
  }
}

void AgentService::on_done(AgentConnection& connection) {
  const std::string host = connection.host();
  {
    std::lock_guard lock(mu_);
    auto it = attached_.find(host);
    if (it != attached_.end() && it->second.get() == &connection) attached_.erase(it);
  }
  if (connection.welcomed()) {
    consoles_.on_disconnected(host, connection.epoch());
    {
      std::lock_guard lock(mu_);
      auto known = images_.find(host);
      auto live = attached_.find(host);
      if (known != images_.end() && live == attached_.end()) known->second.connected = false;
    }
    registry_.agent_disconnected(host, connection.epoch());
    log(LogLevel::kInfo, "agent_disconnected",
        {{"host", host}, {"epoch", std::to_string(connection.epoch())}});
  }
}

bool AgentService::run_remote(const driver::PhaseRequest& request) {
  std::shared_ptr<AgentConnection> connection;
  {
    std::lock_guard lock(mu_);
    auto it = attached_.find(request.host);
    if (it == attached_.end()) return false;
    connection = it->second;
  }
  // The target side's prolog of a move pulls the VM's files from the source host.
  if (request.phase == lifecycle::Phase::kProlog && request.runs_on == lifecycle::RunsOn::kTarget &&
      !request.peer_host.empty()) {
    driver::PhaseRequest with_files = request;
    with_files.files_from = grant_files(request);
    return connection->send_phase(with_files);
  }
  return connection->send_phase(request);
}

void AgentService::apply_remote_firewall(driver::HostFirewallJob job) {
  v1::ControllerMessage message;
  *message.mutable_firewall() = wire::to_wire(job);
  std::shared_ptr<AgentConnection> connection;
  {
    std::lock_guard lock(mu_);
    firewalls_[job.host] = message.firewall();
    if (auto it = attached_.find(job.host); it != attached_.end()) connection = it->second;
  }
  // Not attached: the job waits for the host's next Welcome. Being admitted: it follows the
  // Welcome, which may hold it already (applying a job twice is applying it once).
  if (connection) connection->send_after_welcome(std::move(message));
}

std::optional<driver::FileSource> AgentService::grant_files(const driver::PhaseRequest& request) {
  std::string address;
  std::shared_ptr<AgentConnection> source;
  {
    std::lock_guard lock(mu_);
    auto it = transfer_addresses_.find(request.peer_host);
    if (it != transfer_addresses_.end()) address = it->second;
    auto attached = attached_.find(request.peer_host);
    if (attached != attached_.end()) source = attached->second;
  }
  const std::string vm = std::to_string(request.vm);
  if (address.empty() || !source) {  // not attached, or serves no files: the prolog says so
    log(LogLevel::kWarn, "transfer_not_granted",
        {{"vm", vm}, {"source", request.peer_host}, {"target", request.host}});
    return std::nullopt;
  }
  Result<std::string> secret = transfer::new_secret();
  if (!secret) {
    log(LogLevel::kError, "transfer_not_granted", {{"error", secret.error().message}});
    return std::nullopt;
  }
  v1::ControllerMessage message;
  v1::TransferGrant* grant = message.mutable_transfer_grant();
  grant->set_vm(request.vm);
  grant->set_op(request.op);
  grant->set_source_host(request.peer_host);
  grant->set_target_host(request.host);
  grant->set_secret(*secret);
  grant->set_ttl_ms(kTransferGrantTtlMs);
  // The source may be being admitted now (its reconnection re-dispatches this very phase):
  // the grant then follows its Welcome.
  if (!source->send_after_welcome(std::move(message))) {
    log(LogLevel::kWarn, "transfer_not_granted",
        {{"vm", vm}, {"source", request.peer_host}, {"target", request.host}});
    return std::nullopt;
  }
  return driver::FileSource{address, *secret};
}

std::size_t AgentService::connected() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [host, connection] : attached_) n += connection->welcomed() ? 1 : 0;
  return n;
}

std::uint64_t AgentService::epoch_of(const std::string& host) const {
  std::lock_guard lock(mu_);
  auto it = attached_.find(host);
  return it == attached_.end() ? 0 : it->second->epoch();
}

std::uint64_t AgentService::send_to(const std::string& host, v1::ControllerMessage message) {
  std::shared_ptr<AgentConnection> connection;
  {
    std::lock_guard lock(mu_);
    auto it = attached_.find(host);
    if (it == attached_.end()) return 0;
    connection = it->second;
  }
  // Before its Welcome a stream takes nothing but phases (held for after the Welcome).
  if (!connection->welcomed()) return 0;
  const std::uint64_t epoch = connection->epoch();
  return connection->send(std::move(message)) ? epoch : 0;
}

void AgentService::set_images(const std::string& host, const std::string& driver,
                              const google::protobuf::RepeatedPtrField<v1::Image>& images) {
  driver::RemoteHostServicesSource::HostImages record;
  record.host = host;
  record.driver = driver;
  record.connected = true;
  for (const v1::Image& image : images) record.images.push_back({image.name(), image.kind(), ""});
  std::lock_guard lock(mu_);
  images_[host] = std::move(record);
}

std::vector<driver::RemoteHostServicesSource::HostImages> AgentService::host_images() const {
  std::lock_guard lock(mu_);
  std::vector<driver::RemoteHostServicesSource::HostImages> out;
  out.reserve(images_.size());
  for (const auto& [host, record] : images_) out.push_back(record);
  return out;
}

std::optional<driver::RemoteHostServicesSource::HostImages> AgentService::images_of(
    const std::string& host) const {
  std::lock_guard lock(mu_);
  auto it = images_.find(host);
  if (it == images_.end()) return std::nullopt;
  return it->second;
}

void AgentService::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void AgentService::admission_loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void AgentService::ping_loop() {
  std::unique_lock lock(mu_);
  while (!ping_wake_.wait_for(lock, std::chrono::milliseconds(options_.ping_interval_ms),
                              [this] { return stopping_; })) {
    std::vector<std::shared_ptr<AgentConnection>> streams;
    streams.reserve(attached_.size());
    for (const auto& [host, connection] : attached_) streams.push_back(connection);
    const std::uint64_t seq = ++ping_seq_;
    lock.unlock();
    const Millis now = clock_.now_ms();
    v1::ControllerMessage ping;
    ping.mutable_ping()->set_seq(seq);
    ping.mutable_ping()->set_sent_at_ms(now);
    for (const std::shared_ptr<AgentConnection>& connection : streams) {
      if (connection->welcomed()) connection->send(ping);
    }
    lock.lock();
  }
}

}  // namespace corral::controller
