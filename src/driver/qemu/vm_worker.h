// VmWorker: the actor that owns one VM's QEMU process. The qemu driver has one per VM it
// manages; each runs on its own thread, so a slow guest never delays another VM.
//
// Contract:
// - submit() queues a phase and returns at once. Phases run one after another; a phase that
//   waits (a graceful shutdown, a migration) gives way as soon as a newer request arrives:
//   the engine has moved on (pre-emption, deadline), so the older one's answer would be
//   stale and none is sent.
// - Exactly one PhaseResult per phase that is neither pre-empted nor os_provisioning: that
//   phase ends when the guest's readiness line arrives, which is reported as a PowerEvent
//   with guest_ready (the engine completes the phase, or — after its deadline failed it —
//   marks the operation succeeded late, as seed 000 describes).
// - Between phases the worker watches the process: a guest power-off (QMP SHUTDOWN
//   guest:true) ends the process and reports Power::kShutdown, guest_initiated; a process
//   that ends without a SHUTDOWN event is reported lost.
// - reconcile() (queued before any phase, after a server restart) re-attaches to a running
//   QEMU process through its pidfile and QMP socket and reports what it finds.
// - Console: subscribers get what the guest writes on its serial port; write_console()
//   types into it. Both thread-safe.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>

#include "driver/driver.h"
#include "driver/qemu/images.h"
#include "driver/qemu/launch.h"
#include "driver/qemu/posix.h"
#include "driver/qemu/qmp_client.h"

namespace corral::driver::qemu {

enum class ShutdownFallback : std::uint8_t {
  kPowerOff,  // the guest ignored ACPI: pull the plug (the VM still ends powered off)
  kFail,      // back to RUNNING with the reason, as OpenNebula does
};

struct QemuConfig {
  std::string data_dir;  // absolute
  std::string qemu_binary = "qemu-system-x86_64";
  std::string qemu_img = "qemu-img";
  std::string accel = "tcg";
  std::string host_name = "localhost";
  std::string readiness_line = "corral-guest: ready";
  std::chrono::milliseconds shutdown_timeout{30000};
  ShutdownFallback shutdown_fallback = ShutdownFallback::kPowerOff;
  std::string rescue_image = "tiny";
  int blank_disk_mib = 64;  // the disk a kernel image's VM gets
  // vCPUs offered per host core, as Nova's cpu_allocation_ratio (16.0 by default there):
  // guests mostly idle, so a host runs more vCPUs than it has cores.
  double cpu_allocation_ratio = 16.0;
  std::function<void(const std::string&)> warn;  // how the driver reports what it noticed
  // How often an idle VM's QEMU is asked for its status, and how long it has to answer.
  std::chrono::milliseconds monitor_interval{2000};
  std::chrono::milliseconds monitor_timeout{1000};
};

using ConsoleCallback = ConsoleOutput;

class VmWorker {
 public:
  VmWorker(store::VmId vm, const QemuConfig& config, const ImageStore& images, DriverSink* sink);
  ~VmWorker();
  VmWorker(const VmWorker&) = delete;
  VmWorker& operator=(const VmWorker&) = delete;

  void submit(const PhaseRequest& request);
  // After a restart: attach to the process if there is one and report what it is doing.
  void reconcile(lifecycle::Power stored_power);
  // Asks the thread to end (after the step it is in) and joins it. The QEMU process stays.
  void stop();
  // The VM's files are gone (terminated): the driver may drop this worker.
  bool finished() const { return finished_; }

  int attach_console(ConsoleCallback callback);
  void detach_console(int handle);
  // False when the VM has no running process to type into.
  bool write_console(const std::string& bytes);
  bool running() const { return has_process_; }

 private:
  enum class Wait : std::uint8_t { kMet, kTimedOut, kPreempted };
  struct Outcome {
    bool answer = true;  // false: no PhaseResult (pre-empted, or answered by an event)
    bool ok = true;
    std::string error;
    std::optional<lifecycle::Power> power;
    // A failure that left the VM as the operation found it (see driver.h).
    lifecycle::Integrity integrity = lifecycle::Integrity::kUnknown;
  };
  using Job = std::variant<PhaseRequest, lifecycle::Power>;  // a phase, or a reconcile

