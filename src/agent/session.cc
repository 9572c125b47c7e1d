#include "agent/session.h"

#include <grpcpp/create_channel.h>

#include <chrono>
#include <condition_variable>
#include <thread>

#include "agent/console.h"
#include "cluster/tls_dial.h"
#include "common/log.h"
#include "wire/agent.grpc.pb.h"
#include "wire/rpc_status.h"

namespace corral::agent {

using std::chrono::milliseconds;
using Stream = grpc::ClientReaderWriter<v1::AgentMessage, v1::ControllerMessage>;

void Session::abort() {
  std::lock_guard lock(mu_);
  aborted_ = true;  // before run() has a stream: it starts none
  if (context_ != nullptr) context_->TryCancel();
}

void Session::stop() {
  stopped_ = true;
  std::lock_guard lock(mu_);
  if (context_ != nullptr) context_->TryCancel();
  state_.outbox().wake();
}

SessionEnd Session::run() {
  // As the controller's side (cluster_server.cc): no bandwidth-delay probes (HTTP/2 PINGs) on
  // a stream of small messages; they cost both ends CPU for nothing (a third of it with
  // `--sim-hosts 100`).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  auto channel = grpc::CreateCustomChannel(host_ + ":" + std::to_string(port_),
                                           wire::agent_channel_credentials(identity_), args);
  auto stub = v1::AgentService::NewStub(channel);
  grpc::ClientContext context;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return {SessionEnd::Kind::kStopped, "", false};
    if (aborted_) return {SessionEnd::Kind::kLost, "aborted", false};
    context_ = &context;
  }
  struct Clear {
    Session& s;
    ~Clear() {
      std::lock_guard lock(s.mu_);
      s.context_ = nullptr;
    }
  } clear{*this};

  std::unique_ptr<Stream> stream = stub->Connect(&context);
  v1::ControllerMessage in;
  bool answered = false;
  {
    // A controller that takes the stream but never answers the Hello must not hold the agent.
    std::mutex m;
    std::condition_variable cv;
    std::thread watchdog([&] {
      std::unique_lock lock(m);
      if (!cv.wait_for(lock, milliseconds(welcome_timeout_ms_), [&] { return answered; })) {
        context.TryCancel();
      }
    });
    const bool ok = stream->Write(state_.make_hello()) && stream->Read(&in);
    {
      std::lock_guard lock(m);
      answered = true;
    }
    cv.notify_all();
    watchdog.join();
    if (!ok) return classify_failure(stream->Finish(), false);
  }
  if (in.has_refuse()) {
    context.TryCancel();
    (void)stream->Finish();
    return {SessionEnd::Kind::kFatal, "the controller refused this agent: " + in.refuse().message(),
            false};
  }
  if (!in.has_welcome()) {
    context.TryCancel();
    (void)stream->Finish();
    return {SessionEnd::Kind::kLost, "the controller's first message was not a Welcome", false};
  }
  state_.heard();
  const std::vector<store::VmId> discarded = state_.on_welcome(in.welcome());
  // Before any phase of this stream: a phase that opens a tap applies it first.
  if (in.welcome().has_firewall()) state_.on_firewall(in.welcome().firewall());
  log(LogLevel::kInfo, "welcomed",
      {{"controller", host_ + ":" + std::to_string(port_)},
       {"epoch", std::to_string(in.welcome().epoch())},
       {"placed", std::to_string(in.welcome().vms_size())},
       {"discarded", std::to_string(discarded.size())},
       {"lease_ms", std::to_string(in.welcome().lease_ms())}});

  stream_done_ = false;
  // The consoles this stream attaches end with it (the controller forgets them too).
  AgentConsole consoles(state_.driver(), state_.outbox(), state_.host());
  std::thread writer([this, &stream] { writer_loop(*stream); });
  SessionEnd end{SessionEnd::Kind::kLost, "", true};
  while (stream->Read(&in)) {
    state_.heard();
    switch (in.body_case()) {
      case v1::ControllerMessage::kPhaseRequest:
        state_.on_phase_request(in.phase_request());
        break;
      case v1::ControllerMessage::kTransferGrant:
        state_.on_transfer_grant(in.transfer_grant());
        break;
      case v1::ControllerMessage::kFirewall:
        state_.on_firewall(in.firewall());
        break;
      case v1::ControllerMessage::kPing: {
        std::lock_guard lock(pings_mu_);
        pings_.push_back(in.ping().seq());
        state_.outbox().wake();
        break;
      }
      case v1::ControllerMessage::kRefuse:
        end = {SessionEnd::Kind::kFatal,
               "the controller refused this agent: " + in.refuse().message(), true};
        context.TryCancel();
        break;
      case v1::ControllerMessage::kConsoleLogRequest:
      case v1::ControllerMessage::kConsoleAttach:
      case v1::ControllerMessage::kConsoleInput:
      case v1::ControllerMessage::kConsoleDetach:
      case v1::ControllerMessage::kSimExternalEvent:
        consoles.handle(in);
        break;
      case v1::ControllerMessage::kWelcome:  // one per stream; a second one is ignored
      case v1::ControllerMessage::BODY_NOT_SET:
        break;
    }
    if (end.kind == SessionEnd::Kind::kFatal) break;
  }
  stream_done_ = true;
  consoles.detach_all();
  state_.outbox().wake();
  context.TryCancel();  // the writer may be blocked in Write
  writer.join();
  const grpc::Status status = stream->Finish();
  if (end.kind == SessionEnd::Kind::kFatal) return end;
  if (stopped_) return {SessionEnd::Kind::kStopped, "", true};
  return classify_failure(status, true);
}

