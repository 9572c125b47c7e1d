#include "lifecycle/vocabulary.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/text.h"
#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

using S = State;
using A = Action;
using V = Vocabulary;

constexpr StateSet kLive = StateSet::all_live();
constexpr ActionSet kAll = ActionSet::all();
// What a delete may cut short: anything but a delete already running (the table's own limit).
constexpr ActionSet kAllButDelete = kAll.without(A::kTerminateHard).without(A::kRecoverDelete);

// Where OpenNebula's terminate applies: every state but the transient ones.
constexpr StateSet kOneTerminable = {S::kRunning,     S::kUnknown,     S::kSuspended, S::kPoweroff,
                                     S::kHibernated,  S::kDeallocated, S::kPaused,    S::kShelved,
                                     S::kSoftDeleted, S::kPending,     S::kHold,      S::kFailed,
                                     S::kRescued,     S::kResized};

// clang-format off
const VerbRule kRules[] = {
  // ---- OpenStack Nova: seed 003's preconditions digraph ----------------------------------
  {V::kNova, "create", "", {S::kPending, S::kHold}, A::kDeploy, {}, "build a VM the scheduler placed (building -> create)"},
  {V::kNova, "create", "", {S::kInit}, A::kCreate, {}, "POST /servers"},
  // Seed 003 draws delete from building, paused, suspended, stopped, rescued, soft_deleted and
  // error only; Nova's API accepts it in every vm_state and task_state (nova/compute/api.py
  // delete: any/any, must_have_launched=False), and so does Corral.
  {V::kNova, "delete", "", kLive, A::kTerminateHard, kAllButDelete, "delete now; pre-empts any task"},
  {V::kNova, "soft_delete", "", {S::kRunning, S::kPoweroff}, A::kSoftDelete, {}, ""},
  {V::kNova, "restore", "", {S::kSoftDeleted}, A::kRestore, {}, ""},
  {V::kNova, "pause", "", {S::kRunning}, A::kPause, {}, ""},
  {V::kNova, "unpause", "", {S::kPaused}, A::kUnpause, {}, ""},
  {V::kNova, "suspend", "", {S::kRunning}, A::kSuspend, {}, ""},
  {V::kNova, "resume", "", {S::kSuspended}, A::kResume, {}, ""},
  {V::kNova, "start", "", {S::kPoweroff}, A::kStart, {}, "os-start"},
  {V::kNova, "stop", "", {S::kRunning, S::kUnknown}, A::kShutdown, {}, "os-stop: ACPI, then power off"},
  {V::kNova, "stop", "", {S::kFailed}, A::kShutdownHard, {}, "os-stop from error"},
  {V::kNova, "rescue", "", {S::kRunning, S::kPoweroff, S::kFailed}, A::kRescue, {}, ""},
  {V::kNova, "unrescue", "", {S::kRescued}, A::kUnrescue, {}, ""},
  {V::kNova, "resize", "", {S::kRunning, S::kPoweroff}, A::kResizeMigrate, {}, "then confirm_resize or revert_resize"},
  {V::kNova, "confirm_resize", "", {S::kResized}, A::kConfirmResize, {}, ""},
  {V::kNova, "revert_resize", "", {S::kResized}, A::kRevertResize, {}, ""},
  {V::kNova, "snapshot", "", {S::kRunning, S::kPoweroff}, A::kSnapshot, {}, "createImage"},
  {V::kNova, "backup", "", {S::kRunning, S::kPoweroff}, A::kBackup, {}, "createBackup"},
  {V::kNova, "rebuild", "", {S::kRunning, S::kPoweroff}, A::kRebuild, {}, ""},
  {V::kNova, "set_admin_password", "", {S::kRunning}, A::kSetAdminPassword, {}, "changePassword"},
  // vm_states.ALLOW_SOFT_REBOOT = [ACTIVE]; ALLOW_HARD_REBOOT adds STOPPED, PAUSED, SUSPENDED, ERROR.
  {V::kNova, "reboot", "SOFT", {S::kRunning}, A::kReboot, {}, "type SOFT (default)"},
  {V::kNova, "reboot", "HARD", {S::kRunning, S::kPaused, S::kPoweroff, S::kSuspended, S::kFailed}, A::kRebootHard, {}, "type HARD"},
  {V::kNova, "live_migrate", "", {S::kRunning}, A::kLiveMigrate, {}, "os-migrateLive"},
  // Nova offloads a shelved VM at once unless shelved_offload_time says otherwise.
  {V::kNova, "shelve", "true", {S::kRunning, S::kPoweroff, S::kPaused, S::kSuspended}, A::kShelveOffload, {}, "offload true (default)"},
  {V::kNova, "shelve", "false", {S::kRunning, S::kPoweroff, S::kPaused, S::kSuspended}, A::kShelve, {}, "offload false"},
  {V::kNova, "shelve_offload", "", {S::kShelved}, A::kShelveOffload, {}, ""},
  {V::kNova, "unshelve", "", {S::kShelved, S::kDeallocated}, A::kStart, {}, ""},
  {V::kNova, "unshelve", "", {S::kHibernated}, A::kResume, {}, ""},
  {V::kNova, "reset_state", "", kLive, A::kResetState, kAll, "admin: state active or error"},

  // ---- OpenNebula: onevm verbs -----------------------------------------------------------
  {V::kOpenNebula, "deploy", "", {S::kPending, S::kHold}, A::kDeploy, {}, ""},
  {V::kOpenNebula, "deploy", "", {S::kHibernated}, A::kResume, {}, "deploy a STOPPED VM"},
  {V::kOpenNebula, "deploy", "", {S::kDeallocated}, A::kStart, {}, "deploy an UNDEPLOYED VM"},
  {V::kOpenNebula, "hold", "", {S::kPending}, A::kHold, {}, ""},
  {V::kOpenNebula, "release", "", {S::kHold}, A::kRelease, {}, ""},
  {V::kOpenNebula, "stop", "", {S::kRunning, S::kSuspended}, A::kHibernate, {}, "save and move off the host"},
  {V::kOpenNebula, "suspend", "", {S::kRunning}, A::kSuspend, {}, ""},
  {V::kOpenNebula, "resume", "", {S::kSuspended, S::kHibernated}, A::kResume, {}, ""},
  {V::kOpenNebula, "resume", "", {S::kPoweroff, S::kUnknown, S::kDeallocated, S::kShelved}, A::kStart, {}, ""},
  {V::kOpenNebula, "resume", "", {S::kPaused}, A::kUnpause, {}, ""},
  {V::kOpenNebula, "resume", "", {S::kSoftDeleted}, A::kRestore, {}, ""},
  {V::kOpenNebula, "poweroff", "", {S::kRunning, S::kUnknown}, A::kShutdown, {}, "ACPI"},
  {V::kOpenNebula, "poweroff-hard", "", {S::kRunning, S::kUnknown}, A::kShutdownHard, {A::kShutdown}, "also overrides a hung poweroff"},
  {V::kOpenNebula, "undeploy", "", {S::kRunning, S::kUnknown, S::kPoweroff}, A::kDeallocate, {}, ""},
  {V::kOpenNebula, "undeploy-hard", "", {S::kRunning, S::kUnknown}, A::kDeallocateHard, {A::kDeallocate}, ""},
  {V::kOpenNebula, "undeploy-hard", "", {S::kPoweroff}, A::kDeallocate, {}, ""},
  {V::kOpenNebula, "terminate", "", kOneTerminable, A::kTerminate, {}, ""},
  // opennebula.md:24: INIT and CLONING (create running) go to DONE directly.
  {V::kOpenNebula, "terminate", "", {}, A::kTerminateHard, {A::kCreate}, "while the VM is created"},
  {V::kOpenNebula, "terminate-hard", "", kOneTerminable, A::kTerminateHard, {A::kTerminate, A::kCreate}, "also overrides a hung terminate"},
  {V::kOpenNebula, "reboot", "", {S::kRunning}, A::kReboot, {}, ""},
  {V::kOpenNebula, "reboot-hard", "", {S::kRunning}, A::kRebootHard, {}, ""},
  {V::kOpenNebula, "migrate", "", {S::kRunning, S::kPoweroff, S::kSuspended, S::kUnknown}, A::kMigrate, {}, "cold"},
  {V::kOpenNebula, "migrate-live", "", {S::kRunning}, A::kLiveMigrate, {}, ""},
  {V::kOpenNebula, "resched", "", {S::kRunning, S::kUnknown, S::kPoweroff}, A::kResched, {}, ""},
  {V::kOpenNebula, "unresched", "", {S::kRunning, S::kUnknown, S::kPoweroff}, A::kUnresched, {}, ""},
  {V::kOpenNebula, "recover", "success", {S::kFailed}, A::kRecoverSuccess, kAll, ""},
  {V::kOpenNebula, "recover", "failure", {S::kFailed}, A::kRecoverFailure, kAll, ""},
  {V::kOpenNebula, "recover", "retry", {S::kFailed}, A::kRecoverRetry, kAll, ""},
  {V::kOpenNebula, "recover", "delete", kLive, A::kRecoverDelete, kAllButDelete, ""},
  // Nothing was placed yet in PENDING or HOLD: nothing to clean up and schedule again.
  {V::kOpenNebula, "recover", "recreate", kLive.without(S::kPending).without(S::kHold), A::kRecoverRecreate, kAllButDelete, ""},
  {V::kOpenNebula, "resize", "", {S::kRunning, S::kPoweroff, S::kPending, S::kHold, S::kDeallocated}, A::kResize, {}, ""},
  {V::kOpenNebula, "disk-attach", "", {S::kRunning, S::kPoweroff}, A::kDiskAttach, {}, ""},
  {V::kOpenNebula, "disk-detach", "", {S::kRunning, S::kPoweroff}, A::kDiskDetach, {}, ""},
  {V::kOpenNebula, "nic-attach", "", {S::kRunning, S::kPoweroff}, A::kNicAttach, {}, ""},
  {V::kOpenNebula, "nic-detach", "", {S::kRunning, S::kPoweroff}, A::kNicDetach, {}, ""},
  {V::kOpenNebula, "disk-saveas", "", {S::kRunning, S::kPoweroff, S::kSuspended, S::kPaused, S::kDeallocated, S::kHibernated}, A::kSnapshot, {}, ""},
  {V::kOpenNebula, "disk-snapshot-create", "", {S::kRunning, S::kPoweroff, S::kSuspended}, A::kDiskSnapshot, {}, ""},
  {V::kOpenNebula, "disk-snapshot-revert", "", {S::kPoweroff}, A::kDiskSnapshotRevert, {}, "POWEROFF only (opennebula.md:33)"},
  {V::kOpenNebula, "disk-snapshot-delete", "", {S::kRunning, S::kPoweroff, S::kSuspended}, A::kDiskSnapshotDelete, {}, ""},
  {V::kOpenNebula, "disk-resize", "", {S::kRunning, S::kPoweroff, S::kDeallocated}, A::kDiskResize, {}, ""},
  {V::kOpenNebula, "snapshot-create", "", {S::kRunning}, A::kCheckpoint, {}, ""},
  {V::kOpenNebula, "snapshot-revert", "", {S::kRunning}, A::kCheckpointRevert, {}, ""},
  {V::kOpenNebula, "snapshot-delete", "", {S::kRunning}, A::kCheckpointDelete, {}, ""},
  {V::kOpenNebula, "backup", "", {S::kRunning, S::kPoweroff}, A::kBackup, {}, ""},

  // ---- Azure: virtualMachines operations --------------------------------------------------
  {V::kAzure, "start", "", {S::kPoweroff, S::kShelved, S::kDeallocated}, A::kStart, {}, ""},
  {V::kAzure, "start", "", {S::kSuspended, S::kHibernated}, A::kResume, {}, ""},
  {V::kAzure, "start", "", {S::kSoftDeleted}, A::kRestore, {}, ""},
  {V::kAzure, "powerOff", "false", {S::kRunning, S::kUnknown}, A::kShutdown, {}, "skipShutdown false (default)"},
  {V::kAzure, "powerOff", "true", {S::kRunning, S::kUnknown, S::kPaused}, A::kShutdownHard, {A::kShutdown}, "skipShutdown true"},
  {V::kAzure, "restart", "", {S::kRunning}, A::kReboot, {}, ""},
  {V::kAzure, "deallocate", "", {S::kRunning, S::kUnknown, S::kPoweroff, S::kSuspended, S::kShelved}, A::kDeallocate, {}, ""},
  {V::kAzure, "deallocate", "", {S::kPaused}, A::kDeallocateHard, {}, ""},
  {V::kAzure, "update", "", {S::kRunning, S::kPoweroff, S::kPending, S::kHold, S::kDeallocated}, A::kResize, {}, "a PUT that changes hardwareProfile.vmSize"},
  {V::kAzure, "delete", "", kLive, A::kTerminateHard, kAllButDelete, ""},

  // ---- StratusLab: seed 002 ----------------------------------------------------------------
  {V::kStratusLab, "run", "", {S::kInit}, A::kCreate, {}, "stratus-run-instance"},
  {V::kStratusLab, "kill", "", kLive, A::kTerminateHard, kAllButDelete, "stratus-kill-instance: forcibly stop and remove"},
};
// clang-format on

