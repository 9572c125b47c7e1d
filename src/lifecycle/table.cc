#include "lifecycle/table.h"

#include <memory>
#include <vector>

namespace corral::lifecycle {
namespace {

using S = State;
using A = Action;
using P = Phase;
constexpr FailureRule R = FailureRule::kRollback;
constexpr FailureRule F = FailureRule::kFailStop;
constexpr FailureRule K = FailureRule::kKeepTarget;
// Nova's E (reference nova.md:21): back to the origin on InstanceFaultRollback, else ERROR.
constexpr FailureRule RI = FailureRule::kRollbackIfIntact;

constexpr RunsOn kSrc = RunsOn::kSource;
constexpr RunsOn kDst = RunsOn::kTarget;
// A step that removes the VM's copy on its side (PhaseStep::removes_copy).
constexpr bool kRemoves = true;
using E = Effect;

// Where a running operation can have started from (INIT: a creation in progress).
constexpr StateSet kAnyOrigin = StateSet::all_live().with(S::kInit);

struct Steps {
  std::array<PhaseStep, kMaxSteps> steps{};
  std::uint8_t count = 0;
  constexpr Steps() = default;
  constexpr Steps(std::initializer_list<PhaseStep> list) {
    for (const PhaseStep& s : list) steps[count++] = s;
  }
};

constexpr Transition row(A action, StateSet from, Steps steps, S to, std::string_view note) {
  return Transition{action,         from, true, {},           steps.steps, steps.count,
                    Target::kState, to,   note, std::nullopt, {}};
}
constexpr Transition row_to(A action, StateSet from, Steps steps, Target target,
                            std::string_view note) {
  return Transition{action, from,     true, {},           steps.steps, steps.count,
                    target, S::kInit, note, std::nullopt, {}};
}
// A row that runs only while another operation runs, replacing it.
constexpr Transition preempt(A action, StateSet origins, ActionSet during, Steps steps, S to,
                             std::string_view note) {
  return Transition{action,         origins, false, during,       steps.steps, steps.count,
                    Target::kState, to,      note,  std::nullopt, {}};
}
// Rows that act on an operation: a failed one (the VM is in FAILED) ...
constexpr Transition on_failed(A action, Target target, std::string_view note) {
  return Transition{action, {S::kFailed}, true, {},           {}, 0,
                    target, S::kInit,     note, std::nullopt, {}};
}
// ... or a running one, whatever it started from.
constexpr Transition on_running(A action, Target target, std::string_view note) {
  return Transition{action, kAnyOrigin, false, ActionSet::all(), {}, 0,
                    target, S::kInit,   note,  std::nullopt,     {}};
}

// A row's effects (table.h Effect) and named power, added to a row built above.
constexpr Transition fx(Transition t, Effects effects) {
  t.effects = effects;
  return t;
}
// A row's undo phases (table.h Transition::undo_steps).
constexpr Transition undoing(Transition t, std::initializer_list<PhaseStep> undo) {
  for (const PhaseStep& u : undo) t.undo_steps[t.undo_count++] = u;
  return t;
}
constexpr Transition powered(Transition t, Power power) {
  t.power_after = power;
  return t;
}
constexpr Effects kDeletes = {E::kDeletesFiles, E::kEndsVm};

// States where a VM's process may be running: leaving them needs a power-off first.
constexpr StateSet kOnHost = {S::kRunning, S::kUnknown, S::kRescued, S::kResized};
// States with nothing running but files somewhere: leaving needs only an epilog.
constexpr StateSet kAtRest = {S::kSuspended,   S::kPoweroff, S::kHibernated,
                              S::kDeallocated, S::kShelved,  S::kSoftDeleted};
constexpr StateSet kLive = StateSet::all_live();
// The running actions terminate --hard (and recover delete/recreate) may cut short.
constexpr ActionSet kAnyButDelete =
    ActionSet::all().without(A::kTerminateHard).without(A::kRecoverDelete);

// clang-format off
const Transition kRows[] = {
  row(A::kCreate, {S::kInit}, {{P::kInit, F}, {P::kClone, F}}, S::kPending,
      "record the VM and copy its image; then it waits for a host"),

  fx(row(A::kDeploy, {S::kPending, S::kHold},
      {{P::kProlog, F}, {P::kBoot, F}, {P::kOsProvisioning, K}, {P::kOsProvisioned, K}},
      S::kRunning, "place on a host, copy files, boot, wait for the guest to be ready"), {E::kPlacesVm}),

  row(A::kHold, {S::kPending}, {}, S::kHold, "keep the VM from being scheduled"),
  row(A::kRelease, {S::kHold}, {}, S::kPending, "let the scheduler place the VM again"),

  row(A::kShutdown, {S::kRunning, S::kUnknown}, {{P::kShutdown, R}}, S::kPoweroff,
      "ACPI power button; on timeout back to RUNNING with the reason"),

  row(A::kShutdownHard, {S::kRunning, S::kUnknown, S::kPaused, S::kRescued}, {{P::kPowerOff, R}},
      S::kPoweroff, "pull the plug"),
  row(A::kShutdownHard, {S::kFailed}, {{P::kPowerOff, F}}, S::kPoweroff,
      "power off whatever a failed operation left behind"),
  preempt(A::kShutdownHard, {S::kRunning, S::kUnknown}, {A::kShutdown}, {{P::kPowerOff, R}},
          S::kPoweroff, "override a graceful shutdown the guest ignores"),

  row(A::kStart, {S::kPoweroff, S::kShelved, S::kUnknown}, {{P::kBoot, R}}, S::kRunning,
      "boot on the same host"),
  row(A::kStart, {S::kDeallocated}, {{P::kSchedule, R}, {P::kProlog, F}, {P::kBoot, F}},
      S::kRunning, "find a host, bring the disks back, boot"),

  row(A::kReboot, {S::kRunning}, {{P::kReboot, RI}}, S::kRunning, "ACPI reboot"),

  row(A::kRebootHard, {S::kRunning, S::kPaused}, {{P::kReset, RI}}, S::kRunning, "reset"),
  row(A::kRebootHard, {S::kPoweroff, S::kSuspended}, {{P::kBoot, RI}}, S::kRunning,
      "boot afresh (saved memory is discarded)"),
  row(A::kRebootHard, {S::kFailed}, {{P::kBoot, F}}, S::kRunning,
      "boot afresh from a failed operation"),

  row(A::kPause, {S::kRunning}, {{P::kPause, R}}, S::kPaused, "stop the vCPUs"),
  row(A::kUnpause, {S::kPaused}, {{P::kUnpause, R}}, S::kRunning, "run the vCPUs again"),

  powered(row(A::kSuspend, {S::kRunning, S::kPaused}, {{P::kSave, RI}}, S::kSuspended,
      "save memory to a file on the host and end the process"), Power::kShutdown),

  row(A::kResume, {S::kSuspended}, {{P::kRestore, RI}}, S::kRunning,
      "restore saved memory on the same host"),
  row(A::kResume, {S::kHibernated}, {{P::kSchedule, R}, {P::kProlog, F}, {P::kRestore, F}},
      S::kRunning, "find a host, bring memory and disks back, restore"),

  row(A::kHibernate, {S::kRunning, S::kPaused}, {{P::kSave, R}, {P::kEpilog, F}}, S::kHibernated,
      "save memory, move memory and disks off the host"),
  row(A::kHibernate, {S::kSuspended}, {{P::kEpilog, F}}, S::kHibernated,
      "move saved memory and disks off the host"),

  row(A::kDeallocate, {S::kRunning, S::kUnknown}, {{P::kShutdown, R}, {P::kEpilog, F}},
      S::kDeallocated, "graceful power-off, disks off the host, host resources released"),
  row(A::kDeallocate, {S::kPoweroff, S::kSuspended, S::kShelved}, {{P::kEpilog, F}},
      S::kDeallocated, "disks off the host, host resources released"),

  row(A::kDeallocateHard, {S::kRunning, S::kUnknown, S::kPaused}, {{P::kPowerOff, R}, {P::kEpilog, F}},
      S::kDeallocated, "hard power-off, disks off the host"),
  preempt(A::kDeallocateHard, {S::kRunning, S::kUnknown}, {A::kDeallocate},
          {{P::kPowerOff, R}, {P::kEpilog, F}}, S::kDeallocated,
          "override a graceful deallocate the guest ignores"),

  fx(row(A::kTerminate, kOnHost, {{P::kShutdown, R}, {P::kEpilog, F}}, S::kDone,
      "graceful shutdown, then delete everything; the record stays as DONE"), kDeletes),
  fx(row(A::kTerminate, {S::kPaused}, {{P::kPowerOff, R}, {P::kEpilog, F}}, S::kDone,
      "a paused guest cannot answer ACPI: power off, then delete"), kDeletes),
  fx(row(A::kTerminate, kAtRest, {{P::kEpilog, F}}, S::kDone, "delete the files"), kDeletes),
  fx(row(A::kTerminate, {S::kPending, S::kHold}, {}, S::kDone, "nothing was placed yet"), {E::kEndsVm}),
  fx(row(A::kTerminate, {S::kFailed}, {{P::kCleanup, F}}, S::kDone,
      "clean up what a failed operation left, then delete"), kDeletes),

  fx(row(A::kTerminateHard, {S::kRunning, S::kUnknown, S::kRescued, S::kResized, S::kPaused},
      {{P::kPowerOff, R}, {P::kEpilog, F}}, S::kDone, "hard power-off, then delete"), kDeletes),
  fx(row(A::kTerminateHard, kAtRest, {{P::kEpilog, F}}, S::kDone, "delete the files"), kDeletes),
  fx(row(A::kTerminateHard, {S::kPending, S::kHold}, {}, S::kDone, "nothing was placed yet"), {E::kEndsVm}),
  fx(row(A::kTerminateHard, {S::kFailed}, {{P::kCleanup, F}}, S::kDone,
      "clean up what a failed operation left, then delete"), kDeletes),
  fx(preempt(A::kTerminateHard, kAnyOrigin, kAnyButDelete, {{P::kCleanup, F}}, S::kDone,
          "pre-empt any running operation, clean up, delete"), kDeletes),

  // A cold move ends with the source's copy removed once the target holds the VM (as a live
  // move's Confirm does); a failed removal fails the operation with the VM on the target.
  fx(row(A::kMigrate, {S::kRunning},
      {{P::kSave, R, kSrc}, {P::kProlog, F, kDst}, {P::kRestore, F, kDst}, {P::kCleanup, K, kSrc, kRemoves}},
      S::kRunning, "cold migration: save, move to the new host, restore, remove the source's copy"), {E::kMovesVm}),
  fx(row(A::kMigrate, {S::kPoweroff}, {{P::kProlog, F, kDst}, {P::kCleanup, K, kSrc, kRemoves}}, S::kPoweroff,
      "move the files, remove the source's copy"), {E::kMovesVm}),
  fx(row(A::kMigrate, {S::kSuspended}, {{P::kProlog, F, kDst}, {P::kCleanup, K, kSrc, kRemoves}}, S::kSuspended,
      "move the saved VM, remove the source's copy"), {E::kMovesVm}),
  // No source cleanup: the source host of an UNKNOWN VM is presumed lost (nothing answers
  // there to remove a copy); the store names the target as the VM's only host.
  fx(row(A::kMigrate, {S::kUnknown}, {{P::kProlog, F, kDst}, {P::kBoot, F, kDst}}, S::kRunning,
      "move a lost VM to a new host and boot it there"), {E::kMovesVm}),

  // libvirt's v3 protocol as phases (hosts-migration.md): the target prepares a process that
  // waits for the stream, the source sends, the target checks the guest and runs it, the
  // source's copy goes. Until the target's guest is known healthy the source keeps a
  // complete copy; a rollback (a failure, a cancel, a deadline) first removes the target's
  // copy, then resumes the source's, so two never run. The undo phases themselves refuse
  // what is not safe (a target whose guest already ran, a source after post-copy): FAILED.
  fx(undoing(row_to(A::kLiveMigrate, {S::kRunning, S::kPaused},
                    {{P::kPrepareMigrate, R, kDst}, {P::kMigrate, R, kSrc},
                     {P::kFinishMigrate, R, kDst}, {P::kCleanup, K, kSrc, kRemoves}}, Target::kOrigin,
                    "move memory while running; on a failure the source reports intact it keeps running there"),
             {{P::kCleanup, F, kDst, kRemoves}, {P::kAbortMigrate, F, kSrc}}), {E::kMovesVm}),

  row_to(A::kResched, {S::kRunning, S::kUnknown, S::kPoweroff}, {}, Target::kOrigin,
         "flag the VM for the scheduler to move"),
  row_to(A::kUnresched, {S::kRunning, S::kUnknown, S::kPoweroff}, {}, Target::kOrigin,
         "clear the reschedule flag"),

  fx(row_to(A::kResize, {S::kRunning}, {{P::kResize, R}}, Target::kOrigin,
         "hot-resize vCPUs and memory; on failure the old size stays in effect"), {E::kAppliesModel}),
  fx(row_to(A::kResize, {S::kPoweroff, S::kPending, S::kHold, S::kDeallocated}, {}, Target::kOrigin,
         "takes effect at the next boot"), {E::kAppliesModel}),

  // Nova's resize across hosts (reference nova.md:41-43; seed 004:30): the source gets the
  // guest ready to leave (resize_migrating), the target receives the disk (resize_migrated)
  // and boots with the new size (resize_finish). The source's copy stays until confirm
  // removes it or revert goes back to it. A failure first removes the target's copy, then
  // resumes the source's (Nova's rollback: the previous vm_state); an undo phase that cannot
  // (the source's copy not intact) stops in FAILED (Nova's "else ERROR").
  // RESIZED keeps the power it had (nova.md:41, "powered on unless it was stopped"): the
  // row says which, since the source's resize phase powers the guest off before it moves.
  fx(undoing(powered(row(A::kResizeMigrate, {S::kRunning},
                 {{P::kResize, R, kSrc}, {P::kProlog, R, kDst}, {P::kBoot, R, kDst}}, S::kResized,
                 "move to a host that fits the new size and boot there; confirm or revert"),
                     Power::kRunning),
             {{P::kCleanup, F, kDst, kRemoves}, {P::kAbortMigrate, F, kSrc}}),
     {E::kAppliesModel, E::kMovesVm}),
  fx(undoing(powered(row(A::kResizeMigrate, {S::kPoweroff}, {{P::kResize, R, kSrc}, {P::kProlog, R, kDst}},
                 S::kResized, "move a powered-off VM to a host that fits the new size; confirm or revert"),
                     Power::kShutdown),
             {{P::kCleanup, F, kDst, kRemoves}}),
     {E::kAppliesModel, E::kMovesVm}),
  // From RESIZED the sides are the resize's: `source` the host it left (its copy kept),
  // `target` the VM's host. Confirm removes the source's copy; revert removes the target's
  // and boots the old size on the source, where the VM is then.
  row_to(A::kConfirmResize, {S::kResized}, {{P::kConfirm, F, kSrc, kRemoves}}, Target::kByPower,
         "keep the new size; the source's copy goes"),
  fx(row_to(A::kRevertResize, {S::kResized}, {{P::kCleanup, F, kDst, kRemoves}, {P::kResize, F, kSrc}},
            Target::kByPower, "go back to the old size on the source host"),
     {E::kAppliesModel, E::kRestoresModel}),

  row(A::kRescue, {S::kRunning, S::kPoweroff}, {{P::kRescue, F}}, S::kRescued,
      "boot the rescue image with the VM's disk attached"),
  row(A::kRescue, {S::kFailed}, {{P::kRescue, F}}, S::kRescued, "rescue a failed VM"),
  row(A::kUnrescue, {S::kRescued}, {{P::kUnrescue, F}}, S::kRunning, "boot the VM's own disk"),

  fx(row_to(A::kRebuild, {S::kRunning}, {{P::kRebuild, RI}, {P::kBoot, F}}, Target::kOrigin,
         "re-image the disk and boot"), {E::kAppliesModel}),
  fx(row_to(A::kRebuild, {S::kPoweroff}, {{P::kRebuild, RI}}, Target::kOrigin, "re-image the disk"), {E::kAppliesModel}),

  row_to(A::kSetAdminPassword, {S::kRunning}, {{P::kSetPassword, R}}, Target::kOrigin,
         "set the guest's administrator password"),

  row_to(A::kSnapshot,
         {S::kRunning, S::kPoweroff, S::kPaused, S::kSuspended, S::kDeallocated, S::kHibernated},
         {{P::kSnapshot, R}, {P::kUpload, R}}, Target::kOrigin, "make an image from the disk"),
  row_to(A::kBackup, {S::kRunning, S::kPoweroff}, {{P::kBackup, R}, {P::kUpload, R}},
         Target::kOrigin, "back up the disk (with rotation)"),

  row(A::kShelve, {S::kRunning, S::kPaused, S::kSuspended}, {{P::kShelve, R}, {P::kUpload, R}},
      S::kShelved, "power off and keep an image of the disk"),
  row(A::kShelve, {S::kPoweroff}, {{P::kUpload, R}}, S::kShelved, "keep an image of the disk"),
  row(A::kShelveOffload, {S::kRunning, S::kPaused, S::kSuspended},
      {{P::kShelve, R}, {P::kUpload, R}, {P::kEpilog, F}}, S::kDeallocated,
      "shelve and release the host"),
  row(A::kShelveOffload, {S::kPoweroff}, {{P::kUpload, R}, {P::kEpilog, F}}, S::kDeallocated,
      "keep an image and release the host"),
  row(A::kShelveOffload, {S::kShelved}, {{P::kEpilog, F}}, S::kDeallocated, "release the host"),

  row(A::kSoftDelete, {S::kRunning, S::kPoweroff}, {{P::kSoftDelete, R}}, S::kSoftDeleted,
      "power off and mark deleted; restorable until reclaimed"),
  row(A::kRestore, {S::kSoftDeleted}, {{P::kBoot, R}}, S::kRunning, "undo a soft delete"),

  row_to(A::kDiskAttach, {S::kRunning, S::kPoweroff}, {{P::kHotplug, R}}, Target::kOrigin,
         "attach a disk"),
  row_to(A::kDiskDetach, {S::kRunning, S::kPoweroff}, {{P::kHotplug, R}}, Target::kOrigin,
         "detach a disk"),
  row_to(A::kNicAttach, {S::kRunning, S::kPoweroff}, {{P::kHotplug, R}}, Target::kOrigin,
         "attach a network interface"),
  row_to(A::kNicDetach, {S::kRunning, S::kPoweroff}, {{P::kHotplug, R}}, Target::kOrigin,
         "detach a network interface"),
  row_to(A::kDiskSnapshot, {S::kRunning, S::kPoweroff, S::kSuspended}, {{P::kSnapshot, R}},
         Target::kOrigin, "snapshot a disk"),
  row_to(A::kDiskSnapshotRevert, {S::kPoweroff, S::kSuspended}, {{P::kSnapshot, R}},
         Target::kOrigin, "revert a disk to a snapshot"),
  row_to(A::kDiskSnapshotDelete, {S::kRunning, S::kPoweroff, S::kSuspended}, {{P::kSnapshot, R}},
         Target::kOrigin, "delete a disk snapshot"),
  row_to(A::kDiskResize, {S::kRunning, S::kPoweroff, S::kDeallocated}, {{P::kResize, R}},
         Target::kOrigin, "grow a disk"),
  row_to(A::kCheckpoint, {S::kRunning}, {{P::kSnapshot, R}}, Target::kOrigin,
         "snapshot memory and disks of a running VM"),
  row_to(A::kCheckpointRevert, {S::kRunning}, {{P::kSnapshot, R}}, Target::kOrigin,
         "go back to a checkpoint"),
  row_to(A::kCheckpointDelete, {S::kRunning}, {{P::kSnapshot, R}}, Target::kOrigin,
         "delete a checkpoint"),

  on_running(A::kCancel, Target::kFailPhase,
             "end the running operation by its phase's failure rule, as canceled"),
  on_failed(A::kRecoverRetry, Target::kRetryPhase, "run the failed phase again"),
  on_running(A::kRecoverRetry, Target::kRetryPhase, "send the current phase to the driver again"),
  on_failed(A::kRecoverSuccess, Target::kNextPhase,
            "declare the failed phase done (you checked the host) and go on"),
  on_running(A::kRecoverSuccess, Target::kNextPhase, "declare the current phase done and go on"),
  on_failed(A::kRecoverFailure, Target::kFailPhase,
            "declare the operation failed: the VM returns to where it started"),
  on_running(A::kRecoverFailure, Target::kFailPhase,
             "fail the current phase now, by its failure rule"),

  fx(row(A::kRecoverDelete, kLive, {{P::kCleanup, F}}, S::kDone,
      "clean up whatever is on the host and mark DONE"), kDeletes),
  fx(preempt(A::kRecoverDelete, kAnyOrigin, kAnyButDelete, {{P::kCleanup, F}},
          S::kDone, "cut the running operation short, clean up, mark DONE"), kDeletes),
  fx(row(A::kRecoverRecreate, kLive.without(S::kPending).without(S::kHold), {{P::kCleanup, F}},
      S::kPending, "clean up and schedule the VM again from scratch, same id"), {E::kDeletesFiles}),
  fx(preempt(A::kRecoverRecreate, kAnyOrigin, kAnyButDelete, {{P::kCleanup, F}},
          S::kPending, "cut the running operation short, clean up, schedule again"), {E::kDeletesFiles}),

  row_to(A::kResetState, kLive, {}, Target::kParameter,
         "admin: set the state; nothing on the host is touched"),
  on_running(A::kResetState, Target::kParameter,
             "admin: end the running operation and set the state"),

  row(A::kObservedLost, {S::kRunning, S::kRescued, S::kResized}, {}, S::kUnknown,
      "the hypervisor lost the VM (only a VM shown RUNNING: opennebula.md:54)"),
  row(A::kObservedPoweroff, {S::kRunning, S::kUnknown, S::kPaused, S::kRescued, S::kResized}, {},
      S::kPoweroff, "the guest powered itself off"),
  row(A::kObservedRunning, {S::kUnknown, S::kPoweroff, S::kPaused, S::kSuspended}, {}, S::kRunning,
      "the VM is seen running again (opennebula.md:57)"),
  row_to(A::kObservedPower, kLive, {}, Target::kOrigin,
         "the hypervisor reports a power change the drift policy records, state kept"),
};
// clang-format on

constexpr std::uint8_t kNoRow = 0xFF;
static_assert(std::size(kRows) < kNoRow);

}  // namespace

// The lookup index over a set of rows (the built-in table's, or a mutant's).
struct testing::Index {
  std::span<const Transition> rows;
  std::uint8_t idle[kActionCount][kStateCount];
  std::uint8_t replacing[kActionCount][kStateCount];
  std::vector<std::uint8_t> busy[kActionCount];

