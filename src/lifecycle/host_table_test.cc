// The host table: its invariants, and its rows against the peers' facts in
// ../shared/reference/hosts-migration.md (cited by line).
#include "lifecycle/host_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace corral::lifecycle {
namespace {

using H = HostState;
using E = HostEvent;

std::string key(HostState s, bool forced, HostEvent e) {
  return std::string(host_state_name(s)) + (forced ? "+forced_down" : "") + " / " +
         std::string(host_event_name(e));
}

TEST(HostTableTest, EveryStateAndEventHasExactlyOneRowOrOneRefusal) {
  for (HostState s : kAllHostStates) {
    for (bool forced : {false, true}) {
      for (HostEvent e : kAllHostEvents) {
        const HostRecord host{s, forced};
        int rows = 0;
        int refusals = 0;
        for (const HostTransition& t : host_transitions()) {
          const bool when = t.when == ForcedDown::kEither || (t.when == ForcedDown::kSet) == forced;
          if (t.event == e && t.from.contains(s) && when) ++rows;
        }
        for (const HostRefusal& r : host_refusals()) {
          const bool when = r.when == ForcedDown::kEither || (r.when == ForcedDown::kSet) == forced;
          if (r.event == e && r.from.contains(s) && when) ++refusals;
        }
        EXPECT_EQ(rows + refusals, 1) << key(s, forced, e);
        if (!is_operator_action(e)) {
          EXPECT_EQ(refusals, 0) << key(s, forced, e) << ": monitor events are never refused";
        }
        EXPECT_EQ(find_host_transition(host, e) != nullptr, rows == 1) << key(s, forced, e);
      }
    }
  }
}

TEST(HostTableTest, RowsAreWellFormed) {
  for (const HostTransition& t : host_transitions()) {
    SCOPED_TRACE(std::string(host_event_name(t.event)) + ": " + std::string(t.note));
    EXPECT_FALSE(t.from.empty());
    EXPECT_FALSE(t.note.empty());
    EXPECT_EQ(t.removes, t.event == E::kDelete) << "only delete forgets a host";
    if (t.vms == HostVmEffect::kRequireNone) {
      EXPECT_TRUE(t.removes);
    }
  }
  for (const HostRefusal& r : host_refusals()) {
    EXPECT_TRUE(is_operator_action(r.event));
    EXPECT_FALSE(r.reason.empty());
  }
}

// hosts-migration.md:11-14 (OpenNebula Host.h:37).
TEST(HostTableTest, StateColumnsFollowOpenNebula) {
  struct Case {
    HostState state;
    bool monitored, scheduler, manual;
  };
  const Case cases[] = {
      {H::kInit, true, true, true},        // :11 INIT, MONITORED | yes | manual and scheduler
      {H::kMonitored, true, true, true},   // :11
      {H::kDisabled, true, false, true},   // :12 DISABLED | yes | manual only
      {H::kOffline, false, false, false},  // :13 OFFLINE | no | none
      {H::kError, true, false, true},      // :14 ERROR | yes | none from the scheduler
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(host_state_name(c.state)));
    const HostStateInfo& info = host_state_info(c.state);
    EXPECT_EQ(info.state, c.state);
    EXPECT_EQ(info.monitored, c.monitored);
    EXPECT_EQ(info.scheduler_deploys, c.scheduler);
    EXPECT_EQ(info.manual_deploys, c.manual);
    EXPECT_EQ(takes_scheduler_deploys({c.state, false}), c.scheduler);
    EXPECT_EQ(takes_manual_deploys({c.state, false}), c.manual);
    // :43-44: a forced-down service is down and ComputeFilter rejects it.
    EXPECT_FALSE(takes_scheduler_deploys({c.state, true}));
    EXPECT_FALSE(takes_manual_deploys({c.state, true}));
  }
}

