#include "lifecycle/net_table.h"

#include <algorithm>
#include <string>

namespace corral::lifecycle {
namespace {

using S = NetworkState;
using E = NetworkEvent;

// Where a network goes. OpenNebula's vnet create runs the driver's vnet_create in LOCK_CREATE
// and ends READY or ERROR; delete runs vnet_delete in LOCK_DELETE and ends DONE; a failed
// lease update leaves UPDATE_FAILURE (VirtualNetwork.h:75). A job is the network's whole
// state, so a later success heals ERROR and UPDATE_FAILURE alike.
constexpr NetworkRow kRows[] = {
    {E::kCreate, {S::kInit}, S::kLockCreate, true, false, "build the bridge, DHCP and VXLAN"},
    {E::kCreate,
     {S::kReady, S::kLockCreate, S::kLockDelete, S::kDone, S::kError, S::kUpdateFailure},
     std::nullopt,
     false,
     false,
     "a network is created once"},
    {E::kDelete,
     {S::kReady, S::kError, S::kUpdateFailure, S::kLockCreate, S::kLockDelete},
     S::kLockDelete,
     true,
     false,
     "remove it (only without leases)"},
    {E::kDelete, {S::kInit, S::kDone}, std::nullopt, false, false, "nothing to delete"},
    {E::kFabricDone,
     {S::kLockCreate, S::kReady, S::kError, S::kUpdateFailure},
     S::kReady,
     false,
     false,
     "the fabric holds what the engine holds"},
    {E::kFabricDone, {S::kLockDelete}, S::kDone, false, true, "removed everywhere"},
    {E::kFabricDone, {S::kInit, S::kDone}, std::nullopt, false, false, "no job was sent"},
    {E::kFabricFailed,
     {S::kLockCreate, S::kError},
     S::kError,
     false,
     false,
     "never built: ERROR, with the fabric's words"},
    {E::kFabricFailed,
     {S::kReady, S::kUpdateFailure},
     S::kUpdateFailure,
     false,
     false,
     "built, but behind its leases"},
    {E::kFabricFailed,
     {S::kLockDelete},
     S::kError,
     false,
     false,
     "could not be removed: ERROR (delete again)"},
    {E::kFabricFailed, {S::kInit, S::kDone}, std::nullopt, false, false, "no job was sent"},
    {E::kLeasesChanged, {S::kReady}, S::kReady, true, false, "DHCP gets the new leases"},
    {E::kLeasesChanged,
     {S::kUpdateFailure},
     S::kUpdateFailure,
     true,
     false,
     "DHCP gets the new leases (READY once it has them)"},
    {E::kLeasesChanged,
     {S::kInit, S::kLockCreate, S::kLockDelete, S::kDone, S::kError},
     std::nullopt,
     false,
     false,
     "no leases while it is not built"},
};

}  // namespace

std::span<const NetworkRow> network_table() { return kRows; }

std::string_view network_state_name(NetworkState s) {
  switch (s) {
    case S::kInit:
      return "INIT";
    case S::kReady:
      return "READY";
    case S::kLockCreate:
      return "LOCK_CREATE";
    case S::kLockDelete:
      return "LOCK_DELETE";
    case S::kDone:
      return "DONE";
    case S::kError:
      return "ERROR";
    case S::kUpdateFailure:
      return "UPDATE_FAILURE";
  }
  return "?";
}

std::optional<NetworkState> parse_network_state(std::string_view name) {
  for (NetworkState s : kAllNetworkStates) {
    if (network_state_name(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view network_event_name(NetworkEvent e) {
  switch (e) {
    case E::kCreate:
      return "create";
    case E::kDelete:
      return "delete";
    case E::kFabricDone:
      return "fabric_done";
    case E::kFabricFailed:
      return "fabric_failed";
    case E::kLeasesChanged:
      return "leases_changed";
  }
  return "?";
}

std::string_view neutron_network_status(NetworkState s) {
  switch (s) {
    case S::kInit:
    case S::kLockCreate:
      return "BUILD";
    case S::kReady:
    case S::kUpdateFailure:  // it forwards packets; the DHCP server lags (OpenNebula's view)
      return "ACTIVE";
    case S::kLockDelete:
    case S::kDone:
      return "DOWN";
    case S::kError:
      return "ERROR";
  }
  return "ERROR";
}

// The kLeasesChanged rows say it: one place for the rule.
bool network_leases_allowed(NetworkState s) {
  return network_step(s, E::kLeasesChanged).has_value();
}

Result<NetworkStep> network_step(NetworkState from, NetworkEvent event) {
  for (const NetworkRow& row : kRows) {
    if (row.event != event || std::ranges::find(row.from, from) == row.from.end()) continue;
    if (row.to) return NetworkStep{*row.to, row.sends_job, row.forgets};
    Error error{ErrorCode::kInvalidState,
                "network is " + std::string(network_state_name(from)) + ": cannot " +
                    std::string(network_event_name(event)) + " (" + std::string(row.why) + ")",
                std::string(network_state_name(from)),
                {}};
    for (const NetworkRow& r : kRows) {
      if (r.to && std::ranges::find(r.from, from) != r.from.end()) {
        error.allowed_actions.emplace_back(network_event_name(r.event));
      }
    }
    return fail(std::move(error));
  }
  return fail(Error::internal("no network row for " + std::string(network_state_name(from)) +
                              " / " + std::string(network_event_name(event))));
}

}  // namespace corral::lifecycle
