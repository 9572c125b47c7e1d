// The host lifecycle as data: the second state machine, in the form of table.h.
//
// A host is (HostState, forced_down). Each row says: on this event, from these states (with
// forced_down set, clear, or either), the host goes here, and this happens to its VMs. The
// per-state columns (monitored, scheduler deploys, manual deploys) come from OpenNebula's
// Host.h:37 (reference hosts-migration.md §1); Nova's service view (up/down, enabled/disabled
// with a reason, forced_down) is derived from the same record, never stored beside it.
//
// Invariants (checked by host_table_test.cc): every (state, forced_down, event) has exactly one
// row or exactly one refusal; refusals are for operator actions only (a monitor event always
// has a row, often "stay"); delete is allowed from every state but only with no VMs.
//
// Pure: no I/O, threads or clock. Whether the agent was heard within the down-timeout is an
// input (the engine owns the clock).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "lifecycle/host_types.h"

namespace corral::lifecycle {

inline constexpr HostState kAllHostStates[] = {HostState::kInit, HostState::kMonitored,
                                               HostState::kError, HostState::kDisabled,
                                               HostState::kOffline};

// What can happen to a host. Stable numbers (host events are published on /v1/events).
enum class HostEvent : std::uint8_t {
  // Operator actions (`corral host <verb>`, onehost, os-services).
  kEnable = 1,
  kDisable = 2,
  kOffline = 3,
  kFlush = 4,        // disable and move its VMs away
  kDelete = 5,       // forget the host; only when it has no VMs
  kForceDown = 6,    // Nova's forced_down=true: the operator asserts it is fenced
  kUnforceDown = 7,  // forced_down=false
  // Monitor events (the engine, from the agent's connection and heartbeats).
  kAgentConnected = 8,
  kHeartbeat = 9,
  kHeartbeatsMissed = 10,  // nothing heard for longer than the down-timeout
};
inline constexpr HostEvent kAllHostEvents[] = {
    HostEvent::kEnable,          HostEvent::kDisable,        HostEvent::kOffline,
    HostEvent::kFlush,           HostEvent::kDelete,         HostEvent::kForceDown,
    HostEvent::kUnforceDown,     HostEvent::kAgentConnected, HostEvent::kHeartbeat,
    HostEvent::kHeartbeatsMissed};

constexpr bool is_operator_action(HostEvent e) {
  switch (e) {
    case HostEvent::kEnable:
    case HostEvent::kDisable:
    case HostEvent::kOffline:
    case HostEvent::kFlush:
    case HostEvent::kDelete:
    case HostEvent::kForceDown:
    case HostEvent::kUnforceDown:
      return true;
    case HostEvent::kAgentConnected:
    case HostEvent::kHeartbeat:
    case HostEvent::kHeartbeatsMissed:
      return false;
  }
  return false;
}

// What a row does to the VMs placed on the host.
enum class HostVmEffect : std::uint8_t {
  kNone = 0,              // "do not change state of already running VMs" (onehost disable)
  kRunningToUnknown = 1,  // RUNNING VMs become UNKNOWN (InformationManager::_host_state)
  kMoveAway = 2,          // reschedule every VM elsewhere (onehost flush)
  kRequireNone = 3,       // refused while the host has VMs (onehost delete)
};

// Which hosts a row applies to, by their forced_down flag.
enum class ForcedDown : std::uint8_t { kEither = 0, kClear = 1, kSet = 2 };
// What a row does to the flag.
enum class ForcedDownChange : std::uint8_t { kKeep = 0, kSet = 1, kClear = 2 };

class HostStateSet {
 public:
  constexpr HostStateSet() = default;
  constexpr HostStateSet(std::initializer_list<HostState> states) {
    for (HostState s : states) bits_ |= bit(s);
  }
  constexpr bool contains(HostState s) const { return (bits_ & bit(s)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }

 private:
  static constexpr std::uint16_t bit(HostState s) {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(s));
  }
  std::uint16_t bits_ = 0;
};

struct HostTransition {
  HostEvent event = HostEvent::kEnable;
  HostStateSet from;
  ForcedDown when = ForcedDown::kEither;
  bool stay = false;  // the state does not change (`to` unused)
  HostState to = HostState::kInit;
  bool removes = false;  // the host is forgotten (delete)
  ForcedDownChange forced = ForcedDownChange::kKeep;
  HostVmEffect vms = HostVmEffect::kNone;
  std::string_view note;
};

// An operator action that is explicitly not allowed, with the reason a person reads.
struct HostRefusal {
  HostEvent event = HostEvent::kEnable;
  HostStateSet from;
  ForcedDown when = ForcedDown::kEither;
  std::string_view reason;
};

// The per-state columns (reference hosts-migration.md:11-14).
struct HostStateInfo {
  HostState state;
  bool monitored;
  bool scheduler_deploys;
  bool manual_deploys;
  std::string_view summary;
};

std::span<const HostTransition> host_transitions();
std::span<const HostRefusal> host_refusals();
const HostStateInfo& host_state_info(HostState state);

struct HostRecord {
  HostState state = HostState::kInit;
  bool forced_down = false;
};

// Deploy columns, with forced_down (Nova: a forced-down service is down, ComputeFilter rejects
// it) taking precedence.
bool takes_scheduler_deploys(const HostRecord& host);
bool takes_manual_deploys(const HostRecord& host);

const HostTransition* find_host_transition(const HostRecord& host, HostEvent event);
const HostRefusal* find_host_refusal(const HostRecord& host, HostEvent event);

// The operator actions allowed on `host` (for wrong-state errors and `corral host show`).
std::vector<HostEvent> allowed_host_actions(const HostRecord& host);

struct HostStep {
  HostRecord record;
  bool removed = false;
  HostVmEffect vms = HostVmEffect::kNone;
  const HostTransition* row = nullptr;
};

// Applies `event`. A refused operator action is kInvalidState with the state's name and the
// allowed actions (Corral's names); delete with VMs is kConflict.
[[nodiscard]] Result<HostStep> apply_host_event(const HostRecord& host, HostEvent event,
                                                int vm_count);

// ---- Names ---------------------------------------------------------------------------------

// Corral's lower-case names ("monitored", "force_down") and OpenNebula's ("MONITORED").
std::string_view host_state_name(HostState state);                 // "monitored"
std::string_view host_state_opennebula_name(HostState state);      // "MONITORED"
std::optional<HostState> parse_host_state(std::string_view name);  // either spelling
std::string_view host_event_name(HostEvent event);                 // "force_down"
// The verb in onehost / Nova's os-services API; empty when that system has none (OpenNebula
// has no forced_down; Nova has no offline or flush). Nova's forced_down is one PUT with
// forced_down=true|false: named so.
std::string_view host_event_opennebula_name(HostEvent event);
std::string_view host_event_nova_name(HostEvent event);
std::optional<HostEvent> parse_host_event(std::string_view name);  // Corral's names

// ---- Nova's service view -------------------------------------------------------------------

struct NovaServiceView {
  std::string_view state;            // "up" | "down"
  std::string_view status;           // "enabled" | "disabled"
  std::string_view disabled_reason;  // empty when enabled
  bool forced_down = false;
};

// `heard_within_down_timeout`: the agent reported within the down-timeout (Nova:
// now - last_seen_up <= service_down_time, reference hosts-migration.md:42). `operator_reason`
// replaces the default disabled_reason when set.
NovaServiceView nova_service_view(const HostRecord& host, bool heard_within_down_timeout,
                                  std::string_view operator_reason = {});

}  // namespace corral::lifecycle