// hosts-migration.md:7 (Host.h:49): numbers and names, retired numbers not reused.
TEST(HostTableTest, NumbersAndNamesOfBothVocabularies) {
  const struct {
    HostState state;
    int number;
    const char* corral;
    const char* one;
  } cases[] = {{H::kInit, 0, "init", "INIT"},
               {H::kMonitored, 2, "monitored", "MONITORED"},
               {H::kError, 3, "error", "ERROR"},
               {H::kDisabled, 4, "disabled", "DISABLED"},
               {H::kOffline, 8, "offline", "OFFLINE"}};
  for (const auto& c : cases) {
    EXPECT_EQ(static_cast<int>(c.state), c.number);
    EXPECT_EQ(host_state_name(c.state), c.corral);
    EXPECT_EQ(host_state_opennebula_name(c.state), c.one);
    EXPECT_EQ(parse_host_state(c.corral), c.state);
    EXPECT_EQ(parse_host_state(c.one), c.state);
  }
  EXPECT_FALSE(parse_host_state("MONITORING_MONITORED").has_value());
  for (HostEvent e : kAllHostEvents) {
    EXPECT_EQ(parse_host_event(host_event_name(e)), e);
    if (!host_event_opennebula_name(e).empty()) {
      EXPECT_TRUE(is_operator_action(e));
    }
    if (!host_event_nova_name(e).empty()) {
      EXPECT_TRUE(is_operator_action(e));
    }
  }
  EXPECT_EQ(host_event_opennebula_name(E::kFlush), "flush");
  EXPECT_TRUE(host_event_opennebula_name(E::kForceDown).empty());  // ONE has no forced_down
  EXPECT_EQ(host_event_nova_name(E::kForceDown), "forced_down=true");
  EXPECT_TRUE(host_event_nova_name(E::kFlush).empty());
  EXPECT_EQ(static_cast<int>(E::kEnable), 1);
  EXPECT_EQ(static_cast<int>(E::kHeartbeatsMissed), 10);
}

struct StepCase {
  const char* cite;
  HostRecord from;
  HostEvent event;
  HostState to;
  bool forced_after;
  HostVmEffect vms;
};

TEST(HostTableTest, TransitionsFollowThePeers) {
  const StepCase cases[] = {
      // :16 disable/offline "do not change state of already running VMs".
      {":16 disable",
       {H::kMonitored, false},
       E::kDisable,
       H::kDisabled,
       false,
       HostVmEffect::kNone},
      {":16 offline", {H::kMonitored, false}, E::kOffline, H::kOffline, false, HostVmEffect::kNone},
      // :16 flush "disables the host and moves its VMs away".
      {":16 flush",
       {H::kMonitored, false},
       E::kFlush,
       H::kDisabled,
       false,
       HostVmEffect::kMoveAway},
      // :22-28 a silent host goes to ERROR; only RUNNING VMs become UNKNOWN.
      {":28 missed",
       {H::kMonitored, false},
       E::kHeartbeatsMissed,
       H::kError,
       false,
       HostVmEffect::kRunningToUnknown},
      {":28 missed init",
       {H::kInit, false},
       E::kHeartbeatsMissed,
       H::kError,
       false,
       HostVmEffect::kRunningToUnknown},
      {":12 disabled is monitored",
       {H::kDisabled, false},
       E::kHeartbeatsMissed,
       H::kDisabled,
       false,
       HostVmEffect::kRunningToUnknown},
      {":13 offline is not monitored",
       {H::kOffline, false},
       E::kHeartbeatsMissed,
       H::kOffline,
       false,
       HostVmEffect::kNone},
      {":13 offline ignores reports",
       {H::kOffline, false},
       E::kHeartbeat,
       H::kOffline,
       false,
       HostVmEffect::kNone},
      {"ERROR recovers",
       {H::kError, false},
       E::kHeartbeat,
       H::kMonitored,
       false,
       HostVmEffect::kNone},
      {"INIT first heard",
       {H::kInit, false},
       E::kAgentConnected,
       H::kMonitored,
       false,
       HostVmEffect::kNone},
      {"enable", {H::kDisabled, false}, E::kEnable, H::kInit, false, HostVmEffect::kNone},
      // :43 forced_down makes a service down; reports do not bring it up.
      {":43 force down",
       {H::kMonitored, false},
       E::kForceDown,
       H::kError,
       true,
       HostVmEffect::kRunningToUnknown},
      {":43 forced ignores heartbeat",
       {H::kError, true},
       E::kHeartbeat,
       H::kError,
       true,
       HostVmEffect::kNone},
      {":43 unset", {H::kError, true}, E::kUnforceDown, H::kInit, false, HostVmEffect::kNone},
      {":43 disabled forced",
       {H::kDisabled, false},
       E::kForceDown,
       H::kDisabled,
       true,
       HostVmEffect::kRunningToUnknown},
  };
  for (const StepCase& c : cases) {
    SCOPED_TRACE(c.cite);
    const Result<HostStep> step = apply_host_event(c.from, c.event, 3);
    ASSERT_TRUE(step.has_value()) << step.error().message;
    EXPECT_EQ(step->record.state, c.to);
    EXPECT_EQ(step->record.forced_down, c.forced_after);
    EXPECT_EQ(step->vms, c.vms);
    EXPECT_FALSE(step->removed);
  }
}

