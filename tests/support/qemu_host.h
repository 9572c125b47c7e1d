// One QEMU process of a VM on one "host" (a host directory standing for a host's data dir),
// for tests of QEMU-level building blocks without a server: launched as launch.h builds it
// (kernel image: the test guest, 128 MiB), its QMP connection, its console.
//
// Contract: the process is SIGKILLed when the object goes, by the pid it wrote (never by
// name). Console output is read from serial.log (the chardev's logfile); the serial socket is
// drained so the guest's UART never waits on a full socket buffer.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "driver/qemu/launch.h"
#include "driver/qemu/migrate_health.h"
#include "driver/qemu/posix.h"
#include "driver/qemu/qmp_client.h"

namespace corral::testing {

std::string read_file(const std::string& path);

class HostQemu {
 public:
  // VM `vm` under <host_dir>/vms/<vm>/, paused (-S) or waiting for a migration (`incoming`).
  // `disk`: the disk to open instead of the host's own (shared storage); the own one is made
  // blank (64 MiB) if missing. Test failures if it does not start.
  static std::unique_ptr<HostQemu> launch(const std::string& host_dir, bool incoming,
                                          const std::string& disk = {}, store::VmId vm = 1);
  ~HostQemu() { kill(); }
  HostQemu(const HostQemu&) = delete;
  HostQemu& operator=(const HostQemu&) = delete;

  driver::qemu::QmpClient& qmp() { return qmp_; }
  pid_t pid() const { return pid_; }
  const driver::qemu::VmPaths& paths() const { return paths_; }

  void kill();
  bool wait_gone(std::chrono::milliseconds timeout) const;

  void type(const std::string& text);
  bool console_has(const std::string& text, std::chrono::milliseconds timeout);
  std::string console() const { return read_file(paths_.serial_log); }

  // Runs the guest and waits for its shell prompt.
  void boot();
  // The guest answers a console probe and its kernel reports no trouble in what it wrote
  // since `from` (migrate_health.h).
  driver::qemu::HealthReport health(std::size_t from, const std::string& nonce);
  // query-status, or the error in <>.
  std::string run_status();

 private:
  HostQemu() = default;
  void connect_serial();
  void drain();

  driver::qemu::VmPaths paths_;
  pid_t pid_ = 0;
  driver::qemu::QmpClient qmp_;
  driver::qemu::UniqueFd serial_;
};

}  // namespace corral::testing