struct Ranges {
  std::span<const VerbRule> all;
  std::array<std::span<const VerbRule>, kVocabularyCount> by_vocabulary{};
  explicit Ranges(std::span<const VerbRule> rules) : all(rules) {
    for (Vocabulary v : kAllVocabularies) {
      const VerbRule* first = nullptr;
      std::size_t count = 0;
      for (const VerbRule& r : all) {
        if (r.vocabulary != v) continue;
        if (first == nullptr) first = &r;
        ++count;
      }
      if (first != nullptr) by_vocabulary[static_cast<std::size_t>(v)] = {first, count};
    }
  }
};

// The rules every lookup reads: the built-in ones, or a mutant (testing::ScopedVerbRules).
const Ranges* g_override = nullptr;

const Ranges& ranges() {
  static const Ranges kRanges(kRules);
  return g_override != nullptr ? *g_override : kRanges;
}

bool rule_applies(const VerbRule& rule, const VmRecord& record) {
  if (record.busy()) {
    if (!rule.during.contains(record.op->action)) return false;
  } else if (!rule.from.contains(record.state)) {
    return false;
  }
  return allowed(record, rule.action);
}

Error invalid_state(const VmRecord& record, Vocabulary vocabulary, std::string_view verb) {
  Error error;
  error.code = ErrorCode::kInvalidState;
  error.state = vocabulary_state_label(record, vocabulary);
  error.message = "cannot " + std::string(verb) + " a VM that is " + error.state;
  if (vocabulary != Vocabulary::kCorral) {
    error.message += " (" + std::string(vocabulary_name(vocabulary)) + ")";
  }
  error.allowed_actions = allowed_verbs(record, vocabulary);
  return error;
}

}  // namespace