void Session::writer_loop(Stream& stream) {
  using Clock = std::chrono::steady_clock;
  Clock::time_point next_beat = Clock::now();
  while (!stream_done_ && !stopped_) {
    std::vector<v1::AgentMessage> out;
    bool answered = false;
    {
      std::lock_guard lock(pings_mu_);
      for (std::uint64_t seq : pings_) out.push_back(state_.make_heartbeat(seq));
      answered = !pings_.empty();
      pings_.clear();
    }
    const Clock::time_point now = Clock::now();
    if (answered || now >= next_beat) {
      // Images are looked at once per heartbeat: the controller learns of a new one within one.
      if (std::optional<v1::AgentMessage> images = state_.image_change()) {
        out.push_back(std::move(*images));
      }
      if (!answered) out.push_back(state_.make_heartbeat(0));
      // A Ping's answer stands for the periodic heartbeat. The controller pings all its agents
      // in one sweep per interval, so their answers reach it together and it reads them in few
      // wake-ups (corral-bench-agents); while the sweeps come, this agent's own timer never
      // fires, and it takes over half an interval after they stop.
      const Millis interval = state_.heartbeat_interval_ms();
      next_beat = now + milliseconds(answered ? interval + interval / 2 : interval);
    }
    const std::size_t own = out.size();  // heartbeats: not worth keeping when unsent
    std::vector<v1::AgentMessage> queued = state_.outbox().take_all();
    for (v1::AgentMessage& m : queued) out.push_back(std::move(m));
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (stream.Write(out[i])) continue;
      // Not (or not surely) delivered: results and events go back, to be resent after a
      // reconnect (the controller drops what it already has: they echo op/step/attempt).
      std::vector<v1::AgentMessage> rest;
      for (std::size_t j = std::max(i, own); j < out.size(); ++j) rest.push_back(std::move(out[j]));
      state_.outbox().put_back_front(std::move(rest));
      return;
    }
    const auto wait = std::chrono::duration_cast<milliseconds>(next_beat - Clock::now());
    state_.outbox().wait(std::max(wait, milliseconds(1)));
  }
}

SessionEnd Session::classify_failure(const grpc::Status& status, bool welcomed) {
  if (stopped_) return {SessionEnd::Kind::kStopped, "", welcomed};
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    // gRPC says only "Socket closed" when the controller refuses our certificate: ask TLS.
    Status probe = cluster::probe_client_certificate(host_, port_, identity_.cert_pem,
                                                     identity_.key_pem, identity_.ca_pem);
    if (!probe && probe.error().message.find("certificate") != std::string::npos) {
      return {SessionEnd::Kind::kFatal, "connect: " + probe.error().message, welcomed};
    }
  }
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
      status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
      status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    return {SessionEnd::Kind::kFatal,
            "the controller refused this agent: " + status.error_message(), welcomed};
  }
  return {SessionEnd::Kind::kLost, wire::from_grpc_status(status, "connect").message, welcomed};
}

}  // namespace corral::agent
