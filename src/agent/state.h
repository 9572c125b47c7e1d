// AgentState: what one `corral agent` knows across its streams — the driver, the outbox, the
// lease, the last epoch, and which VMs the controller placed here (with may_fence and their
// models, for the heartbeat's metrics). It is the driver's sink: results and events go into
// the outbox whether or not a stream is up.
//
// Contract: thread-safe (one mutex; never held while calling the driver). on_welcome() is the
// only place VMs are discarded: every found VM the Welcome does not place here, never one it
// places. check_lease() fences the may_fence VMs once per expiry (see lease.h).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/lease.h"
#include "agent/metrics.h"
#include "agent/outbox.h"
#include "common/clock.h"
#include "driver/driver.h"
#include "wire/agent.pb.h"

namespace corral::agent {

class AgentTransfer;
class HostFirewallWorker;

struct HelloSettings {
  std::string host;
  std::string agent_version = "dev";
  std::string driver;
  std::map<std::string, std::string> labels;
  v1::Capacity capacity;
  std::string transfer_address;  // agent/transfer_files.h; "" for none
};

class AgentState final : public driver::DriverSink {
 public:
  AgentState(driver::Driver& driver, const Clock& clock, HelloSettings hello)
      : driver_(driver), clock_(clock), hello_(std::move(hello)), lease_(clock) {}

  v1::AgentMessage make_hello();
  // Applies a Welcome: epoch, lease, placed VMs; discards the VMs found here that it does not
  // place. Returns the discarded VMs.
  std::vector<store::VmId> on_welcome(const v1::Welcome& welcome);
  // A PhaseRequest of the current epoch goes to the driver (true); a stale one is dropped, one
  // this build cannot read is answered with a failed PhaseResult in the outbox.
  bool on_phase_request(const v1::PhaseRequest& request);
  void heard();  // any controller message renews the lease
  // The VMs fenced now; `expired_now` says whether the lease ran out at this call (once per
  // expiry, even with nothing to fence).
  std::vector<store::VmId> check_lease(bool* expired_now = nullptr);
  v1::AgentMessage make_heartbeat(std::uint64_t ping_seq);
  // An ImageList when the driver's images differ from the last Hello's or ImageList's (a
  // snapshot added one, an operator removed one); nullopt when they do not.
  std::optional<v1::AgentMessage> image_change();

  std::vector<store::VmId> fenced() const;  // every VM fenced so far, in order (logs, tests)
  std::uint64_t epoch() const;
  std::uint32_t heartbeat_interval_ms() const;
  Millis lease_remaining_ms() const;
  // What the fence guard must hold (agent/guard): the lease left and the placed VMs marked
  // may_fence; `expired`: the lease ran out (the guard must be left to fire, not renewed);
  // remaining_ms 0 and not expired: no lease to hold (lease off, not welcomed yet).
  struct GuardLease {
    Millis remaining_ms = 0;
    bool expired = false;
    std::vector<store::VmId> vms;
  };
  GuardLease guard_lease() const;
  // The VMs the fence guard holds now (after a renew; empty after a clear): reported in every
  // heartbeat, so the controller evacuates only VMs sure to be stopped.
  void set_guarded(std::vector<store::VmId> vms);
  // Cold migrations: TransferGrants go to `transfer` (the agent's; null: refused, logged).
  void set_transfer(AgentTransfer* transfer) { transfer_ = transfer; }
  void on_transfer_grant(const v1::TransferGrant& grant);
  // Security groups: HostFirewall jobs (alone or in a Welcome) go to `firewall` (the agent's,
  // set before the first stream); without one every job is answered applied (no taps here).
  void set_firewall(HostFirewallWorker* firewall) { firewall_ = firewall; }
  void on_firewall(const v1::HostFirewall& job);
  Outbox& outbox() { return outbox_; }
  driver::Driver& driver() { return driver_; }
  const std::string& host() const { return hello_.host; }

  // DriverSink
  void phase_done(driver::PhaseResult result) override;
  void power_event(driver::PowerEvent event) override;
  // Advisory: the outbox keeps only the newest report per VM (Outbox::push_progress).
  void phase_progress(driver::PhaseProgress progress) override;

 private:
  struct Placed {
    bool may_fence = false;
    int vcpus = 0;
    int memory_mib = 0;
    store::OpId ending_op = 0;  // an ends_vm phase of this op is running
  };

  driver::Driver& driver_;
  const Clock& clock_;
  const HelloSettings hello_;
  AgentTransfer* transfer_ = nullptr;       // set before the first stream
  HostFirewallWorker* firewall_ = nullptr;  // likewise
  Outbox outbox_;

  mutable std::mutex mu_;
  Lease lease_;
  std::uint64_t epoch_ = 0;
  std::uint32_t heartbeat_ms_ = 2000;
  std::uint64_t heartbeat_seq_ = 0;
  std::map<store::VmId, Placed> placed_;
  std::vector<store::VmId> guarded_;
  std::vector<store::VmId> fenced_;
  std::vector<std::pair<std::string, std::string>> images_sent_;  // (name, kind)
  CpuIdle cpu_idle_;                                              // free CPU between two heartbeats
};

}  // namespace corral::agent
