#include "controller/agent_connection.h"

#include <atomic>

#include "common/log.h"
#include "controller/convert.h"

namespace corral::controller {
namespace {
std::atomic<std::uint64_t> next_id{1};
}  // namespace

AgentConnection::AgentConnection(grpc::CallbackServerContext* context, Handler& handler,
                                 std::size_t max_queue)
    : context_(context), handler_(handler), max_queue_(max_queue), id_(next_id.fetch_add(1)) {}

AgentConnection* AgentConnection::open(grpc::CallbackServerContext* context, Handler& handler,
                                       std::size_t max_queue) {
  std::shared_ptr<AgentConnection> connection(new AgentConnection(context, handler, max_queue));
  AgentConnection* raw = connection.get();
  raw->self_ = std::move(connection);
  raw->StartRead(&raw->in_);
  return raw;
}

void AgentConnection::set_host(std::string host) {
  std::lock_guard lock(mu_);
  host_ = std::move(host);
}

std::string AgentConnection::host() const {
  std::lock_guard lock(mu_);
  return host_;
}

std::uint64_t AgentConnection::epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

bool AgentConnection::welcomed() const {
  std::lock_guard lock(mu_);
  return welcomed_;
}

bool AgentConnection::welcome(v1::Welcome welcome) {
  {
    std::lock_guard lock(mu_);
    if (finish_) return false;
    epoch_ = welcome.epoch();
    welcomed_ = true;
    v1::ControllerMessage message;
    *message.mutable_welcome() = std::move(welcome);
    queue_.push_back(std::move(message));
    for (v1::ControllerMessage& held : held_messages_) queue_.push_back(std::move(held));
    for (const driver::PhaseRequest& request : held_) {
      v1::ControllerMessage phase;
      *phase.mutable_phase_request() = phase_request_to_wire(request, epoch_);
      queue_.push_back(std::move(phase));
    }
    held_.clear();
    held_messages_.clear();
    // Under the lock, so no Finish (pump) can come between the check and the read. gRPC runs
    // no reaction inline from a Start* call made outside a reaction.
    StartRead(&in_);
  }
  pump();
  return true;
}

void AgentConnection::refuse(const v1::Refuse& refuse) {
  {
    std::lock_guard lock(mu_);
    if (finish_) return;
    v1::ControllerMessage message;
    *message.mutable_refuse() = refuse;
    queue_.push_back(std::move(message));
    // The status repeats the reason for a client that reads only the status.
    finish_ = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, refuse.message());
    held_.clear();
    held_messages_.clear();
  }
  pump();
}

void AgentConnection::close(const grpc::Status& status, Close how) {
  {
    std::lock_guard lock(mu_);
    if (finish_) return;
    finish_ = status;
    held_.clear();
    held_messages_.clear();
    if (how != Close::kDrain) queue_.clear();
  }
  // A cancelled stream's outstanding read and write fail at once instead of waiting for a
  // peer that may be gone.
  if (how == Close::kCancel) context_->TryCancel();
  pump();
}

bool AgentConnection::enqueue_locked(v1::ControllerMessage message) {
  if (finish_) return false;
  if (queue_.size() >= max_queue_) {
    log(LogLevel::kWarn, "agent_stream_overflow",
        {{"host", host_}, {"queued", std::to_string(queue_.size())}});
    finish_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "the agent does not read its stream; reconnect");
    queue_.clear();
    return false;
  }
  queue_.push_back(std::move(message));
  return true;
}

bool AgentConnection::send(v1::ControllerMessage message) {
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    queued = enqueue_locked(std::move(message));
  }
  pump();
  return queued;
}

bool AgentConnection::send_after_welcome(v1::ControllerMessage message) {
  {
    std::lock_guard lock(mu_);
    if (finish_) return false;
    if (!welcomed_) {
      held_messages_.push_back(std::move(message));
      return true;
    }
  }
  return send(std::move(message));
}

bool AgentConnection::send_phase(const driver::PhaseRequest& request) {
  {
    std::lock_guard lock(mu_);
    if (finish_) return false;
    if (!welcomed_) {
      held_.push_back(request);
      return true;
    }
  }
  v1::ControllerMessage message;
  *message.mutable_phase_request() = phase_request_to_wire(request, epoch());
  return send(std::move(message));
}

void AgentConnection::pump() {
  enum class Next : std::uint8_t { kNothing, kWrite, kFinish };
  Next next = Next::kNothing;
  grpc::Status status;
  {
    std::lock_guard lock(mu_);
    if (writing_ || finished_) return;
    if (!queue_.empty()) {
      writing_msg_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      next = Next::kWrite;
    } else if (finish_) {
      finished_ = true;
      status = *finish_;
      next = Next::kFinish;
    }
  }
  // Outside the lock: gRPC may run a reaction on this thread.
  switch (next) {
    case Next::kNothing:
      break;
    case Next::kWrite:
      StartWrite(&writing_msg_);
      break;
    case Next::kFinish:
      Finish(status);
      break;
  }
}

void AgentConnection::OnReadDone(bool ok) {
  if (!ok) {
    // The agent half-closed or the stream broke: end it (what is queued still goes out).
    close(grpc::Status::OK, Close::kDrain);
    return;
  }
  if (!got_first_) {
    got_first_ = true;
    // The next read starts in welcome(): nothing is read before the agent is admitted.
    handler_.on_first(shared_from_this(), std::move(in_));
    return;
  }
  handler_.on_message(*this, in_);
  std::lock_guard lock(mu_);
  if (!finished_) StartRead(&in_);  // no read after Finish
}

void AgentConnection::OnWriteDone(bool ok) {
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      queue_.clear();
      if (!finish_) finish_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the agent is gone");
    }
  }
  pump();
}

void AgentConnection::OnCancel() {
  {
    std::lock_guard lock(mu_);
    queue_.clear();
    held_.clear();
    held_messages_.clear();
    if (!finish_) finish_ = grpc::Status(grpc::StatusCode::CANCELLED, "the stream was cancelled");
  }
  pump();
}

void AgentConnection::OnDone() {
  handler_.on_done(*this);
  std::shared_ptr<AgentConnection> self = std::move(self_);  // may delete this on return
}

}  // namespace corral::controller
