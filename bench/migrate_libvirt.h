// libvirt's `virsh migrate --live` as corral-bench-migrate's third peer: two libvirt daemons
// on this machine, each a session daemon (qemu:///session) with its own config, run and
// cache directories and its own host UUID (libvirt refuses a migration to "the same host").
// As root the daemons run as `nobody` (a root libvirtd is always the system daemon, whose
// directories are fixed); session daemons start no network, so nothing on the machine's own
// interfaces, routes or firewall changes.
//
// The guest: the same kernel and initramfs, 256 MiB, a qcow2 disk both daemons open (shared
// storage: --unsafe, since the directory is no cluster filesystem), the serial port on a unix
// socket with a log (virtlogd appends, so the target's output follows the source's).
// A migration: `virsh migrate --live --postcopy --unsafe --bandwidth 128 dom <other daemon>
// tcp://127.0.0.1`, with `virsh migrate-postcopy` asked from 200 ms after the start (retried
// every 50 ms until libvirt's job accepts it), as Corral's defaults do. Total: until virsh
// migrate returns (the target domain running). Downtime: the target's
// `virsh domjobinfo --completed` "Total downtime".
//
// Contract: every process this starts (the two libvirtd, each one's virtlogd, the guest's
// QEMU through libvirt) is ended by down() (by pid, or through libvirt for the guest).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "driver/qemu/posix.h"

namespace corral::bench {

struct LibvirtRun {
  double total_ms = 0;
  double downtime_ms = 0;
  bool healthy = false;
};

class LibvirtPeer {
 public:
  LibvirtPeer() = default;
  LibvirtPeer(const LibvirtPeer&) = delete;
  LibvirtPeer& operator=(const LibvirtPeer&) = delete;
  ~LibvirtPeer() { down(); }

  // Starts the two daemons. "" when they answer, else why not (one line).
  std::string up(const std::string& guest_dir, int memory_mib);
  // Creates the domain on the first daemon and waits for its shell; `busy`: then starts the
  // memory dirtier. false (and `why`) when it does not come up.
  bool start_guest(bool busy, std::string& why);
  // Migrates the guest to the other daemon.
  std::optional<LibvirtRun> migrate_once(std::string& why);
  void stop_guest();
  void down();

 private:
  std::string uri(int daemon) const;
  std::string serial_socket(int daemon) const;
  bool type(const std::string& text);

  std::string dir_;
  std::string domain_ = "corral-bench-migrate";
  pid_t daemons_[2] = {0, 0};
  int at_ = 0;  // the daemon the guest runs under
  bool guest_ = false;
  driver::qemu::UniqueFd serial_;  // to the console of the QEMU under daemon serial_at_
  int serial_at_ = -1;
};

}  // namespace corral::bench
