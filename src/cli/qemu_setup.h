// What `corral server --driver qemu` needs before the engine starts: the built-in image
// `tiny` (built by scripts/build-guest-image on first start), the accelerator (probed or
// given), and the driver's configuration.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "driver/qemu/qemu_driver.h"

namespace corral::cli {

struct QemuSetup {
  std::string data_dir;
  std::string accel = "auto";  // auto | kvm | tcg
  double shutdown_timeout_s = 30;
  std::string shutdown_fallback = "poweroff";  // poweroff | fail
  double unplug_timeout_s = 20;                // a guest has to let go of a device_del'd device
  double monitor_interval_s = 2;               // between two query-status of an idle VM
  std::string migration_address;               // "": QemuConfig's default (the loopback)
  std::string shared_dir;                      // "": no shared storage
  driver::FileFetcher fetch_files;             // an agent's (cold migration); empty: none
  // A VM's NIC as a tap (QemuConfig::open_tap); empty: this host has no networks.
  std::function<Result<int>(store::VmId, const driver::NicSpec&)> open_tap;
  std::function<void(const std::string&)> warn;
  std::function<void(const std::string&)> info;
};

// True when qemu-system-x86_64 is on PATH (what makes qemu the default driver).
bool qemu_installed();

[[nodiscard]] Result<std::unique_ptr<driver::qemu::QemuDriver>> make_qemu_driver(
    const QemuSetup& setup);

}  // namespace corral::cli
