// AgentConsole: the agent's side of the serial consoles the controller asks for over the
// stream (wire/agent.proto: ConsoleLogRequest, ConsoleAttach, ConsoleInput, ConsoleDetach),
// served from the agent's Driver.
//
// Contract:
// - handle() answers each request with exactly one ConsoleReply (same request_id) through the
//   outbox; an error's message names this host ("on host h2: ..."), its code says what kind.
//   It calls the driver on the caller's thread: the driver's console methods do not wait on
//   phases (driver/driver.h).
// - One attachment per VM: a second ConsoleAttach of an attached VM answers ok. Output goes to
//   the outbox as ConsoleOutput; the console's end as ConsoleOutput{closed}.
// - SimExternalEvent goes to the driver's FaultInjector when it runs the sim (else a
//   conflict), answered like the console requests.
// - detach_all() ends every attachment: call it when the stream ends (the controller forgets
//   them with the stream). Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "agent/outbox.h"
#include "driver/driver.h"
#include "wire/agent.pb.h"

namespace corral::agent {

class AgentConsole {
 public:
  AgentConsole(driver::Driver& driver, Outbox& outbox, std::string host)
      : driver_(driver), outbox_(outbox), host_(std::move(host)) {}
  ~AgentConsole() { detach_all(); }
  AgentConsole(const AgentConsole&) = delete;
  AgentConsole& operator=(const AgentConsole&) = delete;

  // True when `message` was a console request (handled); false: not one of these.
  bool handle(const v1::ControllerMessage& message);
  void detach_all();

 private:
  void reply(std::uint64_t request_id, const Status& status, std::string log = {});
  Status attach(store::VmId vm);
  // The sim's external event (SimExternalEvent), when the driver is the sim.
  Status sim_event(store::VmId vm, const std::string& name);

  driver::Driver& driver_;
  Outbox& outbox_;
  const std::string host_;
  std::mutex mu_;
  std::map<store::VmId, int> attached_;  // vm -> the driver's handle
};

}  // namespace corral::agent
