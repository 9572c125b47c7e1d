#include "agent/console.h"

#include <vector>

#include "driver/sim/sim_driver.h"

namespace corral::agent {
namespace {

v1::ConsoleReply::ErrorCode wire_code(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return v1::ConsoleReply::ERROR_CODE_NOT_FOUND;
    case ErrorCode::kConflict:
    case ErrorCode::kInvalidState:
    case ErrorCode::kLocked:
      return v1::ConsoleReply::ERROR_CODE_CONFLICT;
    case ErrorCode::kUnavailable:
    case ErrorCode::kRateLimited:
      return v1::ConsoleReply::ERROR_CODE_UNAVAILABLE;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kUnknownAction:
    case ErrorCode::kTooLarge:
      return v1::ConsoleReply::ERROR_CODE_INVALID;
    case ErrorCode::kInternal:
    case ErrorCode::kUnauthenticated:  // the API's own codes: never from an agent's console
    case ErrorCode::kForbidden:
    case ErrorCode::kQuotaExceeded:
      return v1::ConsoleReply::ERROR_CODE_UNSPECIFIED;
  }
  return v1::ConsoleReply::ERROR_CODE_UNSPECIFIED;
}

}  // namespace

void AgentConsole::reply(std::uint64_t request_id, const Status& status, std::string log) {
  v1::AgentMessage m;
  v1::ConsoleReply* r = m.mutable_console_reply();
  r->set_request_id(request_id);
  r->set_ok(status.has_value());
  if (status) {
    r->set_log(std::move(log));
  } else {
    r->set_error("on host " + host_ + ": " + status.error().message);
    r->set_code(wire_code(status.error().code));
  }
  outbox_.push(std::move(m));
}

Status AgentConsole::attach(store::VmId vm) {
  {
    std::lock_guard lock(mu_);
    if (attached_.contains(vm)) return {};
  }
  // Not under the lock: a driver may report the console's end from inside attach. Requests
  // come from the one reading thread, so no second attach of the VM runs meanwhile.
  Result<int> handle = driver_.attach_console(vm, [this, vm](std::string_view bytes) {
    if (bytes.empty()) {  // the console ended: the attachment is over
      std::lock_guard lock(mu_);
      attached_.erase(vm);
    }
    v1::AgentMessage m;
    v1::ConsoleOutput* out = m.mutable_console_output();
    out->set_vm(vm);
    out->set_bytes(std::string(bytes));
    out->set_closed(bytes.empty());
    outbox_.push(std::move(m));
  });
  if (!handle) return fail(std::move(handle.error()));
  std::lock_guard lock(mu_);
  attached_[vm] = *handle;
  return {};
}

Status AgentConsole::sim_event(store::VmId vm, const std::string& name) {
  auto* sim = dynamic_cast<driver::sim::FaultInjector*>(&driver_);
  if (sim == nullptr) {
    return fail(Error{ErrorCode::kConflict,
                      "this agent runs the " + driver_.name() +
                          " driver, not the sim: " + "there is nothing to inject",
                      {},
                      {}});
  }
  Result<driver::sim::ExternalEvent> kind = driver::sim::parse_external_event(name);
  if (!kind) return fail(std::move(kind.error()));
  sim->external_event(vm, *kind);
  return {};
}

bool AgentConsole::handle(const v1::ControllerMessage& message) {
  switch (message.body_case()) {
    case v1::ControllerMessage::kConsoleLogRequest: {
      const v1::ConsoleLogRequest& r = message.console_log_request();
      Result<std::string> log = driver_.console_log(r.vm(), r.max_bytes());
      if (log) {
        reply(r.request_id(), {}, std::move(*log));
      } else {
        reply(r.request_id(), fail(std::move(log.error())));
      }
      return true;
    }
    case v1::ControllerMessage::kConsoleAttach:
      reply(message.console_attach().request_id(), attach(message.console_attach().vm()));
      return true;
    case v1::ControllerMessage::kConsoleInput: {
      const v1::ConsoleInput& r = message.console_input();
      reply(r.request_id(), driver_.write_console(r.vm(), r.bytes()));
      return true;
    }
    case v1::ControllerMessage::kConsoleDetach: {
      int handle = 0;
      {
        std::lock_guard lock(mu_);
        auto it = attached_.find(message.console_detach().vm());
        if (it == attached_.end()) return true;
        handle = it->second;
        attached_.erase(it);
      }
      driver_.detach_console(message.console_detach().vm(), handle);
      return true;
    }
    case v1::ControllerMessage::kSimExternalEvent: {
      const v1::SimExternalEvent& r = message.sim_external_event();
      reply(r.request_id(), sim_event(r.vm(), r.event()));
      return true;
    }
    case v1::ControllerMessage::kWelcome:
    case v1::ControllerMessage::kRefuse:
    case v1::ControllerMessage::kPhaseRequest:
    case v1::ControllerMessage::kPing:
    case v1::ControllerMessage::kTransferGrant:
    case v1::ControllerMessage::kFirewall:
    case v1::ControllerMessage::BODY_NOT_SET:
      return false;
  }
  return false;
}

void AgentConsole::detach_all() {
  std::map<store::VmId, int> attached;
  {
    std::lock_guard lock(mu_);
    attached.swap(attached_);
  }
  for (const auto& [vm, handle] : attached) driver_.detach_console(vm, handle);
}

}  // namespace corral::agent
