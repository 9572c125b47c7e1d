// Reconcile after a server restart: find the VM's QEMU process again (its pidfile, checked
// against its command line), re-attach to it, and report what it is doing — or what became
// of a VM whose process is gone.
#include "driver/qemu/vm_worker.h"

namespace corral::driver::qemu {

using lifecycle::Power;

void VmWorker::do_reconcile(Power stored) {
  process_.await_interrupted_launch();
  const std::optional<pid_t> pid = read_pidfile(paths_.pidfile);
  if (pid && process_alive(*pid) &&
      process_cmdline(*pid).find(paths_.pidfile) != std::string::npos) {
    if (Status attached = process_.attach(*pid); !attached) {
      if (config_.warn) {
        config_.warn("vm " + std::to_string(vm_) + ": cannot re-attach to QEMU pid " +
                     std::to_string(*pid) + ": " + attached.error().message);
      }
      return;
    }
    guest_watch::reattached(guest_, read_tail(paths_.serial_log, 1 << 20), config_.readiness_line);
    Result<std::string> status = process_.run_status();
    if (!status) return;
    // A guest that shut down meanwhile is left for react_when_idle to complete.
    if (std::optional<PowerEvent> event = guest_watch::on_reattach_status(guest_, *status)) {
      send_event(std::move(*event));
    }
    return;
  }
  if (std::optional<PowerEvent> event =
          guest_watch::found_without_process(stored, read_tail(paths_.serial_log, 2000))) {
    send_event(std::move(*event));
  }
}

}  // namespace corral::driver::qemu
