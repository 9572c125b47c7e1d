// AgentConnection: one agent's live AgentService.Connect stream on the controller (gRPC's
// callback API: no thread per stream, so a thousand agents cost no thousand threads).
//
// Contract:
// - Every method is thread-safe and never blocks: messages go to a write queue that one
//   outstanding gRPC write at a time drains. A queue longer than `max_queue` means the agent
//   does not read: the stream is closed (its phases time out or are re-sent on reconnect).
// - The first message read goes to Handler::on_first; nothing more is read until welcome().
//   Phase requests queued before welcome() are held and sent right after the Welcome, stamped
//   with its epoch (the engine re-dispatches running phases while admitting the agent).
// - After welcome(), each message read goes to Handler::on_message on a gRPC thread (the
//   handler must not block); when the stream is over, Handler::on_done runs exactly once.
// - refuse() sends the Refuse, then ends the stream with FAILED_PRECONDITION and the same
//   message; close() ends it with the given status: kDrain after what is queued, kDrop
//   without it, kCancel also cancels the call (outstanding reads and writes fail at once; the
//   agent sees CANCELLED, whatever the status).
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_callback.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "driver/driver.h"
#include "wire/agent.grpc.pb.h"

namespace corral::controller {

namespace v1 = ::corral::agent::v1;

class AgentConnection final
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage>,
      public std::enable_shared_from_this<AgentConnection> {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_first(std::shared_ptr<AgentConnection> connection, v1::AgentMessage first) = 0;
    virtual void on_message(AgentConnection& connection, const v1::AgentMessage& message) = 0;
    virtual void on_done(AgentConnection& connection) = 0;
  };

  // The reactor to return from Connect(); it keeps itself alive until OnDone.
  static AgentConnection* open(grpc::CallbackServerContext* context, Handler& handler,
                               std::size_t max_queue);

  const grpc::CallbackServerContext& context() const { return *context_; }
  std::uint64_t id() const { return id_; }

  void set_host(std::string host);
  std::string host() const;
  std::uint64_t epoch() const;  // 0 until welcomed
  bool welcomed() const;

  // Sends the Welcome, then the held phase requests, then starts reading. False when the
  // stream is already closing.
  bool welcome(v1::Welcome welcome);
  enum class Close : std::uint8_t { kDrain, kDrop, kCancel };
  void refuse(const v1::Refuse& refuse);
  void close(const grpc::Status& status, Close how);
  // False when the stream is closing (or its queue is full).
  bool send(v1::ControllerMessage message);
  bool send_phase(const driver::PhaseRequest& request);
  // As send(), but before the Welcome the message is held and goes right after it (a message
  // the agent must have on this stream, such as a TransferGrant made while it was admitted).
  bool send_after_welcome(v1::ControllerMessage message);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  AgentConnection(grpc::CallbackServerContext* context, Handler& handler, std::size_t max_queue);
  bool enqueue_locked(v1::ControllerMessage message);
  // Starts the next write or the Finish, if due; call with the lock NOT held.
  void pump();

  grpc::CallbackServerContext* context_;
  Handler& handler_;
  const std::size_t max_queue_;
  const std::uint64_t id_;
  std::shared_ptr<AgentConnection> self_;  // released in OnDone

  v1::AgentMessage in_;  // the one outstanding read's buffer
  bool got_first_ = false;

  mutable std::mutex mu_;
  std::string host_;
  std::uint64_t epoch_ = 0;
  bool welcomed_ = false;
  std::vector<driver::PhaseRequest> held_;            // before the Welcome
  std::vector<v1::ControllerMessage> held_messages_;  // before the Welcome (send_after_welcome)
  std::deque<v1::ControllerMessage> queue_;
  v1::ControllerMessage writing_msg_;  // the one outstanding write's buffer
  bool writing_ = false;
  std::optional<grpc::Status> finish_;  // set: closing, Finish once the queue is drained
  bool finished_ = false;
};

}  // namespace corral::controller
