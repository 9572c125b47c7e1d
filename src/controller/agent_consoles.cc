#include "controller/agent_consoles.h"

#include <chrono>
#include <vector>

namespace corral::controller {
namespace {

Error unavailable(std::string message) {
  return Error{ErrorCode::kUnavailable, std::move(message), {}, {}};
}

// The agent's failure as the API's error; the agent's message already names its host.
Error error_of(const v1::ConsoleReply& reply) {
  // Not a switch: a newer agent may send a code this build does not know (kInternal then).
  ErrorCode code = ErrorCode::kInternal;
  if (reply.code() == v1::ConsoleReply::ERROR_CODE_NOT_FOUND) code = ErrorCode::kNotFound;
  if (reply.code() == v1::ConsoleReply::ERROR_CODE_CONFLICT) code = ErrorCode::kConflict;
  if (reply.code() == v1::ConsoleReply::ERROR_CODE_UNAVAILABLE) code = ErrorCode::kUnavailable;
  if (reply.code() == v1::ConsoleReply::ERROR_CODE_INVALID) code = ErrorCode::kInvalidArgument;
  return Error{code, reply.error(), {}, {}};
}

}  // namespace

std::uint64_t AgentConsoles::first_request_id() {
  // Microseconds since the Unix epoch: a restarted controller starts past every id it gave.
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

Result<v1::ConsoleReply> AgentConsoles::call(
    const std::string& host, const std::function<v1::ControllerMessage(std::uint64_t)>& make,
    std::uint64_t* epoch) {
  auto pending = std::make_shared<Pending>();
  pending->host = host;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    id = ++next_id_;
    pending_[id] = pending;
  }
  const std::uint64_t sent_on = send_(host, make(id));
  std::unique_lock lock(mu_);
  if (sent_on == 0) {
    pending_.erase(id);
    return fail(unavailable("host " + host + " is not connected (its agent has no stream to " +
                            "this controller): retry once it is back (`corral host show " + host +
                            "`)"));
  }
  pending->epoch = sent_on;
  if (epoch != nullptr) *epoch = sent_on;
  const bool done = answered_.wait_for(lock, std::chrono::milliseconds(timeout_ms_),
                                       [&] { return pending->reply || pending->lost; });
  pending_.erase(id);
  if (pending->reply) return std::move(*pending->reply);
  if (!done) {
    return fail(unavailable("host " + host + "'s agent did not answer within " +
                            std::to_string(timeout_ms_) + " ms (too busy, or too old to serve " +
                            "consoles): retry later"));
  }
  return fail(unavailable("host " + host + " disconnected before its agent answered"));
}

Result<std::string> AgentConsoles::console_log(const std::string& host, store::VmId vm,
                                               std::size_t max_bytes) {
  Result<v1::ConsoleReply> reply = call(
      host,
      [&](std::uint64_t id) {
        v1::ControllerMessage m;
        v1::ConsoleLogRequest* r = m.mutable_console_log_request();
        r->set_request_id(id);
        r->set_vm(vm);
        r->set_max_bytes(max_bytes);
        return m;
      },
      nullptr);
  if (!reply) return fail(std::move(reply.error()));
  if (!reply->ok()) return fail(error_of(*reply));
  // The agent's log is already its tail; a peer sending more is cut, not trusted.
  std::string log = reply->log();
  if (log.size() > max_bytes) log.erase(0, log.size() - max_bytes);
  return log;
}

Result<int> AgentConsoles::attach(const std::string& host, store::VmId vm,
                                  driver::ConsoleOutput output) {
  const Key key{host, vm};
  {
    std::lock_guard lock(mu_);
    auto it = attached_.find(key);
    if (it != attached_.end()) {
      const int handle = ++next_handle_;
      it->second.subscribers.emplace(handle, std::move(output));
      return handle;
    }
  }
  std::uint64_t epoch = 0;
  Result<v1::ConsoleReply> reply = call(
      host,
      [&](std::uint64_t id) {
        v1::ControllerMessage m;
        m.mutable_console_attach()->set_request_id(id);
        m.mutable_console_attach()->set_vm(vm);
        return m;
      },
      &epoch);
  if (!reply) return fail(std::move(reply.error()));
  if (!reply->ok()) return fail(error_of(*reply));
  std::lock_guard lock(mu_);
  Attachment& attachment = attached_[key];  // two first attaches at once share one
  attachment.epoch = epoch;
  const int handle = ++next_handle_;
  attachment.subscribers.emplace(handle, std::move(output));
  return handle;
}

void AgentConsoles::detach(const std::string& host, store::VmId vm, int handle) {
  {
    std::lock_guard lock(mu_);
    auto it = attached_.find({host, vm});
    if (it == attached_.end() || it->second.subscribers.erase(handle) == 0) return;
    if (!it->second.subscribers.empty()) return;
    attached_.erase(it);
  }
  v1::ControllerMessage m;
  m.mutable_console_detach()->set_vm(vm);
  send_(host, std::move(m));  // not connected: the stream's end detached it already
}

Status AgentConsoles::write(const std::string& host, store::VmId vm, std::string bytes) {
  Result<v1::ConsoleReply> reply = call(
      host,
      [&](std::uint64_t id) {
        v1::ControllerMessage m;
        v1::ConsoleInput* input = m.mutable_console_input();
        input->set_request_id(id);
        input->set_vm(vm);
        input->set_bytes(bytes);
        return m;
      },
      nullptr);
  if (!reply) return fail(std::move(reply.error()));
  if (!reply->ok()) return fail(error_of(*reply));
  return {};
}

Status AgentConsoles::sim_event(const std::string& host, store::VmId vm, std::string event) {
  Result<v1::ConsoleReply> reply = call(
      host,
      [&](std::uint64_t id) {
        v1::ControllerMessage m;
        v1::SimExternalEvent* e = m.mutable_sim_external_event();
        e->set_request_id(id);
        e->set_vm(vm);
        e->set_event(event);
        return m;
      },
      nullptr);
  if (!reply) return fail(std::move(reply.error()));
  if (!reply->ok()) return fail(error_of(*reply));
  return {};
}

void AgentConsoles::on_reply(const v1::ConsoleReply& reply) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(reply.request_id());
  if (it == pending_.end()) return;  // timed out already
  it->second->reply = reply;
  answered_.notify_all();
}

