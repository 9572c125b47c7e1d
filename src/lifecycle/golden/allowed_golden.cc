// Golden table: allowed. The canonical user actions allowed on a VM at rest in each state, and
// while an operation runs (what may act on it or pre-empt it), written from the sources'
// preconditions (seed 001, seed 003, reference opennebula.md and nova.md) — not from table.cc.
// Compared with lifecycle::allowed_actions both ways: an action the model allows that no golden
// row allows, and one a golden row allows that the model refuses, are each a mismatch.
#include <array>
#include <string>
#include <vector>

#include "lifecycle/golden/golden.h"

namespace corral::lifecycle::golden {
namespace {

// At rest: `action` is allowed on record_at_rest(s) for each s in `states` (listed explicitly).
struct AtRest {
  std::string_view action;
  std::string_view states;
  std::string_view source;
};

// clang-format off
constexpr AtRest kAtRest[] = {
  {"deploy", "PENDING HOLD",
   "seed 001:41 (the scheduler or the user deploys it), seed 001:49 (a held VM can be deployed manually); reference opennebula.md:17"},
  {"hold", "PENDING", "reference opennebula.md:18"},
  {"release", "HOLD", "reference opennebula.md:18"},
  {"shutdown", "RUNNING UNKNOWN", "reference opennebula.md:22 (poweroff from RUNNING|UNKNOWN)"},
  {"shutdown_hard", "RUNNING UNKNOWN", "reference opennebula.md:22 (poweroff --hard)"},
  {"shutdown_hard", "PAUSED RESCUED", "Corral's choice: a guest that cannot answer ACPI can still be powered off"},
  {"shutdown_hard", "FAILED", "reference nova.md:31 (stop from error); seed 003:20 (error -> stop)"},
  {"start", "POWEROFF UNKNOWN", "reference opennebula.md:21 (resume from POWEROFF, UNKNOWN); nova.md:32 (start from stopped)"},
  {"start", "SHELVED DEALLOCATED", "reference nova.md:52 (unshelve from shelved, shelved_offloaded); opennebula.md:21 (resume from UNDEPLOYED)"},
  {"reboot", "RUNNING", "reference nova.md:7 (ALLOW_SOFT_REBOOT=[ACTIVE]); opennebula.md:25 (RUNNING only)"},
  {"reboot_hard", "RUNNING PAUSED POWEROFF SUSPENDED FAILED",
   "reference nova.md:7 (ALLOW_HARD_REBOOT=[ACTIVE,STOPPED,PAUSED,SUSPENDED,ERROR]); seed 003:30"},
  {"pause", "RUNNING", "reference nova.md:33; seed 003:15 (active -> pause)"},
  {"unpause", "PAUSED", "reference nova.md:34; seed 003:16 (paused -> unpause)"},
  {"suspend", "RUNNING", "reference nova.md:35, opennebula.md:20; seed 003:17 (active -> suspend)"},
  {"suspend", "PAUSED", "Corral's choice: a paused VM's memory can be saved as it stands"},
  {"resume", "SUSPENDED", "reference nova.md:36, opennebula.md:21; seed 003:18 (suspended -> resume)"},
  {"resume", "HIBERNATED", "reference opennebula.md:21 (resume from STOPPED)"},
  {"hibernate", "RUNNING SUSPENDED", "reference opennebula.md:19 (stop from RUNNING, SUSPENDED)"},
  {"hibernate", "PAUSED", "Corral's choice: as from RUNNING, the memory saved as it stands"},
  {"deallocate", "RUNNING UNKNOWN POWEROFF", "reference opennebula.md:23 (undeploy)"},
  {"deallocate", "SUSPENDED SHELVED", "Corral's choice: Azure deallocates a stopped VM (seed 000:128)"},
  {"deallocate_hard", "RUNNING UNKNOWN", "reference opennebula.md:23 (undeploy --hard)"},
  {"deallocate_hard", "PAUSED", "Corral's choice: a paused guest cannot answer ACPI"},
  {"terminate", "RUNNING UNKNOWN SUSPENDED POWEROFF HIBERNATED DEALLOCATED PENDING HOLD FAILED",
   "reference opennebula.md:24 (terminate from these and every *_FAILURE)"},
  {"terminate", "PAUSED RESCUED RESIZED SHELVED SOFT_DELETED",
   "reference nova.md:27 (delete from any vm_state); docs/state-model.md decision 5"},
  {"terminate_hard", "RUNNING UNKNOWN SUSPENDED POWEROFF HIBERNATED DEALLOCATED PENDING HOLD FAILED",
   "reference opennebula.md:24 (terminate --hard)"},
  {"terminate_hard", "PAUSED RESCUED RESIZED SHELVED SOFT_DELETED",
   "reference nova.md:27 (delete from any vm_state)"},
  {"migrate", "RUNNING POWEROFF SUSPENDED UNKNOWN", "reference opennebula.md:26 (cold migrate)"},
  {"live_migrate", "RUNNING PAUSED", "reference nova.md:48 (active, paused); opennebula.md:27"},
  {"resched", "RUNNING UNKNOWN POWEROFF", "reference opennebula.md:28"},
  {"unresched", "RUNNING UNKNOWN POWEROFF", "reference opennebula.md:28"},
  {"resize", "RUNNING POWEROFF PENDING HOLD DEALLOCATED", "reference opennebula.md:37 (SUSPENDED, STOPPED rejected)"},
  {"resize_migrate", "RUNNING POWEROFF", "reference nova.md:41; seed 003:23 (active, stopped -> resize)"},
  {"confirm_resize", "RESIZED", "reference nova.md:42; seed 003:24"},
  {"revert_resize", "RESIZED", "reference nova.md:43; seed 003:25"},
  {"rescue", "RUNNING POWEROFF FAILED", "reference nova.md:39; seed 003:21 (active, stopped, error -> rescue)"},
  {"unrescue", "RESCUED", "reference nova.md:40; seed 003:22"},
  {"rebuild", "RUNNING POWEROFF", "seed 003:28 (active, stopped -> rebuild); nova.md:46"},
  {"set_admin_password", "RUNNING", "reference nova.md:47; seed 003:29"},
  {"snapshot", "RUNNING POWEROFF PAUSED SUSPENDED", "reference nova.md:44"},
  {"snapshot", "DEALLOCATED HIBERNATED", "reference opennebula.md:35 (disk-saveas from UNDEPLOYED, STOPPED)"},
  {"backup", "RUNNING POWEROFF", "reference opennebula.md:39; seed 003:27 (active, stopped -> backup)"},
  {"shelve", "RUNNING POWEROFF PAUSED SUSPENDED", "reference nova.md:50; seed 003:32"},
  {"shelve_offload", "RUNNING POWEROFF PAUSED SUSPENDED", "reference nova.md:50 (shelve offloads at once)"},
  {"shelve_offload", "SHELVED", "reference nova.md:51; seed 003:33 (shelved -> shelve_offload)"},
  {"soft_delete", "RUNNING POWEROFF", "reference nova.md:28; seed 003:13"},
  {"restore", "SOFT_DELETED", "reference nova.md:29; seed 003:14"},
  {"disk_attach", "RUNNING POWEROFF", "reference opennebula.md:29"},
  {"disk_detach", "RUNNING POWEROFF", "reference opennebula.md:30"},
  {"nic_attach", "RUNNING POWEROFF", "reference opennebula.md:31"},
  {"nic_detach", "RUNNING POWEROFF", "reference opennebula.md:31"},
  {"disk_snapshot", "RUNNING POWEROFF SUSPENDED", "reference opennebula.md:33"},
  {"disk_snapshot_revert", "POWEROFF SUSPENDED", "reference opennebula.md:33; seed 001:481 (DISK_SNAPSHOT_REVERT_SUSPENDED)"},
  {"disk_snapshot_delete", "RUNNING POWEROFF SUSPENDED", "reference opennebula.md:33"},
  {"disk_resize", "RUNNING POWEROFF DEALLOCATED", "reference opennebula.md:34"},
  {"checkpoint", "RUNNING", "reference opennebula.md:32 (snapshot-create)"},
  {"checkpoint_revert", "RUNNING", "reference opennebula.md:32"},
  {"checkpoint_delete", "RUNNING", "reference opennebula.md:32"},
  {"create", "INIT",
   "seed 001:33 (INIT is internal, not for end users); Corral's choice: a creation declared failed (recover_failure) can only be started again"},
  {"recover_retry", "FAILED", "reference opennebula.md:49 (--retry from *_FAILURE)"},
  {"recover_success", "FAILED", "reference opennebula.md:47"},
  {"recover_failure", "FAILED", "reference opennebula.md:47-48"},
  {"recover_delete",
   "PENDING HOLD RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED UNKNOWN FAILED",
   "reference opennebula.md:50 (--delete, any state)"},
  {"recover_recreate",
   "RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED UNKNOWN FAILED",
   "reference opennebula.md:51; Corral's choice: not from PENDING or HOLD, where nothing was placed"},
  {"reset_state",
   "PENDING HOLD RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED UNKNOWN FAILED",
   "reference nova.md:54 (os-resetState: no state check)"},
};
// clang-format on

// While an operation runs: `action` is allowed while one of `running` runs ("any", "any but
// <actions>", or a list of actions) that started from one of `origins` (listed explicitly).
struct During {
  std::string_view action;
  std::string_view running;
  std::string_view origins;
  std::string_view source;
};

constexpr std::string_view kEveryOrigin =
    "INIT PENDING HOLD RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED "
    "RESIZED SOFT_DELETED UNKNOWN FAILED";

// clang-format off
constexpr During kDuring[] = {
  {"cancel", "any", kEveryOrigin, "seed 000:264-267 (a user-initiated cancel of an operation)"},
  {"recover_retry", "any", kEveryOrigin, "reference opennebula.md:49 (in-progress steps are re-sent)"},
  {"recover_success", "any", kEveryOrigin, "reference opennebula.md:47 (any ACTIVE state)"},
  {"recover_failure", "any", kEveryOrigin, "reference opennebula.md:47 (any ACTIVE state)"},
  {"reset_state", "any", kEveryOrigin, "reference nova.md:54 (no check), nova.md:186"},
  {"terminate_hard", "any but terminate_hard recover_delete", kEveryOrigin,
   "reference nova.md:69-71 (delete pre-empts any task; a duplicate delete is ignored)"},
  {"recover_delete", "any but terminate_hard recover_delete", kEveryOrigin,
   "reference opennebula.md:50 (DRIVER_CANCEL to the running action)"},
  {"recover_recreate", "any but terminate_hard recover_delete", kEveryOrigin,
   "reference opennebula.md:51 (same cleanup); a delete in progress is final"},
  {"shutdown_hard", "shutdown", "RUNNING UNKNOWN",
   "reference opennebula.md:22 (--hard also from SHUTDOWN_POWEROFF), opennebula.md:102 (#2586)"},
  {"deallocate_hard", "deallocate", "RUNNING UNKNOWN",
   "reference opennebula.md:23 (--hard also from SHUTDOWN_UNDEPLOY)"},
};
// clang-format on

using ActionBits = std::array<bool, kActionCount>;

// The golden rows parsed once (this file's own data, not the model's).
struct Golden {
  struct Rest {
    Action action;
    StateSet states;
    const AtRest* row;
  };
  struct Busy {
    Action action;
    ActionBits running{};
    StateSet origins;
    const During* row;
  };
  std::vector<Rest> rest;
  std::vector<Busy> busy;
  std::vector<std::string> errors;

