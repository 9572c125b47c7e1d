// The Azure golden table's rows (data, and lookups by key), written from seed 000 and
// shared/reference/azure-libvirt-qmp.md; azure_golden.cc holds them against the view and the
// seed's text.
//
// - The vocabulary: every power state, provisioning state and billing class with its name,
//   instance-view status (code, level, displayStatus, timed) and billing, each with the seed
//   lines it is written at (checked against the seed's text) or why the seed is silent.
// - The moment rules (view_rules.h): (outcome, action, origin, phase, state) -> provisioning
//   state, and the same -> power state. Billing and the statuses follow from the vocabulary.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "lifecycle/golden/view_rules.h"
#include "lifecycle/views.h"

namespace corral::lifecycle::golden::azure {

using namespace view_rules;  // NOLINT: the rules' own vocabulary
using A = Action;
using AP = AzurePower;
using PS = AzureProvisioning;
using P = Phase;
using S = State;

// ---- The vocabulary ------------------------------------------------------------------------

struct PowerRow {
  AzurePower power;
  std::string_view name;       // azure_power_name
  std::string_view seed_name;  // its row's name in seed 000's Power State table; "" if absent
  std::string_view code;       // the PowerState status ("" for none: no status entry)
  std::string_view display;
  Billing billing;
  std::array<int, 3> lines;  // seed 000 lines of the name, the code, the billing; 0: absent
  std::string_view note;     // where the seed is silent
};

// Seed 000:15-171, the Power State table: name, statuses, billing. Level "Info" throughout.
// clang-format off
constexpr PowerRow kPowerRows[] = {
  {AP::kNone, "", "", "", "", Billing::kNotBilled, {0, 0, 0},
   "Corral's choice: a deleted VM has no power state (Azure forgets it: 404) and holds nothing"},
  {AP::kStarting, "starting", "Starting", "PowerState/starting", "VM starting",
   Billing::kNotBilled, {30, 41, 48}, ""},
  {AP::kRunning, "running", "Running", "PowerState/running", "VM running",
   Billing::kBilledHardwareAndSoftware, {53, 65, 72}, ""},
  {AP::kStopping, "stopping", "Stopping", "PowerState/stopping", "VM stopping",
   Billing::kBilledHardwareAndSoftware, {77, 88, 95}, ""},
  {AP::kStopped, "stopped", "Stopped", "PowerState/stopped", "VM stopped",
   Billing::kBilledHardwareOnly, {100, 113, 120}, ""},
  {AP::kDeallocating, "deallocating", "Deallocating", "PowerState/deallocating",
   "VM deallocating", Billing::kBilledHardwareOnly, {125, 136, 143}, ""},
  {AP::kDeallocated, "deallocated", "Deallocated", "PowerState/deallocated", "VM deallocated",
   Billing::kNotBilled, {148, 160, 167}, ""},
  {AP::kUnknown, "unknown", "", "PowerState/unknown", "VM status unknown",
   Billing::kBilledHardwareOnly, {0, 0, 0},
   "reference azure-libvirt-qmp.md:4 (the SDK's `unknown`); display and billing Corral's "
   "choice: the host is still held, as when stopped"},
};
// clang-format on

struct ProvisioningRow {
  PS state;
  std::string_view name;          // azure_provisioning_name
  std::string_view seed_heading;  // its heading in seed 000's Provisioning section; "" if absent
  std::string_view code;
  std::string_view display;
  bool timed;                // the status carries "time" (the operation's end)
  std::array<int, 2> lines;  // seed 000 lines of the heading and the code; 0: absent
  std::string_view note;     // where the seed is silent, or another source
};

// clang-format off
constexpr ProvisioningRow kProvisioningRows[] = {
  {PS::kCreating, "Creating", "Creating", "ProvisioningState/creating", "Creating", false,
   {215, 220}, ""},
  {PS::kUpdating, "Updating", "Updating", "ProvisioningState/updating", "Updating", false,
   {228, 233}, ""},
  {PS::kDeleting, "Deleting", "Deleting", "ProvisioningState/deleting", "Deleting", false,
   {242, 247}, ""},
  {PS::kSucceeded, "Succeeded", "Success", "ProvisioningState/succeeded",
   "Provisioning succeeded", true, {297, 304},
   "the name as Azure spells it: reference azure-libvirt-qmp.md:6"},
  {PS::kFailed, "Failed", "Failed", "ProvisioningState/failed", "Provisioning failed", true,
   {316, 324}, "level Info: the seed wins over reference azure-libvirt-qmp.md:10"},
  {PS::kCanceled, "Canceled", "Canceled", "ProvisioningState/canceled", "Provisioning canceled",
   true, {264, 0},
   "code and display Corral's choice, formed as Failed's (seed 000:324-328); timed: terminal "
   "(reference azure-libvirt-qmp.md:6)"},
  {PS::kOsProvisioningInProgress, "OSProvisioningInprogress", "OSProvisioningInprogress",
   "ProvisioningState/OSProvisioningInprogress", "OS Provisioning In progress", false,
   {276, 278}, "the seed's space after the slash is typesetting"},
  {PS::kOsProvisioningComplete, "OSProvisioningComplete", "OSProvisioningComplete",
   "ProvisioningState/OSProvisioningComplete", "OS Provisioning Complete", false, {283, 285},
   "the seed's space after the slash is typesetting"},
  {PS::kDeleted, "Deleted", "", "ProvisioningState/deleted", "Deleted", true, {0, 0},
   "Corral's choice: Azure forgets a deleted VM (404); Corral keeps the record for accounting"},
};
// clang-format on

// "seed 000:30,41,48; <note>": where a vocabulary row comes from.
template <std::size_t N>
inline std::string source_of(const std::array<int, N>& lines, std::string_view note) {
  std::string s;
  for (int line : lines) {
    if (line == 0) continue;
    s += (s.empty() ? "seed 000:" : ",") + std::to_string(line);
  }
  if (!note.empty()) s += (s.empty() ? "" : "; ") + std::string(note);
  return s;
}
inline std::string source_of(const PowerRow& r) { return source_of(r.lines, r.note); }
inline std::string source_of(const ProvisioningRow& r) { return source_of(r.lines, r.note); }

struct BillingRow {
  Billing billing;
  std::string_view name;     // billing_name: Corral's choice, the API's snake_case
  std::string_view display;  // billing_display: the seed's Billing column
  std::string_view source;
};

constexpr BillingRow kBillingRows[] = {
    {Billing::kNotBilled, "not_billed", "Not billed", "seed 000:48,167"},
    {Billing::kBilledHardwareAndSoftware, "hardware_and_software", "Billed (Hardware + Software)",
     "seed 000:72,95"},
    {Billing::kBilledHardwareOnly, "hardware_only", "Billed (Hardware only)", "seed 000:120,143"},
};

// Bold words in seed 000's Provisioning section that name no state Corral shows.
constexpr std::pair<std::string_view, std::string_view> kNotStates[] = {
    {"Create", "seed 000:189-198: a user-initiated action, shown by the states it causes"},
    {"Update", "seed 000:189-198: a user-initiated action, shown by the states it causes"},
    {"Delete", "seed 000:189-198: a user-initiated action, shown by the states it causes"},
    {"Deallocate", "seed 000:189-198: a user-initiated action, shown by the states it causes"},
    {"States", "seed 000:207: the table's header"},
    {"InProgress",
     "seed 000:256-259: 'Creating or updating or deletion status', the three above under one "
     "name; Corral shows which one"},
    {"Note", "seed 000:290: a note"},
};

constexpr std::string_view kLevel = "Info";  // every status in seed 000

inline const PowerRow* power_row(AzurePower p) {
  for (const PowerRow& r : kPowerRows) {
    if (r.power == p) return &r;
  }
  return nullptr;
}
inline const ProvisioningRow* provisioning_row(PS p) {
  for (const ProvisioningRow& r : kProvisioningRows) {
    if (r.state == p) return &r;
  }
  return nullptr;
}
inline const BillingRow* billing_row(Billing b) {
  for (const BillingRow& r : kBillingRows) {
    if (r.billing == b) return &r;
  }
  return nullptr;
}

// ---- The moment rules ----------------------------------------------------------------------

// Operations that delete the VM (seed 000:194 "Delete").
constexpr ActionSet kDeletes = {A::kTerminate, A::kTerminateHard, A::kRecoverDelete};
// Operations that take the VM off its host for good.
constexpr ActionSet kRemoves = {A::kTerminate, A::kTerminateHard, A::kRecoverDelete,
                                A::kRecoverRecreate};

// clang-format off
constexpr Rule<PS> kProvisioningRules[] = {
  {{kRest, kAnyAction, kAnyState, kAnyPhase, {S::kInit}}, PS::kCreating,
   "seed 000:189,215-222: a VM in INIT is being created (create runs)"},
  {{kRun, {A::kCreate}}, PS::kCreating, "seed 000:189,215-222"},
  {{kRun, {A::kDeploy}, kAnyState, {P::kOsProvisioning}}, PS::kOsProvisioningInProgress,
   "seed 000:275-280: the VM runs, the guest OS installs"},
  {{kRun, {A::kDeploy}, kAnyState, {P::kOsProvisioned}}, PS::kOsProvisioningComplete,
   "seed 000:283-288"},
  {{kRun, {A::kDeploy}, kAnyState, {P::kProlog, P::kBoot}}, PS::kCreating,
   "seed 000:30-44: a VM starting up for the first time is Creating (deploy ends Azure's create)"},
  {{kRun, kDeletes}, PS::kDeleting, "seed 000:194,242-251"},
  {{kRun}, PS::kUpdating,
   "seed 000:191-192 (start, restart and other non-model changes are updates), 196-198 "
   "(deallocate), 83-85 and 132-134 (Updating while stopping or deallocating); recreate: "
   "Corral's choice, an update that keeps the VM's id"},
  {{kRest | kDone, kAnyAction, kAnyState, kAnyPhase, {S::kPending, S::kHold}}, PS::kCreating,
   "Corral's choice: a VM created but not yet placed and booted is still being created for "
   "Azure (seed 000:30-44: Creating goes with VM starting)"},
  {{kRest | kDone, kAnyAction, kAnyState, kAnyPhase, {S::kFailed}}, PS::kFailed,
   "seed 000:316-318: a VM in FAILED is there because an operation went wrong (an observed "
   "power change does not mend it)"},
  {{kRest | kDone, kAnyAction, kAnyState, kAnyPhase, {S::kDone}}, PS::kDeleted,
   "Corral's choice: Azure forgets a deleted VM (404); Corral keeps the record for accounting"},
  {{kRest | kDone}, PS::kSucceeded, "seed 000:297-298: the user-initiated action completed"},
  {{kFail | kIntact | kUndoFail}, PS::kFailed,
   "seed 000:316-318; 336-338 (a failed operation may leave the VM as it was)"},
  {{kCancel}, PS::kCanceled, "seed 000:264-267: 'User-initiated cancel will result in this state'"},
};

constexpr Rule<AP> kPowerRules[] = {
  // An operation running.
  {{kRest, kAnyAction, kAnyState, kAnyPhase, {S::kInit}}, AP::kStarting,
   "seed 000:30-44: a VM being created is starting (Creating, VM starting)"},
  {{kRun, {A::kCreate}}, AP::kStarting, "seed 000:30-44"},
  {{kRun, {A::kDeploy}, kAnyState, {P::kOsProvisioning, P::kOsProvisioned}}, AP::kRunning,
   "seed 000:276: 'The VM is running, and installation of guest OS is in progress'"},
  {{kRun, {A::kDeploy}, kAnyState, {P::kProlog, P::kBoot}}, AP::kStarting, "seed 000:30-44"},
  {{kRun, {A::kStart, A::kResume, A::kRestore, A::kRescue, A::kUnrescue}}, AP::kStarting,
   "seed 000:33 'VM is starting up', 191-192 (start is an update); resume, restore, rescue and "
   "unrescue boot the VM: Corral's choice, the same"},
  {{kRun, {A::kRebootHard}, {S::kPoweroff, S::kSuspended, S::kFailed}}, AP::kStarting,
   "seed 000:33: a VM that was off starts up"},
  {{kRun, {A::kRebootHard}, {S::kRunning, S::kPaused}}, AP::kRunning,
   "Corral's choice: a reset keeps the VM powered on (Azure's restart is an update, "
   "seed 000:191-192)"},
  {{kRun, {A::kShelve, A::kShelveOffload}, kAnyState, {P::kUpload}}, AP::kStopped,
   "Corral's choice: the image is uploaded from a VM already stopped on its host "
   "(seed 000:103-104)"},
  {{kRun, {A::kShelveOffload}, kAnyState, {P::kEpilog}}, AP::kDeallocating,
   "seed 000:128,151: the VM leaves its host"},
  {{kRun, {A::kShutdown, A::kShutdownHard, A::kSuspend, A::kSoftDelete, A::kShelve,
           A::kShelveOffload}}, AP::kStopping,
   "seed 000:80: stopped from the client or the guest OS, Stopping until Stopped"},
  {{kRun, {A::kDeallocate, A::kDeallocateHard, A::kHibernate}}, AP::kDeallocating,
   "seed 000:128: 'when the user stops the VM using client APIs'"},
  {{kRun, kRemoves, kAnyState, {P::kShutdown, P::kPowerOff}}, AP::kStopping, "seed 000:80"},
  {{kRun, kRemoves, kAnyState, {P::kEpilog, P::kCleanup}}, AP::kDeallocating,
   "Corral's choice: the VM leaves its host for good (seed 000:128,151)"},
  // Every other operation leaves the power as it was at its origin (below).
  {{kRun, kAnyAction, {S::kRunning, S::kPaused, S::kRescued, S::kResized}}, AP::kRunning,
   "seed 000:336-338: a management operation on a running VM leaves it running"},
  {{kRun, kAnyAction, {S::kPoweroff, S::kSuspended, S::kShelved, S::kSoftDeleted}},
   AP::kStopped, "Corral's choice: the operation does not start the VM (seed 000:103-104)"},
  {{kRun, kAnyAction, {S::kHibernated, S::kDeallocated}}, AP::kDeallocated,
   "Corral's choice: the operation does not bring the VM back to a host (seed 000:151)"},
  {{kRun, kAnyAction, {S::kUnknown}}, AP::kUnknown,
   "Corral's choice: the VM's power is still not known"},
  // Nothing running: the state the moment left the VM in.
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kPending, S::kHold}}, AP::kStarting,
   "seed 000:30-44 (Creating, VM starting): not placed yet"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kRunning, S::kPaused, S::kRescued}},
   AP::kRunning,
   "seed 000:52-67; PAUSED: Corral's choice, Azure has no pause and the VM holds (and bills) "
   "its host; RESCUED runs the rescue image"},
  {{kDone, {A::kResizeMigrate}, {S::kPoweroff}, kAnyPhase, {S::kResized}}, AP::kStopped,
   "Corral's choice: a VM resized while off stays off until confirmed (as Nova)"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kResized}}, AP::kRunning,
   "Corral's choice: resized while running, it runs with its new size (as Nova)"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase,
    {S::kSuspended, S::kPoweroff, S::kShelved, S::kSoftDeleted}}, AP::kStopped,
   "seed 000:103-104: stopped on the host, not removed"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kHibernated, S::kDeallocated}},
   AP::kDeallocated, "seed 000:151: stopped and removed from the host"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kUnknown}}, AP::kUnknown,
   "reference azure-libvirt-qmp.md:4 (the SDK's `unknown`)"},
  {{kEnd, kAnyAction, {S::kRunning, S::kPaused, S::kRescued, S::kResized}, kAnyPhase,
    {S::kFailed}}, AP::kRunning,
   "seed 000:336-338: a failed management operation typically leaves a running VM running"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kFailed}}, AP::kStopped,
   "Corral's choice: an operation that failed on a VM that was not running left it stopped"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kDone}}, AP::kNone,
   "Corral's choice: a deleted VM has no power state (Azure forgets it: 404)"},
};
// clang-format on

}  // namespace corral::lifecycle::golden::azure
