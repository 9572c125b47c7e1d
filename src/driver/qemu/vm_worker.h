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
//   of kind kGuestReady (the engine completes the phase, or — after its deadline failed it —
//   marks the operation succeeded late, as seed 000 describes).
// - Between phases the worker watches the process: a guest power-off (QMP SHUTDOWN
//   guest:true) ends the process and reports Power::kShutdown, kGuestPoweroff; a process
//   that ends without a SHUTDOWN event is reported kVanished.
// - reconcile() (queued before any phase, after a server restart) re-attaches to a running
//   QEMU process through its pidfile and QMP socket and reports what it finds.
// - Console: subscribers get what the guest writes on its serial port; write_console()
//   types into it. Both thread-safe.
//
// The class is split by concern: the actor loop and event pump here (vm_worker.cc); the
// QEMU process in qemu_process.h; what the guest said, and the PowerEvents it makes, in
// guest_watch.h (pure); the phases in phases_power.cc, phases_memory.cc (save, restore),
// phases_migrate.cc (live migration) and qemu_storage.cc (disks, snapshots); reconcile after
// a restart in reconcile.cc.
// - Live migration: an abort_migrate submitted while this worker is inside a migrate phase
//   cancels that migration at once (before post-copy); the migrate phase then answers.
//   While a VM is one side of a migration (target: from prepare_migrate until finish or
//   cleanup; source: from a completed migrate until cleanup or abort) its idle worker
//   reports no status drift, and a target process that ends by itself (its incoming stream
//   broke) is no event: the next phase of the migration says what became of it. A target
//   whose guest ran at the origin runs it as soon as post-copy starts (a MIGRATION event
//   seen between phases), as post-copy needs.
#pragma once

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
#include "driver/qemu/devices.h"
#include "driver/qemu/guest_watch.h"
#include "driver/qemu/images.h"
#include "driver/qemu/launch.h"
#include "driver/qemu/phase_outcome.h"
#include "driver/qemu/posix.h"
#include "driver/qemu/qemu_config.h"
#include "driver/qemu/qemu_process.h"
#include "driver/qemu/qmp_client.h"

namespace corral::driver::qemu {

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
  bool running() const { return process_.running(); }

 private:
  enum class Wait : std::uint8_t { kMet, kTimedOut, kPreempted };
  using Outcome = PhaseOutcome;
  using Job = std::variant<PhaseRequest, lifecycle::Power>;  // a phase, or a reconcile
  // How long a memory save or restore, a disk copy or a snapshot job may take.
  static constexpr std::chrono::milliseconds kSaveTimeout{300000};

  // The actor (vm_worker.cc).
  void loop();
  void wake();
  bool has_newer_request();
  // Polls the process, QMP, the serial port and the wake-up fd for at most `timeout`.
  void pump(std::chrono::milliseconds timeout);
  Wait wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                bool preemptible = true);
  // Between phases: tells the engine what the guest did (guest_watch) and ends the process of
  // a guest that powered off.
  void react_when_idle();
  void monitor();
  void on_qmp_event(const QmpEvent& event);
  void on_serial(std::string_view bytes);
  void on_process_gone();
  void send_event(PowerEvent event);
  // An empty progress report of the phase `request` runs (its figures filled by the caller).
  PhaseProgress progress_of(const PhaseRequest& request) const {
    return PhaseProgress{
        .vm = vm_, .op = request.op, .step = request.step, .attempt = request.attempt};
  }

  // The process (vm_worker.cc, over qemu_process).
  bool alive() const { return process_.alive(); }
  QmpClient& qmp() { return process_.qmp(); }
  // Starts QEMU paused (-S) with the request's devices plugged (sync_devices).
  [[nodiscard]] Status launch(const PhaseRequest& request, const Image& image, bool incoming);
  // Makes QEMU's NICs and volumes the request's (devices.h): plugs what is missing, unplugs
  // what is extra; the plan it carried out. Nothing to do without a process (a powered-off VM
  // gets them at its boot). `plugging_only`: an attach, which must plug something — a plan
  // with nothing to do is refused before anything is done.
  // `taps`: NICs' taps opened beforehand (launch opens them while QEMU starts) or why not,
  // by NIC index; a NIC to plug that has none gets its tap from config_.open_tap here. Taps
  // left unused are closed with the map.
  [[nodiscard]] Result<DevicePlan> sync_devices(const PhaseRequest& request,
                                                bool plugging_only = false,
                                                std::map<int, Result<UniqueFd>> taps = {});
  Outcome hotplug(const PhaseRequest& request);
  void hard_stop();

  // Power phases (phases_power.cc).
  Outcome run(const PhaseRequest& request);
  Outcome boot(const PhaseRequest& request, bool rescue);
  Outcome shutdown(const PhaseRequest& request);
  Outcome acpi_reboot();
  Outcome qmp_step(std::string_view command, lifecycle::Power power);

  // Memory save and restore (phases_memory.cc).
  // Polls query-migrate until the migration completes or fails (`error` says why).
  Wait wait_migration(std::string_view what, bool preemptible, std::string& error);
  Outcome save(const PhaseRequest& request);
  // A save that failed while QEMU still ran: the VM as it was (running, or paused if it was).
  Outcome save_failed(const PhaseRequest& request, std::string error);
  Outcome restore(const PhaseRequest& request);

  // Live migration between hosts (phases_migrate.cc).
  enum class MigrationRole : std::uint8_t { kNone, kSource, kTarget };
  Outcome prepare_migrate(const PhaseRequest& request);
  Outcome live_migrate(const PhaseRequest& request);
  Outcome finish_migrate(const PhaseRequest& request);
  Outcome migration_cleanup(const PhaseRequest& request);
  Outcome abort_migrate(const PhaseRequest& request);

  // A cold migration's target prolog (phases_cold_migrate.cc): the files from the source.
  struct BackingFile {
    std::string path;
    std::string format;
  };
  Outcome receive_files(const PhaseRequest& request);
  // The image file a VM's disk of `image` is an overlay of (none: a blank disk).
  static std::optional<BackingFile> backing_of(const Image& image);
  // A disk that came from another host points at that host's image path: rebase it (header
  // only) onto this host's copy of the same image when the path does not exist here.
  [[nodiscard]] Status adopt_backing(const PhaseRequest& request);

  // Disks and snapshots (qemu_storage.cc).
  [[nodiscard]] Status ensure_disk(const PhaseRequest& request);
  // The VM's directory, and with `shared_disk` the disk's in the shared dir too.
  void remove_files(bool shared_disk = true);
  Outcome snapshot(const PhaseRequest& request);
  Outcome internal_snapshot(const PhaseRequest& request);
  Outcome disk_resize(const PhaseRequest& request);

  // After a server restart (reconcile.cc).
  void do_reconcile(lifecycle::Power stored);

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
  // Set by submit() for an abort_migrate: a running migrate() cancels (migrate.h).
  std::atomic<bool> migrate_cancel_ = false;

  std::mutex console_mu_;
  std::map<int, ConsoleCallback> consoles_;
  int next_console_ = 1;

  // Worker thread only (but process_.running(), an atomic).
  QemuProcess process_;
  GuestState guest_;
  bool in_phase_ = false;
  std::optional<PhaseRequest> provisioning_;  // an os_provisioning phase waiting for readiness
  std::chrono::steady_clock::time_point last_monitor_{};
  MigrationRole migration_role_ = MigrationRole::kNone;
  // Target of a migration whose guest was running: `cont` as soon as post-copy starts.
  bool resume_in_postcopy_ = false;
};

}  // namespace corral::driver::qemu
