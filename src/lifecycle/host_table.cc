#include "lifecycle/host_table.h"

#include <fmt/format.h>

namespace corral::lifecycle {
namespace {

using H = HostState;
using E = HostEvent;
using V = HostVmEffect;
using FD = ForcedDown;
using FC = ForcedDownChange;

constexpr HostStateSet kAll = {H::kInit, H::kMonitored, H::kError, H::kDisabled, H::kOffline};
// States whose agent reports are taken (not OFFLINE: "not monitored").
constexpr HostStateSet kEnabled = {H::kInit, H::kMonitored, H::kError};

constexpr HostTransition to(E e, HostStateSet from, FD when, H state, V vms, std::string_view note,
                            FC forced = FC::kKeep) {
  return HostTransition{e, from, when, false, state, false, forced, vms, note};
}
constexpr HostTransition stay(E e, HostStateSet from, FD when, V vms, std::string_view note,
                              FC forced = FC::kKeep) {
  return HostTransition{e, from, when, true, H::kInit, false, forced, vms, note};
}

// clang-format off
constexpr HostTransition kRows[] = {
  // Operator actions.
  to(E::kEnable, {H::kDisabled, H::kOffline, H::kError}, FD::kClear, H::kInit, V::kNone,
     "back into service; INIT until its agent is heard (onehost enable)"),
  to(E::kEnable, {H::kDisabled, H::kOffline}, FD::kSet, H::kError, V::kNone,
     "enabled again but still forced down: ERROR until forced_down is unset"),
  to(E::kDisable, {H::kInit, H::kMonitored, H::kError, H::kOffline}, FD::kEither, H::kDisabled,
     V::kNone, "monitored, manual deploys only; running VMs are left alone"),
  to(E::kOffline, {H::kInit, H::kMonitored, H::kError, H::kDisabled}, FD::kEither, H::kOffline,
     V::kNone, "not monitored, no deploys; running VMs are left alone"),
  to(E::kFlush, {H::kInit, H::kMonitored, H::kError, H::kDisabled}, FD::kEither, H::kDisabled,
     V::kMoveAway, "disable and move every VM to another host"),
  HostTransition{E::kDelete, kAll, FD::kEither, true, H::kInit, true, FC::kKeep, V::kRequireNone,
                 "forget the host; refused while any VM is placed on it"},
  to(E::kForceDown, kEnabled, FD::kClear, H::kError, V::kRunningToUnknown,
     "the operator asserts the host is fenced: down, its RUNNING VMs UNKNOWN", FC::kSet),
  stay(E::kForceDown, {H::kDisabled, H::kOffline}, FD::kClear, V::kRunningToUnknown,
       "fenced while out of service: stays so, its RUNNING VMs UNKNOWN", FC::kSet),
  to(E::kUnforceDown, kEnabled, FD::kSet, H::kInit, V::kNone,
     "no longer fenced: INIT until its agent is heard again", FC::kClear),
  stay(E::kUnforceDown, {H::kDisabled, H::kOffline}, FD::kSet, V::kNone,
       "no longer fenced; still out of service", FC::kClear),

  // Monitor events.
  to(E::kAgentConnected, kEnabled, FD::kClear, H::kMonitored, V::kNone,
     "its agent connected; VMs are reconciled from the agent's report, not here"),
  to(E::kHeartbeat, kEnabled, FD::kClear, H::kMonitored, V::kNone,
     "its agent reported; an ERROR host comes back (onemonitord)"),
  stay(E::kAgentConnected, {H::kDisabled}, FD::kClear, V::kNone,
       "disabled hosts are monitored; the operator's choice stands"),
  stay(E::kHeartbeat, {H::kDisabled}, FD::kClear, V::kNone,
       "disabled hosts are monitored; the operator's choice stands"),
  stay(E::kAgentConnected, {H::kOffline}, FD::kClear, V::kNone,
       "offline hosts are not monitored: the report is ignored"),
  stay(E::kHeartbeat, {H::kOffline}, FD::kClear, V::kNone,
       "offline hosts are not monitored: the report is ignored"),
  stay(E::kAgentConnected, kAll, FD::kSet, V::kNone,
       "forced down: reports do not bring it up until the operator unsets it (Nova)"),
  stay(E::kHeartbeat, kAll, FD::kSet, V::kNone,
       "forced down: reports do not bring it up until the operator unsets it (Nova)"),
  to(E::kHeartbeatsMissed, {H::kInit, H::kMonitored}, FD::kEither, H::kError, V::kRunningToUnknown,
     "silent past the down-timeout: ERROR, its RUNNING VMs UNKNOWN (InformationManager)"),
  stay(E::kHeartbeatsMissed, {H::kError}, FD::kEither, V::kNone, "already ERROR"),
  stay(E::kHeartbeatsMissed, {H::kDisabled}, FD::kEither, V::kRunningToUnknown,
       "disabled hosts are monitored: its RUNNING VMs become UNKNOWN; it stays disabled"),
  stay(E::kHeartbeatsMissed, {H::kOffline}, FD::kEither, V::kNone,
       "offline hosts are not monitored: silence is expected"),
};

constexpr HostRefusal kRefusals[] = {
  {E::kEnable, {H::kInit, H::kMonitored}, FD::kEither, "the host is already enabled"},
  {E::kEnable, {H::kError}, FD::kSet,
   "the host is forced down: unset forced_down to bring it back"},
  {E::kDisable, {H::kDisabled}, FD::kEither, "the host is already disabled"},
  {E::kOffline, {H::kOffline}, FD::kEither, "the host is already offline"},
  {E::kFlush, {H::kOffline}, FD::kEither,
   "the host is offline (not monitored): its VMs cannot be moved; disable or enable it first"},
  {E::kForceDown, kAll, FD::kSet, "the host is already forced down"},
  {E::kUnforceDown, kAll, FD::kClear, "the host is not forced down"},
};

constexpr HostStateInfo kStateInfo[] = {
  {H::kInit, true, true, true, "added, its agent not heard from yet"},
  {H::kMonitored, true, true, true, "its agent reports; takes deploys"},
  {H::kError, true, false, true, "its agent is silent past the down-timeout; no scheduler deploys"},
  {H::kDisabled, true, false, true, "disabled by an operator; monitored, manual deploys only"},
  {H::kOffline, false, false, false, "taken out by an operator; not monitored, no deploys"},
};
// clang-format on

bool applies(FD when, bool forced_down) {
  switch (when) {
    case FD::kEither:
      return true;
    case FD::kClear:
      return !forced_down;
    case FD::kSet:
      return forced_down;
  }
  return false;
}

}  // namespace

std::span<const HostTransition> host_transitions() { return kRows; }
std::span<const HostRefusal> host_refusals() { return kRefusals; }

const HostStateInfo& host_state_info(HostState state) {
  for (const HostStateInfo& info : kStateInfo) {
    if (info.state == state) return info;
  }
  return kStateInfo[0];  // unreachable for a valid HostState
}

bool takes_scheduler_deploys(const HostRecord& host) {
  return !host.forced_down && host_state_info(host.state).scheduler_deploys;
}
bool takes_manual_deploys(const HostRecord& host) {
  return !host.forced_down && host_state_info(host.state).manual_deploys;
}

const HostTransition* find_host_transition(const HostRecord& host, HostEvent event) {
  for (const HostTransition& t : kRows) {
    if (t.event == event && t.from.contains(host.state) && applies(t.when, host.forced_down)) {
      return &t;
    }
  }
  return nullptr;
}

const HostRefusal* find_host_refusal(const HostRecord& host, HostEvent event) {
  for (const HostRefusal& r : kRefusals) {
    if (r.event == event && r.from.contains(host.state) && applies(r.when, host.forced_down)) {
      return &r;
    }
  }
  return nullptr;
}

std::vector<HostEvent> allowed_host_actions(const HostRecord& host) {
  std::vector<HostEvent> out;
  for (HostEvent e : kAllHostEvents) {
    if (is_operator_action(e) && find_host_transition(host, e) != nullptr) out.push_back(e);
  }
  return out;
}

Result<HostStep> apply_host_event(const HostRecord& host, HostEvent event, int vm_count) {
  const HostTransition* row = find_host_transition(host, event);
  if (row == nullptr) {
    const HostRefusal* refusal = find_host_refusal(host, event);
    Error error{ErrorCode::kInvalidState,
                fmt::format("cannot {} host in state {}{}: {}", host_event_name(event),
                            host_state_name(host.state), host.forced_down ? " (forced down)" : "",
                            refusal != nullptr ? refusal->reason : "no such transition"),
                std::string(host_state_name(host.state)),
                {}};
    for (HostEvent e : allowed_host_actions(host)) {
      error.allowed_actions.emplace_back(host_event_name(e));
    }
    return fail(std::move(error));
  }
  if (row->vms == HostVmEffect::kRequireNone && vm_count > 0) {
    return fail(Error{ErrorCode::kConflict,
                      fmt::format("cannot {} host: {} VM(s) are placed on it; flush it first",
                                  host_event_name(event), vm_count),
                      std::string(host_state_name(host.state)),
                      {}});
  }
  HostStep step;
  step.row = row;
  step.vms = row->vms;
  step.removed = row->removes;
  step.record = host;
  if (!row->stay) step.record.state = row->to;
  switch (row->forced) {
    case ForcedDownChange::kKeep:
      break;
    case ForcedDownChange::kSet:
      step.record.forced_down = true;
      break;
    case ForcedDownChange::kClear:
      step.record.forced_down = false;
      break;
  }
  return step;
}

// ---- Names ---------------------------------------------------------------------------------

std::string_view host_state_name(HostState state) {
  switch (state) {
    case H::kInit:
      return "init";
    case H::kMonitored:
      return "monitored";
    case H::kError:
      return "error";
    case H::kDisabled:
      return "disabled";
    case H::kOffline:
      return "offline";
  }
  return "?";
}

std::string_view host_state_opennebula_name(HostState state) {
  switch (state) {
    case H::kInit:
      return "INIT";
    case H::kMonitored:
      return "MONITORED";
    case H::kError:
      return "ERROR";
    case H::kDisabled:
      return "DISABLED";
    case H::kOffline:
      return "OFFLINE";
  }
  return "?";
}

std::optional<HostState> parse_host_state(std::string_view name) {
  for (HostState s : kAllHostStates) {
    if (name == host_state_name(s) || name == host_state_opennebula_name(s)) return s;
  }
  return std::nullopt;
}

std::string_view host_event_name(HostEvent event) {
  switch (event) {
    case E::kEnable:
      return "enable";
    case E::kDisable:
      return "disable";
    case E::kOffline:
      return "offline";
    case E::kFlush:
      return "flush";
    case E::kDelete:
      return "delete";
    case E::kForceDown:
      return "force_down";
    case E::kUnforceDown:
      return "unforce_down";
    case E::kAgentConnected:
      return "agent_connected";
    case E::kHeartbeat:
      return "heartbeat";
    case E::kHeartbeatsMissed:
      return "heartbeats_missed";
  }
  return "?";
}

std::string_view host_event_opennebula_name(HostEvent event) {
  switch (event) {
    case E::kEnable:
    case E::kDisable:
    case E::kOffline:
    case E::kFlush:
    case E::kDelete:
      return host_event_name(event);  // onehost enable|disable|offline|flush|delete
    case E::kForceDown:
    case E::kUnforceDown:
    case E::kAgentConnected:
    case E::kHeartbeat:
    case E::kHeartbeatsMissed:
      return {};
  }
  return {};
}

std::string_view host_event_nova_name(HostEvent event) {
  switch (event) {
    case E::kEnable:
      return "enable";
    case E::kDisable:
      return "disable";
    case E::kDelete:
      return "delete";
    case E::kForceDown:
      return "forced_down=true";
    case E::kUnforceDown:
      return "forced_down=false";
    case E::kOffline:
    case E::kFlush:
    case E::kAgentConnected:
    case E::kHeartbeat:
    case E::kHeartbeatsMissed:
      return {};
  }
  return {};
}

std::optional<HostEvent> parse_host_event(std::string_view name) {
  for (HostEvent e : kAllHostEvents) {
    if (name == host_event_name(e)) return e;
  }
  return std::nullopt;
}

// ---- Nova's service view -------------------------------------------------------------------

NovaServiceView nova_service_view(const HostRecord& host, bool heard_within_down_timeout,
                                  std::string_view operator_reason) {
  NovaServiceView view;
  view.forced_down = host.forced_down;
  // Up: heard within service_down_time and not forced down (hosts-migration.md:42-43). An
  // OFFLINE host is not monitored, so nothing says it is up.
  const bool up = heard_within_down_timeout && !host.forced_down &&
                  host_state_info(host.state).monitored && host.state != H::kError;
  view.state = up ? "up" : "down";
  switch (host.state) {
    case H::kInit:
    case H::kMonitored:
    case H::kError:
      view.status = "enabled";
      break;
    case H::kDisabled:
      view.status = "disabled";
      view.disabled_reason = operator_reason.empty() ? "disabled by an operator" : operator_reason;
      break;
    case H::kOffline:
      view.status = "disabled";
      view.disabled_reason = operator_reason.empty() ? "offline" : operator_reason;
      break;
  }
  return view;
}

}  // namespace corral::lifecycle
