// HostFirewallWorker: the agent's side of security groups (docs/security-groups.md). The
// controller sends the host's whole firewall (agent.proto HostFirewall, alone or in a Welcome);
// the worker turns it into net::NicFirewall (wire/firewall_wire.h) and applies it on its own
// thread, so the stream's reader never waits for nft, and answers a FirewallResult through
// the outbox.
//
// Contract:
// - submit() never blocks. Jobs are the host's whole truth: a newer one replaces an older one
//   not started yet (that one is not answered; the controller drops older answers anyway).
//   Each started job is answered once, echoing its generation: error "" when applied.
// - A job that does not convert (a field an agent refuses, wire/firewall_wire.h) is answered
//   with the error and changes nothing on the host.
// - apply_latest() applies the newest job received, on the calling thread (after the one in
//   hand, if any): a phase calls it once the host's namespace exists and before it opens a
//   tap, so the tap is filtered from its first frame (the controller sends the job that lists
//   the phase's NICs before the phase). A job it starts is answered like the worker's.
// - With no apply function (an agent with no taps: the sim) every job is answered applied at
//   once, on the caller's thread, and no thread is started.
// - stop() waits for the job in hand; nothing is answered after it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "agent/outbox.h"
#include "common/result.h"
#include "net/firewall.h"
#include "wire/agent.pb.h"

namespace corral::agent {

class HostFirewallWorker {
 public:
  // Applies `nics` in the host's namespace (net::apply_firewall); a missing namespace is no
  // error (no tap to filter yet).
  using Apply = std::function<Status(const std::vector<net::NicFirewall>& nics)>;

  explicit HostFirewallWorker(Apply apply) : apply_(std::move(apply)) {}
  ~HostFirewallWorker() { stop(); }
  HostFirewallWorker(const HostFirewallWorker&) = delete;
  HostFirewallWorker& operator=(const HostFirewallWorker&) = delete;

  // Answers go to `outbox` (must outlive the worker's use). Once, before submit().
  void start(Outbox* outbox);
  void stop();
  void submit(const v1::HostFirewall& job);
  [[nodiscard]] Status apply_latest();

  // The generation of the last job applied (tests, logs); 0: none.
  std::uint64_t applied_generation() const;

 private:
  void loop();
  // Applies `job` and answers it, unless a newer one came meanwhile.
  void run(const v1::HostFirewall& job, std::uint64_t seq);
  // Converts and applies submission `seq`; requires apply_mu_.
  [[nodiscard]] Status apply_job(const v1::HostFirewall& job, std::uint64_t seq);
  void answer(std::uint64_t generation, const std::string& error);

  const Apply apply_;
  Outbox* outbox_ = nullptr;
  std::mutex apply_mu_;  // one application at a time (the worker's or a phase's)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<v1::HostFirewall> latest_;  // the newest job received
  std::uint64_t latest_seq_ = 0;            // its submission number (generations may repeat)
  std::uint64_t applied_seq_ = 0;           // the submission last applied
  bool pending_ = false;                    // latest_ not started yet
  bool stopping_ = false;
  std::uint64_t applied_ = 0;
  std::thread worker_;
};

}  // namespace corral::agent
