// QemuProcess: one VM's QEMU process as its worker holds it — the pid and a pidfd to see it
// end, the QMP connection and the serial socket — with what starts, finds and ends it.
//
// Contract:
// - Owned by the VM's worker thread; only running() may be read from other threads.
// - start() launches QEMU daemonized and paused (launch.h); attach() then connects QMP and the
//   serial port. After a server restart attach() alone re-attaches to a running process.
// - The worker's event pump notices the exit (the pidfd turns readable) and calls gone();
//   hard_stop() waits through the pump it is given, so events keep flowing meanwhile.
// - exited() stays true after gone() until the worker handles the exit (take_exit()), which
//   says whether the worker itself ended the process (hard_stop) or it ended on its own.
// - Never kills a process that is not a QEMU of this VM (its command line names this VM's
//   pidfile), and only by pid.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "driver/qemu/launch.h"
#include "driver/qemu/posix.h"
#include "driver/qemu/qemu_config.h"
#include "driver/qemu/qmp_client.h"
#include "store/types.h"

namespace corral::driver::qemu {

// How long QEMU has to answer a QMP command, and to daemonize after it was started.
inline constexpr std::chrono::milliseconds kQmpTimeout{5000};
inline constexpr std::chrono::milliseconds kLaunchTimeout{60000};

// What QEMU last said in its log (at most `max` bytes, trailing newlines dropped), for an
// error message.
std::string qemu_said(const std::string& log, std::size_t max);

class QemuProcess {
 public:
  // Waits at most `timeout` for the process to end, pumping the worker's events meanwhile;
  // true once it has.
  using WaitGone = std::function<bool(std::chrono::milliseconds timeout)>;

  QemuProcess(store::VmId vm, const VmPaths& paths, const QemuConfig& config)
      : vm_(vm), paths_(paths), config_(config) {}

  bool alive() const { return pid_ > 0 && !exited_; }
  // A process is attached (any thread).
  bool running() const { return has_process_; }
  pid_t pid() const { return pid_; }
  QmpClient& qmp() { return qmp_; }
  // For the worker's poll(): invalid when there is none.
  int pidfd() const { return pidfd_.get(); }
  int serial_fd() const { return serial_.get(); }

  // Removes the previous process's sockets and pidfile, runs QEMU for `spec` (noting `label`
  // in qemu.log) and returns the pid it wrote. Not attached yet.
  [[nodiscard]] Result<pid_t> start(const LaunchSpec& spec, std::string_view label);
  [[nodiscard]] Status attach(pid_t pid);
  // QMP quit, then SIGTERM, then SIGKILL, each given a while to work.
  void hard_stop(const WaitGone& wait_gone);
  // Ends every QEMU process of this VM but the attached one: a launch a crash interrupted
  // must never leave a second process beside the next one.
  void kill_leftovers();
  // Waits while a launch from before a restart is still daemonizing (a process names our
  // pidfile, which holds no live pid yet), so reconcile finds the process it starts.
  void await_interrupted_launch() const;
  // QEMU's run state ("running", "paused", "shutdown" ...).
  [[nodiscard]] Result<std::string> run_status();

  // Console input for the guest (dropped when the serial port is not connected).
  void write_serial(const std::string& bytes);
  // What the serial port has now, without waiting ("" if nothing). `drain`: everything there
  // is; otherwise one read, and an end of stream closes the socket.
  std::string read_serial(bool drain);

  // The process ended: drop its handles (the exit stays pending for take_exit()).
  void gone();
  bool exited() const { return exited_; }
  // Handles the pending exit: whether we caused it (hard_stop).
  bool take_exit();

 private:
  void connect_serial();

  const store::VmId vm_;
  const VmPaths& paths_;
  const QemuConfig& config_;

  pid_t pid_ = 0;
  UniqueFd pidfd_;
  QmpClient qmp_;
  UniqueFd serial_;
  std::atomic<bool> has_process_ = false;
  bool exited_ = false;       // the process ended
  bool expect_exit_ = false;  // ... because we ended it
};

}  // namespace corral::driver::qemu
