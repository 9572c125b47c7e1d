// AgentConsoles: the controller's side of an agent's serial consoles (wire/agent.proto's
// ConsoleLogRequest, ConsoleAttach, ConsoleInput, ConsoleDetach and their answers), without
// gRPC: messages leave through `send`, answers come in through on_reply/on_output.
//
// Contract:
// - console_log(), attach() and write() send one request with a fresh request_id and wait for
//   the ConsoleReply with that id, at most `timeout_ms`, on the calling (API) thread — never
//   on the engine's or gRPC's. Errors, each naming the host: kUnavailable when no stream of the
//   host is welcomed ("host h2 is not connected"), when it ends before answering, or when the
//   agent does not answer in time (an older agent ignores these messages: it times out);
//   otherwise the agent's own error (kNotFound, kConflict, ...).
// - One attachment per VM per stream: the first attach() of a (host, vm) sends ConsoleAttach,
//   later ones only add a subscriber; every subscriber gets each ConsoleOutput; the last
//   detach() sends ConsoleDetach. The stream's end (on_disconnected with its epoch), or the
//   agent's `closed`, hands every subscriber of it an empty chunk (the console closed) and
//   forgets them.
// - A reply nobody waits for (timed out) and output of a VM nobody attached are dropped.
// - Thread-safe; `send` and the subscribers' callbacks are called without the lock held.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "common/clock.h"
#include "common/result.h"
#include "driver/driver.h"
#include "wire/agent.pb.h"

namespace corral::controller {

namespace v1 = ::corral::agent::v1;

class AgentConsoles {
 public:
  // Queues `message` on `host`'s welcomed stream; returns that stream's epoch, 0 when the host
  // has none (or the stream is closing).
  using Send = std::function<std::uint64_t(const std::string& host, v1::ControllerMessage)>;

  // Request ids start from the wall clock: an agent's outbox may hand a new controller
  // process a reply to its predecessor's request, which must not match a new one.
  AgentConsoles(Send send, Millis timeout_ms)
      : send_(std::move(send)), timeout_ms_(timeout_ms), next_id_(first_request_id()) {}

  [[nodiscard]] Result<std::string> console_log(const std::string& host, store::VmId vm,
                                                std::size_t max_bytes);
  [[nodiscard]] Result<int> attach(const std::string& host, store::VmId vm,
                                   driver::ConsoleOutput output);
  void detach(const std::string& host, store::VmId vm, int handle);
  [[nodiscard]] Status write(const std::string& host, store::VmId vm, std::string bytes);
  // The sim's external event (a name of sim::parse_external_event) on the agent's sim.
  [[nodiscard]] Status sim_event(const std::string& host, store::VmId vm, std::string event);

  // From the host's stream of `epoch`.
  void on_reply(const v1::ConsoleReply& reply);
  void on_output(const std::string& host, std::uint64_t epoch, const v1::ConsoleOutput& output);
  void on_disconnected(const std::string& host, std::uint64_t epoch);

  // Requests waiting for their answer now (tests: none is left behind).
  std::size_t waiting() const;

 private:
  struct Pending {
    std::string host;
    std::uint64_t epoch = 0;
    std::optional<v1::ConsoleReply> reply;
    bool lost = false;  // the stream ended first
  };
  struct Attachment {
    std::uint64_t epoch = 0;
    std::map<int, driver::ConsoleOutput> subscribers;
  };
  using Key = std::pair<std::string, store::VmId>;

  // Sends make(request_id) and waits for the answer; *epoch: the stream it went on.
  Result<v1::ConsoleReply> call(const std::string& host,
                                const std::function<v1::ControllerMessage(std::uint64_t)>& make,
                                std::uint64_t* epoch);

  static std::uint64_t first_request_id();

  const Send send_;
  const Millis timeout_ms_;

  mutable std::mutex mu_;
  std::condition_variable answered_;
  std::uint64_t next_id_;
  int next_handle_ = 0;
  std::map<std::uint64_t, std::shared_ptr<Pending>> pending_;
  std::map<Key, Attachment> attached_;
};

}  // namespace corral::controller
