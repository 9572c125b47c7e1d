// The parts of corral-bench-migrate that are not measured: one QEMU of the VM on one "host"
// (a host directory on this machine), and a bare QMP client for the raw-QEMU baseline.
//
// Contract:
// - RawQmp is a plain unix socket speaking JSON lines (greeting, qmp_capabilities, then one
//   command at a time, events skipped): no Corral QMP or migration code, so the baseline is
//   QEMU by hand.
// - BenchHost launches QEMU with the driver's own command line (launch.h: -S, -daemonize,
//   pidfile, QMP and serial sockets, the VM's qcow2 disk) so that Corral and the baseline
//   migrate the same process shape. A QEMU QMP socket serves one client at a time: a host
//   holds either Corral's QmpClient or a RawQmp (use_corral / use_raw switch).
// - ~BenchHost SIGKILLs the QEMU by the pid its pidfile holds (never by name).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "driver/qemu/launch.h"
#include "driver/qemu/migrate_health.h"
#include "driver/qemu/posix.h"
#include "driver/qemu/qmp_client.h"

namespace corral::bench {

// The busy guest's memory dirtier (as tests/qemu_migrate_test.cc): dd rewriting a 32 MiB
// file in the guest's RAM-backed root, for ever, in the background.
inline constexpr const char* kDirtyLoop =
    "(while :; do dd if=/dev/zero of=/dirty bs=1M count=32 2>/dev/null; done) &\n";

// A unix stream socket connected to `path`, or -1.
int connect_unix(const std::string& path);

class RawQmp {
 public:
  RawQmp() = default;
  RawQmp(const RawQmp&) = delete;
  RawQmp& operator=(const RawQmp&) = delete;
  ~RawQmp() { close(); }

  bool connect(const std::string& socket_path, std::chrono::milliseconds timeout);
  // The command's "return", or nullopt (error() says why: QEMU's desc, a timeout, EOF).
  std::optional<nlohmann::json> execute(const std::string& command,
                                        const nlohmann::json& arguments = nlohmann::json::object());
  const std::string& error() const { return error_; }
  bool connected() const { return fd_ >= 0; }
  void close();

 private:
  std::optional<nlohmann::json> read_message(std::chrono::milliseconds timeout);
  int fd_ = -1;
  std::string buffer_;
  std::string error_;
};

class BenchHost {
 public:
  // VM 1 under <host_dir>/vms/1/, `memory_mib`, the test guest's kernel and initrd, opening
  // `disk` (shared storage); paused (-S) or waiting for a migration (`incoming`). nullptr,
  // with the reason printed, when QEMU did not start.
  static std::unique_ptr<BenchHost> launch(const std::string& host_dir, bool incoming,
                                           const std::string& disk, int memory_mib);
  ~BenchHost() { kill(); }
  BenchHost(const BenchHost&) = delete;
  BenchHost& operator=(const BenchHost&) = delete;

  // Corral's client on this QEMU's QMP socket (the raw one closed first), or the raw one.
  driver::qemu::QmpClient* use_corral();
  RawQmp* use_raw();

  const driver::qemu::VmPaths& paths() const { return paths_; }
  void kill();
  bool wait_gone(std::chrono::milliseconds timeout) const;

  void type(const std::string& text);
  bool console_has(const std::string& text, std::chrono::milliseconds timeout);
  // cont, the readiness line, then the shell prompt.
  bool boot();
  // migrate_health.h on this QEMU's console, from its start.
  driver::qemu::HealthReport health(const std::string& nonce);

 private:
  BenchHost() = default;
  void drain();

  driver::qemu::VmPaths paths_;
  pid_t pid_ = 0;
  driver::qemu::QmpClient qmp_;
  RawQmp raw_;
  driver::qemu::UniqueFd serial_;
};

}  // namespace corral::bench
