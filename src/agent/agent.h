// Agent: `corral agent`'s main loop. Gets its identity (identity.h), starts the driver with
// the agent's state as its sink, and keeps one stream to the controller (session.h),
// reconnecting with a backoff of 0.5 s doubling to 2 s after a stream is lost; a lease thread
// fences the may_fence VMs when the controller goes quiet (lease.h), connected or not.
//
// Contract: run() returns 0 after stop() (the guests keep running: the driver's stop() ends
// its workers, not its VMs), 1 on a fatal error — no identity and no token, a token the
// controller refuses ("token" in the message), a certificate it refuses ("certificate"), a
// Refuse — with fatal_message() saying why. Before the first Welcome the agent stops no VM:
// the found ones are adopted by the driver as they are.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agent/firewall.h"
#include "agent/identity.h"
#include "agent/session.h"
#include "agent/state.h"
#include "agent/transfer_files.h"
#include "common/clock.h"
#include "driver/driver.h"

namespace corral::agent {

struct AgentOptions {
  std::string data_dir;
  std::string controller_host;
  int controller_port = 0;
  JoinSettings join;
  std::string agent_version = "dev";
  std::map<std::string, std::string> labels;
  std::optional<v1::Capacity> capacity;  // default: this machine's (metrics.h)
  int backoff_min_ms = 500;
  int backoff_max_ms = 2000;
  int lease_tick_ms = 100;
  int welcome_timeout_ms = 30'000;  // Hello sent, neither Welcome nor Refuse: reconnect
  // The fence guard (agent/guard): `<binary> fence-guard` holds the lease in a process of its
  // own, so the may_fence guests stop when the lease runs out even if this agent is dead.
  // Empty: no guard (tests of the agent alone).
  std::string fence_guard_binary;
  int guard_renew_ms = 500;
  // Cold migrations' files (agent/transfer_files.h), started once the identity is known; the
  // driver was given its fetcher. Null: this agent neither serves nor receives files.
  std::shared_ptr<AgentTransfer> transfer;
  // Security groups (agent/firewall.h), started with the agent's outbox. Null: this host has
  // no taps, every firewall job is answered applied.
  std::shared_ptr<HostFirewallWorker> firewall;
};

class Agent {
 public:
  // clock: wall time (certificates). lease_clock: what the lease counts in (default: clock;
  // the command passes a BootClock).
  Agent(driver::Driver& driver, const Clock& clock, AgentOptions options,
        const Clock* lease_clock = nullptr)
      : driver_(driver),
        clock_(clock),
        lease_clock_(lease_clock != nullptr ? *lease_clock : clock),
        options_(std::move(options)) {}

  int run();
  void stop();
  // Failure rehearsal (`--sim-hosts`): cut(true) drops the stream and dials no more, as if the
  // network to the controller were cut — the lease still runs out and fences; cut(false)
  // dials again.
  void cut(bool cut);
  const std::string& fatal_message() const { return fatal_; }
  // Set once run() has its identity and started the driver (tests).
  AgentState* state() { return state_.get(); }

 private:
  bool sleep_unless_stopped(int ms);  // false: stopped
  void run_guard();                   // the fence guard's renewals, until stopped

  driver::Driver& driver_;
  const Clock& clock_;
  const Clock& lease_clock_;
  const AgentOptions options_;
  std::string fatal_;
  std::unique_ptr<AgentState> state_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  bool cut_ = false;
  Session* session_ = nullptr;
};

}  // namespace corral::agent
