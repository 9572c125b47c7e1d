// Driver: what a hypervisor must do for Corral. The engine asks for one phase of one
// operation at a time; the driver answers later, through the sink, from any thread.
//
// Contract:
// - run_phase() returns at once; it never blocks on the hypervisor. Exactly one
//   PhaseResult comes back per call — unless the driver hangs (then the engine's deadline
//   applies) or the process dies (then the engine re-dispatches after restart: phases must be
//   idempotent, "re-entrant" as OpenNebula's drivers are asked to be).
// - A result echoes the request's (op_id, step, attempt): the engine drops stale ones.
// - A failed result says what the failure left of the VM's origin (the state the operation
//   started from): kIntact only when the driver knows nothing changed (e.g. a save whose QEMU
//   still runs as before); kUnknown otherwise. A phase whose rule is kRollbackIfIntact goes
//   back to the origin on kIntact and stops in FAILED on kUnknown (Nova's
//   InstanceFaultRollback against any other error); other rules ignore it.
// - Things the hypervisor does by itself (a guest powers off, a process dies) arrive as
//   PowerEvents.
// - The engine holds no lock while calling a driver; a driver never calls into the engine
//   except through the sink (which only enqueues).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "lifecycle/types.h"
#include "store/types.h"

namespace corral::driver {

// Where a cold migration's target pulls the VM's files from (PhaseRequest::files_from).
struct FileSource {
  std::string address;  // host:port of the source agent's transfer service
  std::string secret;   // the ticket's secret, 64 hex digits
};

// A network interface of a VM (issue 13): a tap on its network's bridge on the VM's host,
// seen by the guest as a virtio NIC with this MAC; the address is the network's lease (DHCP
// hands it out by MAC). QEMU device id nic<index>.
struct NicSpec {
  int index = 0;             // the VM's NIC number (OpenNebula's NIC_ID, 0-7), kept while attached
  std::int64_t network = 0;  // the network's id (its bridge br<id> and VXLAN VNI on every host)
  std::string mac;           // 02:00 + the address's four bytes (OpenNebula's rule)
  std::string ip;
  friend bool operator==(const NicSpec&, const NicSpec&) = default;
};

// A volume attached to a VM (issue 13): a file on this host (or on a datastore every host
// mounts), seen by the guest as a virtio disk whose serial names the volume. QEMU device id
// vol<volume>.
struct VolumeSpec {
  std::int64_t volume = 0;
  std::string path;  // absolute, on this host
  std::string format = "raw";
  // The VM's volume slot (0-15), given when attached and kept while it is: the guest-visible
  // PCI address, which both sides of a live migration must agree on.
  int slot = 0;
  friend bool operator==(const VolumeSpec&, const VolumeSpec&) = default;
};

struct PhaseRequest {
  store::VmId vm = 0;
  store::OpId op = 0;
  std::uint8_t step = 0;
  std::uint32_t attempt = 0;
  lifecycle::Action action = lifecycle::Action::kCreate;
  lifecycle::Phase phase = lifecycle::Phase::kNone;
  lifecycle::State origin = lifecycle::State::kInit;
  store::VmModel model;  // the configuration to run with (the desired one during an update)
  std::string host;      // the host this phase runs on (see runs_on)
  // Which side of a move this phase is (lifecycle/types.h RunsOn): kSource runs on the host
  // the VM leaves, kTarget on the one it goes to; kHost: the VM's only host.
  lifecycle::RunsOn runs_on = lifecycle::RunsOn::kHost;
  std::string peer_host;  // the other side of a move (empty: none, or not known yet)
  // snapshot, backup, disk_snapshot*, checkpoint*: the name asked for (valid per
  // store::valid_param_name); absent: the driver names it after the operation.
  std::optional<std::string> name;
  std::int64_t size_mib = 0;  // disk_resize: the disk's new size (0: not given)
  // live_migrate: the options asked for, and (for the source's migrate phase) where the
  // target's prepare_migrate said to send.
  store::MigrationParams migration;
  std::optional<store::MigrationEndpoint> endpoint;
  // migrate (cold), the target's prolog: where the source host serves the VM's files and the
  // secret of the ticket that lets this host pull them (agents: src/transfer). Set by the
  // controller's agent service when it dispatches the phase, never persisted (a re-dispatch
  // gets a fresh ticket); nullopt when the source serves nothing (not attached, or in-process).
  std::optional<FileSource> files_from;
  // Intents the engine derives from the transition table, so a driver never reads it (a
  // controller and an agent of different versions agree on what a phase does):
  bool delete_files = false;  // this phase removes the VM's files (disk, memory state, logs)
  bool ends_vm = false;       // after this phase the VM is gone: the driver forgets it
  // The VM may be recreated elsewhere when its host stops answering (the failure policy is
  // evacuate): an agent fences it once its lease runs out (engine/hosts.h).
  bool may_fence = false;
  // The power the VM has when this phase succeeds, where it is a convention rather than
  // something a hypervisor observes (a saved VM "is" shut off): drivers report it.
  // nullopt: the driver reports what it sees.
  std::optional<lifecycle::Power> power_after;
  // The devices the VM has when this phase succeeds (its NICs and attached volumes, with a
  // hotplug's change applied): a driver makes the hypervisor match them, so a phase that is
  // re-dispatched after a crash converges instead of plugging a device twice.
  std::vector<NicSpec> nics;
  std::vector<VolumeSpec> volumes;
  // OpenSSH public keys the guest lets root log in with (StratusLab's user key; no
  // cloud-init: the qemu driver hands them over in an archive appended to the initrd).
  std::vector<std::string> ssh_keys;
};

struct PhaseResult {
  store::VmId vm = 0;
  store::OpId op = 0;
  std::uint8_t step = 0;
  std::uint32_t attempt = 0;
  bool ok = true;
  std::string error;                                    // why it failed (when !ok)
  lifecycle::Power power = lifecycle::Power::kNoState;  // what the VM is now, if known
  bool power_known = false;
  // When !ok: whether the VM is still as it was before the operation (see the contract).
  lifecycle::Integrity integrity = lifecycle::Integrity::kUnknown;
  // prepare_migrate: where the source is to send (the engine keeps it with the operation).
  std::optional<store::MigrationEndpoint> endpoint;
};

// How far a running phase got (a live migration's query-migrate: Nova's migration record
// fields, libvirt's job info). Any number of these may come while a phase runs, before its
// PhaseResult, from any thread; the engine keeps only those that echo the running phase's
// (op, step, attempt) and drops the others. Advisory: the engine may persist only some of
// them (about once a second per VM, and the last one when the phase ends), and a crash may
// lose the latest. 0 means "not known (yet)"; a report with a downtime says the guest was
// paused that long to switch over (sent once, when the migration completes).
struct PhaseProgress {
  store::VmId vm = 0;
  store::OpId op = 0;
  std::uint8_t step = 0;
  std::uint32_t attempt = 0;
  std::uint64_t memory_total = 0;  // bytes
  std::uint64_t memory_processed = 0;
  std::uint64_t memory_remaining = 0;
  std::uint64_t disk_total = 0;  // bytes (block migration; 0 with shared storage)
  std::uint64_t disk_processed = 0;
  std::uint64_t disk_remaining = 0;
  std::int64_t expected_downtime_ms = 0;  // what the hypervisor expects the switch-over to take
  std::int64_t downtime_ms = 0;           // what it took (0 until the migration completed)
  friend bool operator==(const PhaseProgress&, const PhaseProgress&) = default;
};

// What the hypervisor saw happen to a VM, one fact per event. The engine turns it into a
// lifecycle::Observation (lifecycle/drift.h) for the drift policy, or completes a phase.
enum class PowerEventKind : std::uint8_t {
  kPowerChanged = 1,   // its power is now `power` (paused or resumed outside Corral, a crash,
                       // a shutdown QEMU did, a guest's own S3 suspend)
  kGuestPoweroff = 2,  // the guest shut itself down (QMP SHUTDOWN guest:true): kShutdown
  kVanished = 3,       // the VM vanished (process gone): kNoState
  kUnresponsive = 4,   // the hypervisor does not answer for the VM (it may still run): kNoState
  kGuestReady = 5,     // the guest's readiness line arrived: kRunning
};

// Something the hypervisor did on its own.
struct PowerEvent {
  store::VmId vm = 0;
  PowerEventKind kind = PowerEventKind::kPowerChanged;
  lifecycle::Power power = lifecycle::Power::kNoState;
  std::string cause;
};

// An image a VM can boot (drivers with real images list theirs).
struct ImageInfo {
  std::string name;
  std::string kind;  // "kernel" (kernel + initramfs) or "disk" (qcow2, raw)
  std::string path;  // the image's directory
};

using ConsoleOutput = std::function<void(std::string_view bytes)>;

struct HostInfo {
  std::string name;
  int vcpus = 0;
  int memory_mib = 0;
};

// What a VM uses of its host now, as the hypervisor measures it (StratusLab's cpu%,
// OpenNebula's MONITORING/CPU).
struct VmUsage {
  store::VmId vm = 0;
  double cpu_percent = 0;  // of one CPU (100: one core busy), over the last second or more
  friend bool operator==(const VmUsage&, const VmUsage&) = default;
};

// A VM the driver has on its host (a hypervisor process, a simulated VM), known to the store
// or not: what an agent reports in its Hello.
struct FoundVm {
  store::VmId vm = 0;
  lifecycle::Power power = lifecycle::Power::kNoState;
  int pid = 0;  // its process; 0: none (the sim, a VM suspended to a file)
};

class DriverSink {
 public:
  virtual ~DriverSink() = default;
  virtual void phase_done(PhaseResult result) = 0;
  virtual void power_event(PowerEvent event) = 0;
  // A running phase's progress (see PhaseProgress). Default: ignored, so a sink that has no
  // use for it (a test's, a tool's) need not say so.
  virtual void phase_progress(PhaseProgress /*progress*/) {}
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual std::string name() const = 0;
  virtual std::vector<HostInfo> hosts() const = 0;
  // Called once before any run_phase().
  virtual void start(DriverSink* sink) = 0;
  // Stop worker threads; no callbacks after it returns.
  virtual void stop() = 0;
  virtual void run_phase(const PhaseRequest& request) = 0;
  // After a restart: what the driver knows of a VM the store places on a host (the engine
  // reconciles). Default: nothing known.
  virtual void adopt(store::VmId /*vm*/, const std::string& /*host*/, lifecycle::Power /*power*/) {}

