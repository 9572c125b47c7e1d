// The canonical lifecycle vocabulary: states, actions, phases, power states.
//
// Contract: every enumerator has a stable number. Numbers are persisted (SQLite) and
// published (API, `corral states --format json`); a number is never renumbered or reused.
// Retire a value by leaving a gap, as OpenNebula does with LCM states 13, 14, 55, 58.
// Switches over these enums have no `default`, so a new value breaks the build
// (-Werror=switch) until every view, the table and the docs handle it.
//
// Pure: no I/O, threads or clock anywhere in src/lifecycle/.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>

namespace corral::lifecycle {

// Stable states. "stopped" is avoided on purpose: it means powered off to Nova and Azure
// but saved-and-moved-off-the-host to OpenNebula. See docs/state-model.md.
enum class State : std::uint8_t {
  kInit = 0,          // the record exists, creation not finished (OpenNebula INIT)
  kPending = 1,       // waiting for a host
  kHold = 2,          // not to be scheduled until released
  kRunning = 3,       // on a host, vCPUs running
  kPaused = 4,        // on a host, vCPUs stopped, memory in place
  kSuspended = 5,     // memory saved to a file on the host, no process
  kPoweroff = 6,      // powered off, host resources kept
  kHibernated = 7,    // memory and disks moved off the host (OpenNebula STOPPED)
  kDeallocated = 8,   // disks moved off the host, no memory image (OpenNebula UNDEPLOYED)
  kShelved = 9,       // powered off with an image of its disk taken (Nova shelved)
  kRescued = 10,      // running the rescue image, its own disk attached
  kResized = 11,      // resized, waiting for confirm or revert
  kSoftDeleted = 12,  // deleted but restorable
  kUnknown = 13,      // the hypervisor cannot tell us what it is doing
  kFailed = 14,       // an operation stopped half-way; recover or terminate it
  kDone = 15,         // terminated; kept for accounting
};
inline constexpr int kStateCount = 16;

// Canonical actions. User actions appear in vocabularies; system actions are driven by
// what the hypervisor reports (never by a user verb).
enum class Action : std::uint8_t {
  kCreate = 1,
  kDeploy = 2,
  kHold = 3,
  kRelease = 4,
  kShutdown = 5,      // graceful (ACPI) power-off
  kShutdownHard = 6,  // pull the plug
  kStart = 7,         // boot a powered-off / deallocated / unknown VM
  kReboot = 8,        // graceful reboot
  kRebootHard = 9,    // reset
  kPause = 10,
  kUnpause = 11,
  kSuspend = 12,     // save memory to the host
  kResume = 13,      // restore saved memory
  kHibernate = 14,   // save memory, move everything off the host (OpenNebula stop)
  kDeallocate = 15,  // graceful power-off, move disks off the host (OpenNebula undeploy)
  kDeallocateHard = 16,
  kTerminate = 17,  // graceful shutdown, then delete
  kTerminateHard = 18,
  kMigrate = 19,  // cold migration
  kLiveMigrate = 20,
  kResched = 21,
  kUnresched = 22,
  kResize = 23,         // change vCPUs / memory in place
  kResizeMigrate = 24,  // Nova resize: ends in RESIZED, then confirm or revert
  kConfirmResize = 25,
  kRevertResize = 26,
  kRescue = 27,
  kUnrescue = 28,
  kRebuild = 29,
  kSetAdminPassword = 30,
  kSnapshot = 31,  // an image made from the disk (Nova snapshot, OpenNebula disk-saveas)
  kBackup = 32,
  kShelve = 33,
  kShelveOffload = 34,
  kSoftDelete = 35,
  kRestore = 36,
  kDiskAttach = 37,
  kDiskDetach = 38,
  kNicAttach = 39,
  kNicDetach = 40,
  kDiskSnapshot = 41,
  kDiskSnapshotRevert = 42,
  kDiskSnapshotDelete = 43,
  kDiskResize = 44,
  kCheckpoint = 45,  // a whole-VM snapshot while running (OpenNebula snapshot-create)
  kCheckpointRevert = 46,
  kCheckpointDelete = 47,
  kCancel = 48,  // end the running operation (Azure Canceled)
  kRecoverRetry = 49,
  kRecoverSuccess = 50,
  kRecoverFailure = 51,
  kRecoverDelete = 52,
  kRecoverRecreate = 53,
  kResetState = 54,        // admin: set the state, touch nothing (Nova reset-state)
  kObservedLost = 55,      // system: the hypervisor lost the VM
  kObservedPoweroff = 56,  // system: the guest powered itself off
  kObservedRunning = 57,   // system: the VM is seen running again
  kObservedPower = 58,     // system: a power change the drift policy records, state kept
};
inline constexpr int kActionCount = 59;  // numbers 1..58; 0 unused

// The steps an operation passes through. A phase is what the driver is asked to do.
enum class Phase : std::uint8_t {
  kNone = 0,
  kInit = 1,
  kClone = 2,
  kSchedule = 3,
  kProlog = 4,
  kBoot = 5,
  kOsProvisioning = 6,
  kOsProvisioned = 7,
  kShutdown = 8,
  kPowerOff = 9,
  kSave = 10,
  kRestore = 11,
  kEpilog = 12,
  kMigrate = 13,
  kReboot = 14,
  kReset = 15,
  kPause = 16,
  kUnpause = 17,
  kResize = 18,
  kRescue = 19,
  kUnrescue = 20,
  kRebuild = 21,
  kSetPassword = 22,
  kSnapshot = 23,
  kUpload = 24,
  kBackup = 25,
  kShelve = 26,
  kHotplug = 27,
  kCleanup = 28,
  kConfirm = 29,
  kSoftDelete = 30,
  // A live migration in libvirt's v3 shape (Prepare on the target, Perform on the source,
  // Finish on the target): kMigrate is Perform.
  kPrepareMigrate = 31,  // target: a process waiting for the incoming stream (and disk)
  kFinishMigrate = 32,   // target: the stream arrived, the guest is checked healthy and runs
  kAbortMigrate = 33,    // source: an unfinished migration is cancelled, the guest runs on here
};
inline constexpr int kPhaseCount = 34;

// What a failure of a phase does.
enum class FailureRule : std::uint8_t {
  kRollback = 1,    // back to the origin state, the reason recorded (nothing changed)
  kFailStop = 2,    // stop in FAILED: recover or terminate (OpenNebula *_FAILURE)
  kKeepTarget = 3,  // the VM reached its target; the operation is failed (Azure OS provisioning)
  // Back to the origin if the driver reports the origin intact (Nova InstanceFaultRollback),
  // else stop in FAILED (Nova _error_out_instance_on_exception: any other error is ERROR). A
  // deadline or a cancel knows nothing of the origin: FAILED.
  kRollbackIfIntact = 4,
};

// What a failed phase left of the VM's origin, as the driver reports it.
enum class Integrity : std::uint8_t {
  kUnknown = 0,  // the driver cannot say (a deadline passed, a cancel, a lost answer)
  kIntact = 1,   // nothing changed: the VM is as it was when the operation started
};

// Power state as the hypervisor reports it. Numbers follow Nova's power_state (2, 5 unused).
enum class Power : std::uint8_t {
  kNoState = 0,
  kRunning = 1,
  kPaused = 3,
  kShutdown = 4,
  kCrashed = 6,
  kSuspended = 7,
};

// Where a phase runs (a table column; drivers get it in PhaseRequest). kHost: the host the VM
// is on (or is being placed on). A row that moves the VM names each phase's side: kSource
// (the host it leaves: save, send) or kTarget (the host it goes to: receive files, boot,
// restore), as libvirt splits Begin/Perform/Confirm from Prepare/Finish.
enum class RunsOn : std::uint8_t { kHost = 0, kSource = 1, kTarget = 2 };

enum class OpStatus : std::uint8_t {
  kRunning = 1,
  kSucceeded = 2,
  kFailed = 3,
  kCanceled = 4,
};

enum class Vocabulary : std::uint8_t {
  kCorral = 0,
  kOpenNebula = 1,
  kNova = 2,
  kAzure = 3,
  kStratusLab = 4,
};
inline constexpr int kVocabularyCount = 5;

// ---- Sets (bitmasks) --------------------------------------------------------------------

class StateSet {
 public:
  constexpr StateSet() = default;
  constexpr StateSet(std::initializer_list<State> states) {
    for (State s : states) bits_ |= bit(s);
  }
  static constexpr StateSet all_live() {
    // Every state a VM can be in and still be acted on (not DONE, not INIT).
    StateSet set;
    for (int i = 1; i < kStateCount; ++i) set.bits_ |= 1U << i;
    set.bits_ &= ~bit(State::kDone);
    return set;
  }
  constexpr bool contains(State s) const { return (bits_ & bit(s)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr StateSet without(State s) const {
    StateSet out = *this;
    out.bits_ &= ~bit(s);
    return out;
  }
  constexpr StateSet with(State s) const {
    StateSet out = *this;
    out.bits_ |= bit(s);
    return out;
  }
  constexpr std::uint32_t bits() const { return bits_; }

 private:
  static constexpr std::uint32_t bit(State s) { return 1U << static_cast<unsigned>(s); }
  std::uint32_t bits_ = 0;
};

class ActionSet {
 public:
  constexpr ActionSet() = default;
  constexpr ActionSet(std::initializer_list<Action> actions) {
    for (Action a : actions) bits_ |= bit(a);
  }
  static constexpr ActionSet all() {
    ActionSet set;
    set.bits_ = ~std::uint64_t{0};
    return set;
  }
  constexpr bool contains(Action a) const { return (bits_ & bit(a)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr ActionSet without(Action a) const {
    ActionSet out = *this;
    out.bits_ &= ~bit(a);
    return out;
  }

 private:
  static constexpr std::uint64_t bit(Action a) {
    return std::uint64_t{1} << static_cast<unsigned>(a);
  }
  std::uint64_t bits_ = 0;
};

// ---- Names ------------------------------------------------------------------------------

std::string_view state_name(State state);                 // "RUNNING"
std::string_view action_name(Action action);              // "shutdown_hard"
std::string_view phase_name(Phase phase);                 // "prolog"
std::string_view power_name(Power power);                 // "running"
std::string_view op_status_name(OpStatus status);         // "failed"
std::string_view failure_rule_name(FailureRule rule);     // "rollback"
std::string_view vocabulary_name(Vocabulary vocabulary);  // "opennebula"

std::optional<State> parse_state(std::string_view name);  // case-insensitive
std::optional<Action> parse_action(std::string_view name);
std::optional<Phase> parse_phase(std::string_view name);  // case-insensitive
std::optional<Vocabulary> parse_vocabulary(std::string_view name);

// Every value, in number order (for tables, tests and exports).
extern const std::array<State, kStateCount> kAllStates;
extern const std::array<Action, kActionCount - 1> kAllActions;
extern const std::array<Phase, kPhaseCount> kAllPhases;
extern const std::array<Vocabulary, kVocabularyCount> kAllVocabularies;

// Actions no user verb can ask for: the engine applies them when the hypervisor reports.
constexpr bool is_system_action(Action a) {
  return a == Action::kObservedLost || a == Action::kObservedPoweroff ||
         a == Action::kObservedRunning || a == Action::kObservedPower;
}

}  // namespace corral::lifecycle
