// One Connect stream to the controller: Hello, then Welcome or Refuse, then phase requests
// in and results, events and heartbeats out until the stream ends.
//
// Contract: run() returns how the stream ended:
// - kLost: the stream could not start or broke (controller down, network): reconnect later;
//   everything not written stays in the outbox;
// - kFatal: the controller refused this agent (Refuse, with its message) or refused its
//   certificate (the message says "certificate"): no retry helps;
// - kStopped: stop() was called.
// Heartbeats: one answers each Ping, and stands for the periodic one; the writer sends its
// own when it has neither answered a Ping for 1.5 intervals nor sent one for an interval.
// Only the writer thread writes to the stream after the Hello; the calling thread reads.
// stop() may be called from any thread, before or during run().
#pragma once

#include <grpcpp/client_context.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "agent/state.h"
#include "wire/credentials.h"

namespace corral::agent {

struct SessionEnd {
  enum class Kind { kLost, kFatal, kStopped };
  Kind kind = Kind::kLost;
  std::string message;
  bool welcomed = false;  // the stream got as far as a Welcome (the backoff starts over)
};

class Session {
 public:
  Session(AgentState& state, const wire::AgentIdentity& identity, std::string host, int port)
      : state_(state), identity_(identity), host_(std::move(host)), port_(port) {}

  SessionEnd run();
  void stop();
  // Ends the live stream as lost (the agent reconnects): the controller went quiet on it, or
  // the agent is cut (Agent::cut). Called before run() has a stream, run() starts none.
  void abort();
  void set_welcome_timeout_ms(int ms) { welcome_timeout_ms_ = ms; }

 private:
  SessionEnd classify_failure(const grpc::Status& status, bool welcomed);
  void writer_loop(grpc::ClientReaderWriter<v1::AgentMessage, v1::ControllerMessage>& stream);

  AgentState& state_;
  const wire::AgentIdentity& identity_;
  const std::string host_;
  const int port_;
  int welcome_timeout_ms_ = 30'000;  // Hello sent, no answer: give the stream up

  std::mutex mu_;
  grpc::ClientContext* context_ = nullptr;  // of the live stream, for stop()
  bool aborted_ = false;                    // abort() came first: run() ends at once
  std::atomic<bool> stopped_{false};
  std::atomic<bool> stream_done_{false};
  std::mutex pings_mu_;
  std::vector<std::uint64_t> pings_;  // Pings to answer with a heartbeat
};

}  // namespace corral::agent