  bool parse_states(std::string_view text, StateSet& out, std::string_view what) {
    for (std::string_view w : words(text)) {
      const auto s = parse_state(w);
      if (!s) {
        errors.push_back("golden " + std::string(what) + ": unknown state " + std::string(w));
        return false;
      }
      out = out.with(*s);
    }
    return true;
  }

  std::optional<Action> action(std::string_view name) {
    const auto a = parse_action(name);
    if (!a) errors.push_back("golden row: unknown action " + std::string(name));
    return a;
  }

  Golden() {
    for (const AtRest& row : kAtRest) {
      Rest r{Action::kCreate, {}, &row};
      const auto a = action(row.action);
      if (!a || !parse_states(row.states, r.states, row.action)) continue;
      r.action = *a;
      rest.push_back(r);
    }
    for (const During& row : kDuring) {
      Busy b{Action::kCreate, {}, {}, &row};
      const auto a = action(row.action);
      if (!a || !parse_states(row.origins, b.origins, row.action)) continue;
      b.action = *a;
      std::vector<std::string_view> list = words(row.running);
      const bool any = !list.empty() && list[0] == "any";
      std::size_t first = 0;
      if (any) first = list.size() > 1 && list[1] == "but" ? 2 : 1;
      b.running.fill(any);
      bool ok = list.size() > first || (any && list.size() == 1);
      for (std::size_t i = first; i < list.size(); ++i) {
        const auto r = action(list[i]);
        if (!r) ok = false;
        if (r) b.running[static_cast<std::size_t>(*r)] = !any;
      }
      if (ok) {
        busy.push_back(b);
      } else {
        errors.push_back("golden " + std::string(row.action) + " while '" +
                         std::string(row.running) + "' is malformed");
      }
    }
  }
};

const Golden& golden() {
  static const Golden kGolden;
  return kGolden;
}

std::string names(const std::vector<Action>& actions) {
  std::string s;
  for (Action a : actions) s += (s.empty() ? "" : " ") + std::string(action_name(a));
  return s.empty() ? "nothing" : s;
}

// The golden set for one record, with the row that allows each action.
struct Expected {
  std::array<std::string_view, kActionCount> source{};  // empty: not allowed
};

Expected expected_for(const Golden& g, const VmRecord& r, std::vector<std::size_t>* used_busy) {
  Expected e;
  if (r.busy()) {
    for (std::size_t i = 0; i < g.busy.size(); ++i) {
      const Golden::Busy& b = g.busy[i];
      if (!b.origins.contains(r.op->origin) || !b.running[static_cast<std::size_t>(r.op->action)]) {
        continue;
      }
      e.source[static_cast<std::size_t>(b.action)] = b.row->source;
      if (used_busy != nullptr) used_busy->push_back(i);
    }
    return e;
  }
  for (const Golden::Rest& rest : g.rest) {
    if (rest.states.contains(r.state)) {
      e.source[static_cast<std::size_t>(rest.action)] = rest.row->source;
    }
  }
  return e;
}

void compare(std::string_view where, const VmRecord& r, const Expected& e, Mismatches& out) {
  const std::vector<Action> model = allowed_actions(r);
  ActionBits in_model{};
  for (Action a : model) in_model[static_cast<std::size_t>(a)] = true;
  for (Action a : kAllActions) {
    if (out.full()) return;
    if (is_system_action(a)) continue;
    const std::string_view source = e.source[static_cast<std::size_t>(a)];
    const bool golden = !source.empty();
    if (golden == in_model[static_cast<std::size_t>(a)]) continue;
    if (golden) {
      out.add(std::string(where) + ": golden allows " + std::string(action_name(a)) + " [" +
              std::string(source) + "]; the model refuses it (model allows: " + names(model) + ")");
    } else {
      out.add(std::string(where) + ": the model allows " + std::string(action_name(a)) +
              "; no golden row does");
    }
  }
}

// The record a failed creation declared failed leaves, if the model has it: INIT, idle.
std::optional<VmRecord> idle_init() {
  const VmRecord failed = phase_failed(new_record()).record;
  auto s = begin(failed, {Action::kRecoverFailure});
  if (!s || s->record.busy() || s->record.state != State::kInit) return std::nullopt;
  return s->record;
}

}  // namespace

Mismatches check_allowed(std::size_t limit) {
  Mismatches out(limit);
  const Golden& g = golden();
  for (const std::string& e : g.errors) out.add(e);

  // At rest: every state, INIT (a creation running) and DONE (nothing) included.
  for (State s : kAllStates) {
    if (out.full()) return out;
    const VmRecord r = record_at_rest(s);
    compare("at rest in " + std::string(state_name(s)), r, expected_for(g, r, nullptr), out);
  }

  // INIT with no operation running: a failed creation declared failed (docs/state-model.md
  // decision 4 sends the VM back to where the operation started).
  if (const auto init = idle_init(); init && !out.full()) {
    compare("at rest in INIT after a failed create's recover_failure", *init,
            expected_for(g, *init, nullptr), out);
  }

  // During: every running operation the model can have (each action and origin, pre-empting
  // ones too); each golden during-row must apply to a running operation from each origin.
  std::vector<std::array<bool, kStateCount>> used(g.busy.size());
  std::vector<std::size_t> applied;
  for (const Moment& m : moments()) {
    if (out.full()) return out;
    if (m.outcome != Outcome::kRunning || m.step != 0 || !m.record.busy()) continue;
    applied.clear();
    const Expected e = expected_for(g, m.record, &applied);
    for (std::size_t i : applied) used[i][static_cast<std::size_t>(m.record.op->origin)] = true;
    compare("while " + m.describe(), m.record, e, out);
  }
  for (std::size_t i = 0; i < g.busy.size() && !out.full(); ++i) {
    for (State s : kAllStates) {
      if (g.busy[i].origins.contains(s) && !used[i][static_cast<std::size_t>(s)]) {
        out.add("golden " + std::string(g.busy[i].row->action) + " while " +
                std::string(g.busy[i].row->running) + " from " + std::string(state_name(s)) + " [" +
                std::string(g.busy[i].row->source) +
                "]: no such running operation in "
                "the model");
      }
    }
  }
  return out;
}

}  // namespace corral::lifecycle::golden
