// The network table against OpenNebula's VirtualNetworkState (reference network-volumes.md
// §1: INIT 0, READY 1, LOCK_CREATE 2, LOCK_DELETE 3, DONE 4, ERROR 5, UPDATE_FAILURE 6) and
// Neutron's statuses (ACTIVE, BUILD, DOWN, ERROR).
#include "lifecycle/net_table.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace corral::lifecycle {
namespace {

using S = NetworkState;
using E = NetworkEvent;

TEST(NetTable, StatesKeepOpenNebulasNumbersAndNames) {
  struct Golden {
    S state;
    int number;
    const char* name;
    const char* neutron;
  };
  const Golden golden[] = {
      {S::kInit, 0, "INIT", "BUILD"},
      {S::kReady, 1, "READY", "ACTIVE"},
      {S::kLockCreate, 2, "LOCK_CREATE", "BUILD"},
      {S::kLockDelete, 3, "LOCK_DELETE", "DOWN"},
      {S::kDone, 4, "DONE", "DOWN"},
      {S::kError, 5, "ERROR", "ERROR"},
      {S::kUpdateFailure, 6, "UPDATE_FAILURE", "ACTIVE"},
  };
  ASSERT_EQ(std::size(golden), std::size(kAllNetworkStates));
  for (const Golden& g : golden) {
    EXPECT_EQ(static_cast<int>(g.state), g.number);
    EXPECT_EQ(network_state_name(g.state), g.name);
    EXPECT_EQ(parse_network_state(g.name), g.state);
    EXPECT_EQ(neutron_network_status(g.state), g.neutron) << g.name;
  }
}

// Every (state, event) has exactly one row: the table is total and never ambiguous.
TEST(NetTable, EveryStateAndEventHasExactlyOneRow) {
  for (S s : kAllNetworkStates) {
    for (E e : kAllNetworkEvents) {
      int rows = 0;
      for (const NetworkRow& r : network_table()) {
        if (r.event == e && std::ranges::find(r.from, s) != r.from.end()) ++rows;
      }
      EXPECT_EQ(rows, 1) << network_state_name(s) << " / " << network_event_name(e);
    }
  }
}

// The paths OpenNebula's vnet takes, and Corral's rule that a later success heals a failure.
TEST(NetTable, CreateDeleteAndFailuresGoWhereOpenNebulaGoes) {
  struct Case {
    S from;
    E event;
    std::optional<S> to;
    bool sends_job;
    bool forgets;
  };
  const Case cases[] = {
      {S::kInit, E::kCreate, S::kLockCreate, true, false},
      {S::kLockCreate, E::kFabricDone, S::kReady, false, false},
      {S::kLockCreate, E::kFabricFailed, S::kError, false, false},
      {S::kReady, E::kLeasesChanged, S::kReady, true, false},
      {S::kReady, E::kFabricFailed, S::kUpdateFailure, false, false},
      {S::kUpdateFailure, E::kFabricDone, S::kReady, false, false},
      {S::kError, E::kFabricDone, S::kReady, false, false},
      {S::kReady, E::kDelete, S::kLockDelete, true, false},
      {S::kError, E::kDelete, S::kLockDelete, true, false},
      {S::kLockDelete, E::kFabricDone, S::kDone, false, true},
      {S::kLockDelete, E::kFabricFailed, S::kError, false, false},
      {S::kReady, E::kCreate, std::nullopt, false, false},
      {S::kLockCreate, E::kLeasesChanged, std::nullopt, false, false},
      {S::kError, E::kLeasesChanged, std::nullopt, false, false},
  };
  for (const Case& c : cases) {
    Result<NetworkStep> step = network_step(c.from, c.event);
    ASSERT_EQ(step.has_value(), c.to.has_value())
        << network_state_name(c.from) << " / " << network_event_name(c.event);
    if (!step) {
      EXPECT_EQ(step.error().code, ErrorCode::kInvalidState);
      EXPECT_EQ(step.error().state, network_state_name(c.from));
      EXPECT_FALSE(step.error().allowed_actions.empty());
      continue;
    }
    EXPECT_EQ(step->to, *c.to) << network_state_name(c.from) << " / "
                               << network_event_name(c.event);
    EXPECT_EQ(step->sends_job, c.sends_job);
    EXPECT_EQ(step->forgets, c.forgets);
  }
  EXPECT_TRUE(network_leases_allowed(S::kReady));
  EXPECT_TRUE(network_leases_allowed(S::kUpdateFailure));
  for (S s : {S::kInit, S::kLockCreate, S::kLockDelete, S::kDone, S::kError}) {
    EXPECT_FALSE(network_leases_allowed(s)) << network_state_name(s);
  }
}

}  // namespace
}  // namespace corral::lifecycle
