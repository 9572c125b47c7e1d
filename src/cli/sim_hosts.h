// SimHosts: `corral agent --driver sim --sim-hosts N` — N simulated hypervisor hosts in one
// process, for scale tests and failure rehearsals. Each host is a whole agent (agent/agent.h)
// with its own identity and data dir (<data-dir>/PREFIX-0001 ...), its own sim driver, its own
// TLS connection and Connect stream; only the process, the clocks and gRPC's pollers are
// shared. Threads: about four per host (the agent's stream reader, its writer, its lease
// ticker, the sim driver's worker), so N is bounded by threads, not by the controller.
//
// Contract:
// - Identities: a host whose data dir holds one uses it; otherwise, with `api_url`, the host
//   is added through the controller's API (POST /v1/hosts, or POST /v1/hosts/NAME/join-token
//   when it exists already) and joins with the token it gets; without `api_url` run() fails.
//   An https:// `api_url` is verified against `api_ca_cert`, else CORRAL_CA_CERT, else the
//   cluster CA a host here already joined with (the controller's API certificate is from the
//   same CA), else the local server's (cli/trust.h).
// - Failures (sim_hosts_spec.h): each `failures` entry is applied `after_ms` from the start;
//   lines appended to <data-dir>/sim-control ("kill NAME", "cut NAME", "restore NAME") are
//   applied within about 100 ms. The file is emptied on start.
// - run() returns 0 after stop(); 1 with fatal_message() when setup fails or every host's
//   agent has ended on its own (refused, say) — one refused host is logged, the rest go on.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "cli/sim_hosts_spec.h"
#include "common/clock.h"
#include "driver/sim/sim_driver.h"

namespace corral::cli {

struct SimHostsSettings {
  int count = 0;
  std::string prefix = "sim";
  std::string data_dir;       // the hosts' dirs are below it
  std::string api_url;        // the controller's HTTP API, to add the hosts that have no identity
  std::string api_ca_cert;    // --ca-cert: the CA an https:// api_url is verified with
  agent::AgentOptions agent;  // controller, join port, labels, capacity (data_dir, token: per host)
  driver::sim::SimOptions sim;
  std::vector<SimFailure> failures;
};

class SimHosts {
 public:
  SimHosts(SimHostsSettings settings, const Clock& clock, const Clock& lease_clock);
  ~SimHosts();
  SimHosts(const SimHosts&) = delete;
  SimHosts& operator=(const SimHosts&) = delete;

  int run();
  void stop();
  const std::string& fatal_message() const { return fatal_; }

 private:
  struct Host;

  Status prepare();  // dirs and tokens
  std::string api_ca_cert() const;
  void start(Host& host);  // a new driver and agent on a thread of its own
  void apply(const SimFailure& failure);
  void read_control(std::uintmax_t& offset);
  bool all_ended();

  SimHostsSettings settings_;
  const Clock& clock_;
  const Clock& lease_clock_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::string fatal_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace corral::cli