TEST(HostTableTest, DeleteOnlyWithoutVms) {
  for (HostState s : kAllHostStates) {
    const Result<HostStep> busy = apply_host_event({s, false}, E::kDelete, 1);
    ASSERT_FALSE(busy.has_value());
    EXPECT_EQ(busy.error().code, ErrorCode::kConflict);
    const Result<HostStep> empty = apply_host_event({s, false}, E::kDelete, 0);
    ASSERT_TRUE(empty.has_value());
    EXPECT_TRUE(empty->removed);
  }
}

TEST(HostTableTest, RefusalIsATypedWrongStateErrorListingAllowedActions) {
  const Result<HostStep> r = apply_host_event({H::kDisabled, false}, E::kDisable, 0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidState);
  EXPECT_EQ(r.error().state, "disabled");
  EXPECT_NE(r.error().message.find("already disabled"), std::string::npos) << r.error().message;
  const std::vector<std::string> expected = {"enable", "offline", "flush", "delete", "force_down"};
  EXPECT_EQ(r.error().allowed_actions, expected);

  const Result<HostStep> f = apply_host_event({H::kOffline, false}, E::kFlush, 2);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, ErrorCode::kInvalidState);

  // Every allowed action applies; every other operator action is refused.
  for (HostState s : kAllHostStates) {
    for (bool forced : {false, true}) {
      const HostRecord host{s, forced};
      const std::vector<HostEvent> allowed = allowed_host_actions(host);
      EXPECT_FALSE(allowed.empty()) << key(s, forced, E::kDelete);
      for (HostEvent e : kAllHostEvents) {
        if (!is_operator_action(e)) continue;
        const bool listed = std::find(allowed.begin(), allowed.end(), e) != allowed.end();
        EXPECT_EQ(apply_host_event(host, e, 0).has_value(), listed) << key(s, forced, e);
      }
    }
  }
}

// hosts-migration.md:41-44: up iff heard within service_down_time and not forced down;
// disabled with disabled_reason.
TEST(HostTableTest, NovaServiceView) {
  struct Case {
    HostRecord host;
    bool heard;
    const char* state;
    const char* status;
    const char* reason;
  };
  const Case cases[] = {
      {{H::kMonitored, false}, true, "up", "enabled", ""},
      {{H::kMonitored, false}, false, "down", "enabled", ""},  // :42 not heard: down
      {{H::kError, true}, true, "down", "enabled", ""},        // :43 forced down
      {{H::kInit, false}, false, "down", "enabled", ""},
      {{H::kDisabled, false}, true, "up", "disabled", "disabled by an operator"},
      {{H::kOffline, false}, true, "down", "disabled", "offline"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(key(c.host.state, c.host.forced_down, E::kHeartbeat));
    const NovaServiceView v = nova_service_view(c.host, c.heard);
    EXPECT_EQ(v.state, c.state);
    EXPECT_EQ(v.status, c.status);
    EXPECT_EQ(v.disabled_reason, c.reason);
    EXPECT_EQ(v.forced_down, c.host.forced_down);
  }
  EXPECT_EQ(nova_service_view({H::kDisabled, false}, true, "maintenance").disabled_reason,
            "maintenance");
}

}  // namespace
}  // namespace corral::lifecycle