  explicit Index(std::span<const Transition> all) : rows(all) {
    for (auto& per_action : idle) {
      for (auto& cell : per_action) cell = kNoRow;
    }
    for (auto& per_action : replacing) {
      for (auto& cell : per_action) cell = kNoRow;
    }
    for (std::size_t row = 0; row < rows.size() && row < kNoRow; ++row) {
      const auto i = static_cast<std::uint8_t>(row);
      const Transition& t = rows[i];
      const auto a = static_cast<std::size_t>(t.action);
      if (t.when_idle) {
        for (State s : kAllStates) {
          // First row wins; table_test.cc proves no two idle rows overlap.
          if (t.from.contains(s) && idle[a][static_cast<std::size_t>(s)] == kNoRow) {
            idle[a][static_cast<std::size_t>(s)] = i;
          }
        }
      }
      if (!t.during.empty()) {
        busy[a].push_back(i);
        if (!is_meta_target(t.target)) {
          for (State s : kAllStates) {
            if (t.from.contains(s) && replacing[a][static_cast<std::size_t>(s)] == kNoRow) {
              replacing[a][static_cast<std::size_t>(s)] = i;
            }
          }
        }
      }
    }
  }
};

namespace {

using testing::Index;

// The rows every lookup reads: the built-in table, or a mutant (testing::ScopedTransitions).
const Index* g_override = nullptr;

const Index& index() {
  static const Index kIndex(kRows);
  return g_override != nullptr ? *g_override : kIndex;
}

}  // namespace

std::span<const Transition> transitions() { return index().rows; }

const Transition* find_idle(Action action, State state) {
  const Index& ix = index();
  const std::uint8_t i = ix.idle[static_cast<std::size_t>(action)][static_cast<std::size_t>(state)];
  return i == kNoRow ? nullptr : &ix.rows[i];
}

const Transition* find_during(Action action, State origin, Action running) {
  const Index& ix = index();
  for (std::uint8_t i : ix.busy[static_cast<std::size_t>(action)]) {
    const Transition& t = ix.rows[i];
    if (t.from.contains(origin) && t.during.contains(running)) return &t;
  }
  return nullptr;
}

const Transition* find_replacing(Action action, State origin) {
  const Index& ix = index();
  const std::uint8_t i =
      ix.replacing[static_cast<std::size_t>(action)][static_cast<std::size_t>(origin)];
  return i == kNoRow ? nullptr : &ix.rows[i];
}

std::string_view effect_name(Effect effect) {
  switch (effect) {
    case Effect::kAppliesModel:
      return "applies_model";
    case Effect::kRestoresModel:
      return "restores_model";
    case Effect::kPlacesVm:
      return "places_vm";
    case Effect::kMovesVm:
      return "moves_vm";
    case Effect::kDeletesFiles:
      return "deletes_files";
    case Effect::kEndsVm:
      return "ends_vm";
  }
  return "?";
}

std::string_view runs_on_name(RunsOn runs_on) {
  switch (runs_on) {
    case RunsOn::kHost:
      return "host";
    case RunsOn::kSource:
      return "source";
    case RunsOn::kTarget:
      return "target";
  }
  return "?";
}

std::string_view action_summary(Action action) {
  for (const Transition& t : transitions()) {
    if (t.action == action) return t.note;
  }
  return {};
}

namespace testing {

ScopedTransitions::ScopedTransitions(std::span<const Transition> rows)
    : previous_(g_override), index_(std::make_unique<Index>(rows)) {
  g_override = index_.get();
}

ScopedTransitions::~ScopedTransitions() { g_override = previous_; }

}  // namespace testing
}  // namespace corral::lifecycle