  // For `corral agent` (issue 11). found(): every VM the driver has on its host, callable
  // before start(). fence(vm): stop the VM hard now (its lease ran out: another host may start
  // it), keeping its disks; no PhaseResult, a PowerEvent may follow. discard(vm): the
  // controller does not place the VM here: stop it and delete its files. Both may block for a
  // few seconds (a process being killed); neither calls the sink synchronously. The defaults:
  // a driver without VMs of its own (nothing found, nothing to stop).
  virtual std::vector<FoundVm> found() const { return {}; }
  virtual void fence(store::VmId /*vm*/) {}
  virtual void discard(store::VmId /*vm*/) {}

  // Images VMs can boot. Empty: the driver accepts any image name (the sim).
  virtual std::vector<ImageInfo> images() const { return {}; }

  // What each VM with a process on this driver's hosts uses now; a VM it cannot measure is
  // absent. Any thread; may read /proc (a few ms). Default: nothing measured (the sim).
  virtual std::vector<VmUsage> usage() { return {}; }

  // The serial console, for drivers whose VMs have one. The defaults say there is none.
  // console_log: the tail of what the guest wrote (this boot), at most max_bytes.
  [[nodiscard]] virtual Result<std::string> console_log(store::VmId /*vm*/,
                                                        std::size_t /*max_bytes*/) const {
    return fail(no_console());
  }
  // Live output goes to `output` (from a driver thread; it must only copy or enqueue) until
  // detach_console(handle); empty bytes mean the console closed (the VM's process ended).
  // NOLINTNEXTLINE(performance-unnecessary-value-param): a sink; overrides move it
  [[nodiscard]] virtual Result<int> attach_console(store::VmId /*vm*/, ConsoleOutput /*output*/) {
    return fail(no_console());
  }
  virtual void detach_console(store::VmId /*vm*/, int /*handle*/) {}
  // NOLINTNEXTLINE(performance-unnecessary-value-param): a sink; overrides move it
  [[nodiscard]] virtual Status write_console(store::VmId /*vm*/, std::string /*bytes*/) {
    return fail(no_console());
  }

 private:
  Error no_console() const {
    return Error{
        ErrorCode::kConflict, "the " + name() + " driver's VMs have no serial console", {}, {}};
  }
};

}  // namespace corral::driver