  void loop();
  void wake();
  bool has_newer_request();
  // Polls the process, QMP, the serial port and the wake-up fd for at most `timeout`.
  void pump(std::chrono::milliseconds timeout);
  Wait wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                bool preemptible = true);
  void react_when_idle();
  void monitor();
  void on_qmp_event(const QmpEvent& event);
  void on_serial(std::string_view bytes);
  void on_process_gone();
  void send_event(PowerEvent event);

  Outcome run(const PhaseRequest& request);
  void do_reconcile(lifecycle::Power stored);

  // The process.
  bool alive() const { return pid_ > 0 && !exited_; }
  [[nodiscard]] Status launch(const PhaseRequest& request, const Image& image, bool incoming);
  [[nodiscard]] Status attach(pid_t pid);
  void connect_serial();
  void hard_stop();
  // Ends every QEMU process of this VM but the attached one: a launch a crash interrupted
  // must never leave a second process beside the next one.
  void kill_leftovers();
  // Waits while a launch from before a restart is still daemonizing (a process names our
  // pidfile, which holds no live pid yet), so reconcile finds the process it starts.
  void await_interrupted_launch();
  [[nodiscard]] Result<std::string> run_status();
  [[nodiscard]] Status ensure_disk(const PhaseRequest& request);
  void remove_files();

  // Phases.
  Outcome boot(const PhaseRequest& request, bool rescue);
  Outcome shutdown(const PhaseRequest& request);
  Outcome acpi_reboot();
  // Polls query-migrate until the migration completes or fails (`error` says why).
  Wait wait_migration(std::string_view what, bool preemptible, std::string& error);
  Outcome save(const PhaseRequest& request);
  // A save that failed while QEMU still ran: the VM as it was (running, or paused if it was).
  Outcome save_failed(const PhaseRequest& request, std::string error);
  Outcome restore(const PhaseRequest& request);
  Outcome snapshot(const PhaseRequest& request);
  Outcome internal_snapshot(const PhaseRequest& request);
  Outcome disk_resize(const PhaseRequest& request);
  Outcome qmp_step(std::string_view command, lifecycle::Power power);

  const store::VmId vm_;
  const QemuConfig& config_;
  const ImageStore& images_;
  DriverSink* const sink_;
  const VmPaths paths_;

  std::mutex mu_;  // guards jobs_, console_in_, stopping_ (with the atomics below)
  std::deque<Job> jobs_;
  std::string console_in_;
  bool stopping_ = false;
  UniqueFd wake_fd_;  // an eventfd
  std::thread thread_;
  std::atomic<bool> finished_ = false;
  std::atomic<bool> has_process_ = false;

  std::mutex console_mu_;
  std::map<int, ConsoleCallback> consoles_;
  int next_console_ = 1;

  // Worker thread only.
  pid_t pid_ = 0;
  UniqueFd pidfd_;
  QmpClient qmp_;
  UniqueFd serial_;
  std::string serial_line_;
  bool exited_ = false;          // the process ended
  bool expect_exit_ = false;     // ... because we ended it
  bool shutdown_seen_ = false;   // QMP SHUTDOWN since the last boot
  bool shutdown_guest_ = false;  // ... and the guest asked for it
  std::string shutdown_reason_;
  bool ready_ = false;           // the readiness line since the last boot
  bool ready_reported_ = false;  // ... and the engine was told
  bool in_phase_ = false;
  std::optional<PhaseRequest> provisioning_;
  std::optional<lifecycle::Power> outside_power_;  // a STOP/RESUME we did not cause
  std::chrono::steady_clock::time_point last_monitor_{};
  bool unresponsive_ = false;  // the last monitor query timed out
  lifecycle::Power reported_power_ =
      lifecycle::Power::kRunning;  // what monitor last said  // an
                                   // os_provisioning phase waiting for readiness
};

}  // namespace corral::driver::qemu
