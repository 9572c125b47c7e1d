// Where a VM's files live and the QEMU command line that runs it. Pure: no I/O.
//
// Contract: one directory per VM, <data-dir>/vms/<id>/, holding everything of that VM —
// qemu.pid, qmp.sock, serial.sock, serial.log (what the guest wrote since its process
// started), qemu.log (QEMU's own messages), disk.qcow2 (the VM's disk: an overlay on a disk
// image, or a blank disk for kernel images) and memory.state while it is suspended. With
// shared storage the disk alone lives in <shared-dir>/vms/<id>/ instead.
// The command line never passes through a shell; only the exec: migration URI does, and it
// is built from these paths alone (shell_quote), never from request text.
#pragma once

#include <string>
#include <vector>

#include "driver/qemu/images.h"
#include "store/types.h"

namespace corral::driver::qemu {

struct VmPaths {
  std::string dir;
  std::string pidfile;
  std::string qmp;
  std::string serial;
  std::string serial_log;
  std::string qemu_log;
  std::string disk;
  std::string memory_state;
  // The directory the disk is in: `dir`, or <shared_dir>/vms/<id> with shared storage (then
  // another host may have the same disk open: only the host that runs the VM deletes it).
  std::string disk_dir;

  static VmPaths of(const std::string& data_dir, store::VmId vm,
                    const std::string& shared_dir = {});
  bool shared_disk() const { return disk_dir != dir; }
};

// The directory every VM's directory is in: <data-dir>/vms.
std::string vms_dir(const std::string& data_dir);

struct LaunchSpec {
  store::VmId vm = 0;
  VmPaths paths;
  int vcpus = 1;
  int memory_mib = 256;
  Image image;                  // what boots
  bool attach_own_disk = true;  // the VM's disk.qcow2 as a virtio disk
  std::string accel = "tcg";    // "kvm" or "tcg"
  bool incoming = false;        // start waiting for a migration stream (restore)
  std::string qemu_binary = "qemu-system-x86_64";
};

// The argv: paused (-S) until `cont`, daemonized with a pidfile, QMP and the serial port
// on unix sockets, and -no-shutdown so a guest power-off leaves the process for the driver
// to see and end.
std::vector<std::string> qemu_argv(const LaunchSpec& spec);

// 'text' quoted for /bin/sh (for QEMU's exec: migration URIs).
std::string shell_quote(const std::string& text);

}  // namespace corral::driver::qemu
