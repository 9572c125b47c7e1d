// QemuConfig: how the qemu driver runs its VMs (the server's --accel, --shutdown-timeout,
// --shutdown-fallback, --monitor-interval ... options), shared by the driver, each VM's
// worker and its QEMU process. Read-only once the driver has started.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "driver/driver.h"
#include "driver/file_fetch.h"

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
  // Live migration: the IPv4 address (or name) this host's incoming migrations listen on and
  // give the source in their endpoint (the agent's --migration-address).
  std::string migration_address = "127.0.0.1";
  // Shared storage (the agent's --shared-dir; absolute, "" for none): the VMs' disks live in
  // <shared_dir>/vms/<id>/, so two hosts configured with the same directory open the same
  // disk and a live migration moves only memory. What is per host (QMP socket, serial log,
  // pidfile, saved memory) stays under data_dir.
  std::string shared_dir;
  // A cold migration's target pulls the VM's files through this (the agent's; empty: this
  // host cannot receive a cold migration, as an in-process server's single host).
  FileFetcher fetch_files;
  // Opens the tap of a VM's NIC inside Corral's namespace of this host, on its network's
  // bridge (the agent's network plumbing, src/net): QEMU gets the descriptor (getfd), the
  // tap lives as long as a descriptor of it is open. Empty: this host has no networks, and a
  // VM with NICs cannot run here.
  std::function<Result<int>(store::VmId vm, const NicSpec& nic)> open_tap;
  // How long an unplug waits for the guest to let go of the device (device_del only asks).
  std::chrono::milliseconds unplug_timeout{20000};
};

}  // namespace corral::driver::qemu