std::span<const VerbRule> all_verb_rules() { return ranges().all; }

namespace testing {

ScopedVerbRules::ScopedVerbRules(std::span<const VerbRule> rules)
    : previous_(g_override), ranges_(new Ranges(rules)) {
  g_override = static_cast<const Ranges*>(ranges_.get());
}

ScopedVerbRules::~ScopedVerbRules() { g_override = static_cast<const Ranges*>(previous_); }

}  // namespace testing

std::span<const VerbRule> verb_rules(Vocabulary vocabulary) {
  return ranges().by_vocabulary[static_cast<std::size_t>(vocabulary)];
}

std::vector<std::string_view> verbs(Vocabulary vocabulary) {
  std::vector<std::string_view> out;
  if (vocabulary == Vocabulary::kCorral) {
    for (Action a : kAllActions) {
      if (!is_system_action(a)) out.push_back(action_name(a));
    }
    return out;
  }
  for (const VerbRule& r : verb_rules(vocabulary)) {
    if (std::find(out.begin(), out.end(), r.verb) == out.end()) out.push_back(r.verb);
  }
  return out;
}

std::string_view variant_parameter(Vocabulary vocabulary, std::string_view verb) {
  if (vocabulary == Vocabulary::kNova && verb == "reboot") return "type";
  if (vocabulary == Vocabulary::kNova && verb == "shelve") return "offload";
  if (vocabulary == Vocabulary::kAzure && iequals(verb, "powerOff")) return "skipShutdown";
  if (vocabulary == Vocabulary::kOpenNebula && verb == "recover") return "op";
  return {};
}