void AgentConsoles::on_output(const std::string& host, std::uint64_t epoch,
                              const v1::ConsoleOutput& output) {
  std::vector<driver::ConsoleOutput> to;
  {
    std::lock_guard lock(mu_);
    auto it = attached_.find({host, output.vm()});
    if (it == attached_.end() || it->second.epoch != epoch) return;
    for (const auto& [handle, subscriber] : it->second.subscribers) to.push_back(subscriber);
    if (output.closed()) attached_.erase(it);
  }
  const std::string_view bytes = output.closed() ? std::string_view() : output.bytes();
  if (bytes.empty() && !output.closed()) return;  // an empty chunk would read as closed
  for (const driver::ConsoleOutput& subscriber : to) subscriber(bytes);
}

void AgentConsoles::on_disconnected(const std::string& host, std::uint64_t epoch) {
  std::vector<driver::ConsoleOutput> closed;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, pending] : pending_) {
      if (pending->host == host && pending->epoch == epoch) pending->lost = true;
    }
    for (auto it = attached_.begin(); it != attached_.end();) {
      if (it->first.first == host && it->second.epoch == epoch) {
        for (const auto& [handle, subscriber] : it->second.subscribers)
          closed.push_back(subscriber);
        it = attached_.erase(it);
      } else {
        ++it;
      }
    }
    answered_.notify_all();
  }
  for (const driver::ConsoleOutput& subscriber : closed) subscriber(std::string_view());
}

std::size_t AgentConsoles::waiting() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace corral::controller
