// The network lifecycle as data: OpenNebula's VirtualNetworkState (include/VirtualNetwork.h:75,
// reference network-volumes.md §1) with its numbers, Neutron's network status derived from it,
// and one row per (state, event) saying where a network goes.
//
// Invariants (net_table_test.cc): every (state, event) has exactly one row; a refusal names
// the state and the events allowed there. Pure: no I/O; whether the fabric succeeded, and
// whether NICs still hold leases, are inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/result.h"

namespace corral::lifecycle {

// Persisted (networks.state): OpenNebula's numbers, never renumbered.
enum class NetworkState : std::uint8_t {
  kInit = 0,
  kReady = 1,
  kLockCreate = 2,  // the fabric is building it
  kLockDelete = 3,  // the fabric is removing it
  kDone = 4,        // removed (Corral forgets the row)
  kError = 5,
  kUpdateFailure = 6,  // "Network Update failed for some VM leases"
};
inline constexpr NetworkState kAllNetworkStates[] = {
    NetworkState::kInit,         NetworkState::kReady, NetworkState::kLockCreate,
    NetworkState::kLockDelete,   NetworkState::kDone,  NetworkState::kError,
    NetworkState::kUpdateFailure};

enum class NetworkEvent : std::uint8_t {
  kCreate = 1,         // a user asked; the fabric gets the network
  kDelete = 2,         // a user asked (refused while NICs hold leases: the engine checks)
  kFabricDone = 3,     // the fabric made the network as the last job said
  kFabricFailed = 4,   // ... and could not
  kLeasesChanged = 5,  // a NIC came or went: the fabric gets the new leases
};
inline constexpr NetworkEvent kAllNetworkEvents[] = {
    NetworkEvent::kCreate, NetworkEvent::kDelete, NetworkEvent::kFabricDone,
    NetworkEvent::kFabricFailed, NetworkEvent::kLeasesChanged};

// OpenNebula's STATE_STR ("READY", "LOCK_CREATE", ...).
std::string_view network_state_name(NetworkState s);
std::optional<NetworkState> parse_network_state(std::string_view name);
std::string_view network_event_name(NetworkEvent e);
// Neutron's network status (neutron_lib/constants.py): ACTIVE, BUILD, DOWN or ERROR.
std::string_view neutron_network_status(NetworkState s);
// Whether NICs may take addresses on a network in this state: once built, and while the
// fabric lags behind its leases (they are still true, the DHCP server is behind).
bool network_leases_allowed(NetworkState s);

struct NetworkRow {
  NetworkEvent event;
  std::initializer_list<NetworkState> from;
  std::optional<NetworkState> to;  // nullopt: refused
  bool sends_job;                  // the fabric gets the network's state after the commit
  bool forgets;                    // the row is deleted (DONE)
  std::string_view why;
};

std::span<const NetworkRow> network_table();

struct NetworkStep {
  NetworkState to;
  bool sends_job;
  bool forgets;
};
// The row for (state, event). Refused: kInvalidState naming the state and the events allowed
// from it.
[[nodiscard]] Result<NetworkStep> network_step(NetworkState from, NetworkEvent event);

}  // namespace corral::lifecycle
