// HostRouter: the Driver the engine talks to when hosts may be served by agents (issue 11).
//
// Contract:
// - run_phase() routes by request.host: an empty host, or a host of the local in-process
//   driver (local.hosts() at construction), goes to the local driver; any other host goes to
//   the RemoteHosts (the controller's attached agent streams). When no agent of that host is
//   attached the request is dropped with a log line: the engine's phase deadline handles it,
//   and agent_connected() re-dispatches running phases when the agent returns.
// - Results and power events of agents come back through remote_sink(), which forwards to the
//   engine's sink once start() was called and drops (with a log line) before that or after
//   stop().
// - hosts(), name(), images and the serial console are the local driver's: the API asks an
//   agent host's through driver::HostServicesRouter (controller/remote_services.h).
// - RemoteHosts::run_remote() must not block (it only enqueues on a stream).
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "driver/driver.h"

namespace corral::driver {

// The agents' side of the router: implemented by the controller's agent service.
class RemoteHosts {
 public:
  virtual ~RemoteHosts() = default;
  // Queues the request on the stream of request.host's agent; false when none is attached.
  virtual bool run_remote(const PhaseRequest& request) = 0;
};

class HostRouter final : public Driver {
 public:
  // `local` must outlive the router.
  explicit HostRouter(Driver& local);

  // Set once, before the engine starts (the controller is built after the engine's driver).
  void set_remote(RemoteHosts* remote) { remote_.store(remote); }
  // Where agents' results and events go (the controller's connections call it).
  DriverSink& remote_sink() { return forward_; }
  bool is_local(const std::string& host) const;
  // Requests dropped because no agent of the host was attached (for tests and logs).
  std::uint64_t dropped() const { return dropped_.load(); }

  std::string name() const override { return local_.name(); }
  std::vector<HostInfo> hosts() const override { return local_.hosts(); }
  void start(DriverSink* sink) override;
  void stop() override;
  void run_phase(const PhaseRequest& request) override;
  void adopt(store::VmId vm, const std::string& host, lifecycle::Power power) override;
  std::vector<ImageInfo> images() const override { return local_.images(); }
  // The local driver's VMs (agents' come with their heartbeats, engine/hosts.h).
  std::vector<VmUsage> usage() override { return local_.usage(); }
  [[nodiscard]] Result<std::string> console_log(store::VmId vm,
                                                std::size_t max_bytes) const override {
    return local_.console_log(vm, max_bytes);
  }
  [[nodiscard]] Result<int> attach_console(store::VmId vm, ConsoleOutput output) override {
    return local_.attach_console(vm, std::move(output));
  }
  void detach_console(store::VmId vm, int handle) override { local_.detach_console(vm, handle); }
  [[nodiscard]] Status write_console(store::VmId vm, std::string bytes) override {
    return local_.write_console(vm, std::move(bytes));
  }

 private:
  // Forwards to the engine's sink while started.
  class Forward final : public DriverSink {
   public:
    void set(DriverSink* sink);
    void phase_done(PhaseResult result) override;
    void power_event(PowerEvent event) override;
    void phase_progress(PhaseProgress progress) override;

   private:
    std::mutex mu_;  // held while forwarding, so stop() waits for a call in flight
    DriverSink* sink_ = nullptr;
  };

  Driver& local_;
  std::set<std::string> local_hosts_;
  std::atomic<RemoteHosts*> remote_{nullptr};
  Forward forward_;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace corral::driver