Result<Action> resolve(const VmRecord& record, Vocabulary vocabulary, std::string_view verb,
                       std::string_view variant) {
  if (vocabulary == Vocabulary::kCorral) {
    const std::optional<Action> action = parse_action(verb);
    if (!action || is_system_action(*action)) {
      return fail(
          Error{ErrorCode::kUnknownAction, "unknown action '" + std::string(verb) + "'", {}, {}});
    }
    if (!allowed(record, *action)) return fail(invalid_state(record, vocabulary, verb));
    return *action;
  }
  bool verb_known = false;
  bool variant_known = false;
  std::string_view default_variant;
  for (const VerbRule& r : verb_rules(vocabulary)) {
    if (!iequals(r.verb, verb)) continue;
    if (!verb_known) default_variant = r.variant;  // the first rule's variant is the default
    verb_known = true;
    const std::string_view wanted = variant.empty() ? default_variant : variant;
    if (!iequals(r.variant, wanted)) continue;
    variant_known = true;
    if (rule_applies(r, record)) return r.action;
  }
  if (!verb_known) {
    return fail(Error{ErrorCode::kUnknownAction,
                      "unknown " + std::string(vocabulary_name(vocabulary)) + " action '" +
                          std::string(verb) + "'",
                      {},
                      {}});
  }
  if (!variant_known) {
    return fail(Error::invalid_argument("'" + std::string(variant) + "' is not a valid " +
                                        std::string(variant_parameter(vocabulary, verb)) + " for " +
                                        std::string(vocabulary_name(vocabulary)) + " " +
                                        std::string(verb)));
  }
  return fail(invalid_state(record, vocabulary, verb));
}

std::vector<std::string> allowed_verbs(const VmRecord& record, Vocabulary vocabulary) {
  std::vector<std::string> out;
  if (vocabulary == Vocabulary::kCorral) {
    for (Action a : allowed_actions(record)) out.emplace_back(action_name(a));
    return out;
  }
  for (const VerbRule& r : verb_rules(vocabulary)) {
    if (r.action == Action::kCreate) continue;  // creates a new VM, not an action on this one
    if (!rule_applies(r, record)) continue;
    if (std::find(out.begin(), out.end(), r.verb) == out.end()) out.emplace_back(r.verb);
  }
  return out;
}

}  // namespace corral::lifecycle
