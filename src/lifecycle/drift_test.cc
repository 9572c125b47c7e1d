// The drift policies: every rule is something the transition table allows, and the cases the
// reference describes (../shared/reference/nova.md "Periodic power sync", opennebula.md
// "UNKNOWN") come out as those systems do.
#include "lifecycle/drift.h"

#include <gtest/gtest.h>

namespace corral::lifecycle {
namespace {

using S = State;
using O = Observation;
using A = Action;

VmRecord at(State s, Power p) {
  VmRecord r = record_at_rest(s);
  r.power = p;
  return r;
}

constexpr DriftOptions kOne{DriftPolicy::kOpenNebula, S::kUnknown};
constexpr DriftOptions kOneMissingOff{DriftPolicy::kOpenNebula, S::kPoweroff};
constexpr DriftOptions kNova{DriftPolicy::kNova, S::kUnknown};

TEST(Drift, EveryRuleIsAllowedByTheTableFromEachOfItsStates) {
  for (const DriftRule& rule : drift_rules()) {
    for (State s : kAllStates) {
      if (!rule.from.contains(s)) continue;
      for (const DriftOptions& options : {kOne, kOneMissingOff, kNova}) {
        if (options.policy != rule.policy) continue;
        // A power that differs from what is seen, so the rule has something to record.
        const VmRecord record =
            at(s, rule.seen == O::kRunning ? Power::kShutdown : Power::kRunning);
        const std::optional<DriftStep> step = react(options, record, rule.seen);
        if (!step) continue;  // e.g. UNKNOWN seen vanished: nothing new to say
        SCOPED_TRACE(std::string(drift_policy_name(rule.policy)) + " " +
                     std::string(observation_name(rule.seen)) + " from " +
                     std::string(state_name(s)));
        Result<Step> observed = begin(record, {step->observed});
        ASSERT_TRUE(observed.has_value()) << observed.error().message;
        EXPECT_FALSE(observed->record.busy());
        if (step->then) {
          EXPECT_TRUE(allowed(observed->record, *step->then)) << action_name(*step->then);
        }
        EXPECT_FALSE(step->why.empty());
      }
    }
  }
}

struct Case {
  const char* source;  // where the expected behaviour is described
  DriftOptions options;
  State state;
  Power power;
  Observation seen;
  Action observed;
  std::optional<Action> then;
  State after;  // the state once the observed action (not `then`) is applied
  Power power_after;
};

TEST(Drift, ThePoliciesBehaveAsTheirSystems) {
  const Case cases[] = {
      {"nova.md: active and SHUTDOWN -> stop()", kNova, S::kRunning, Power::kRunning,
       O::kGuestPoweroff, A::kObservedPoweroff, std::nullopt, S::kPoweroff, Power::kShutdown},
      {"nova.md: paused and SHUTDOWN -> force_stop()", kNova, S::kPaused, Power::kPaused,
       O::kGuestPoweroff, A::kObservedPoweroff, std::nullopt, S::kPoweroff, Power::kShutdown},
      {"nova.md: active and NOSTATE -> only a warning", kNova, S::kRunning, Power::kRunning,
       O::kVanished, A::kObservedPower, std::nullopt, S::kRunning, Power::kNoState},
      {"nova.md: active and PAUSED -> ignored (bug 1097806)", kNova, S::kRunning, Power::kRunning,
       O::kPaused, A::kObservedPower, std::nullopt, S::kRunning, Power::kPaused},
      {"nova.md: stopped and running -> force_stop()", kNova, S::kPoweroff, Power::kShutdown,
       O::kRunning, A::kObservedRunning, A::kShutdownHard, S::kRunning, Power::kRunning},
      {"nova.md: stopped and paused -> force_stop()", kNova, S::kPoweroff, Power::kShutdown,
       O::kPaused, A::kObservedRunning, A::kShutdownHard, S::kRunning, Power::kPaused},
      {"opennebula.md: missing VM -> MISSING_STATE (here UNKNOWN)", kOne, S::kRunning,
       Power::kRunning, O::kVanished, A::kObservedLost, std::nullopt, S::kUnknown, Power::kNoState},
      {"opennebula.md: missing VM -> MISSING_STATE POWEROFF", kOneMissingOff, S::kRunning,
       Power::kRunning, O::kVanished, A::kObservedPoweroff, std::nullopt, S::kPoweroff,
       Power::kNoState},
      {"opennebula.md: RUNNING/UNKNOWN -> POWEROFF when missing", kOneMissingOff, S::kUnknown,
       Power::kNoState, O::kVanished, A::kObservedPoweroff, std::nullopt, S::kPoweroff,
       Power::kNoState},
      {"opennebula.md: host cannot report -> UNKNOWN", kOne, S::kRunning, Power::kRunning,
       O::kUnresponsive, A::kObservedLost, std::nullopt, S::kUnknown, Power::kNoState},
      {"opennebula.md: probe reports RUNNING moves POWEROFF to RUNNING", kOne, S::kPoweroff,
       Power::kShutdown, O::kRunning, A::kObservedRunning, std::nullopt, S::kRunning,
       Power::kRunning},
      {"opennebula.md: probe reports RUNNING moves UNKNOWN to RUNNING", kOne, S::kUnknown,
       Power::kNoState, O::kRunning, A::kObservedRunning, std::nullopt, S::kRunning,
       Power::kRunning},
      {"opennebula.md:57: probe reports RUNNING moves SUSPENDED to RUNNING", kOne, S::kSuspended,
       Power::kShutdown, O::kRunning, A::kObservedRunning, std::nullopt, S::kRunning,
       Power::kRunning},
      {"opennebula.md:54: only RUNNING VMs become UNKNOWN: PAUSED keeps its state", kOne,
       S::kPaused, Power::kPaused, O::kUnresponsive, A::kObservedPower, std::nullopt, S::kPaused,
       Power::kNoState},
      {"opennebula.md:56: MISSING_STATE moves RUNNING/UNKNOWN only: PAUSED keeps its state", kOne,
       S::kPaused, Power::kPaused, O::kVanished, A::kObservedPower, std::nullopt, S::kPaused,
       Power::kNoState},
      {"opennebula.md:56: ... with MISSING_STATE=POWEROFF too", kOneMissingOff, S::kPaused,
       Power::kPaused, O::kVanished, A::kObservedPower, std::nullopt, S::kPaused, Power::kNoState},
      {"seed 002: the guest's own poweroff shows as off", kOne, S::kRunning, Power::kRunning,
       O::kGuestPoweroff, A::kObservedPoweroff, std::nullopt, S::kPoweroff, Power::kShutdown},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.source);
    const VmRecord record = at(c.state, c.power);
    const std::optional<DriftStep> step = react(c.options, record, c.seen);
    ASSERT_TRUE(step.has_value());
    EXPECT_EQ(step->observed, c.observed) << action_name(step->observed);
    EXPECT_EQ(step->then, c.then);
    EXPECT_EQ(step->power, c.power_after);
    Result<Step> applied = begin(record, {step->observed});
    ASSERT_TRUE(applied.has_value()) << applied.error().message;
    EXPECT_EQ(applied->record.state, c.after);
  }
}

TEST(Drift, NothingToRecordWhenTheVmAlreadySaysItOrIsBusy) {
  // Power already what is seen: no history row for every monitor tick.
  EXPECT_FALSE(react(kNova, at(S::kRunning, Power::kNoState), O::kVanished).has_value());
  EXPECT_FALSE(react(kOne, at(S::kUnknown, Power::kNoState), O::kVanished).has_value());
  EXPECT_FALSE(react(kOne, at(S::kRunning, Power::kRunning), O::kRunning).has_value());
  // An operation in flight decides its VM's state, never the monitor.
  VmRecord busy = at(S::kRunning, Power::kRunning);
  busy = begin(busy, {A::kShutdown})->record;
  ASSERT_TRUE(busy.busy());
  for (const DriftOptions& options : {kOne, kNova}) {
    for (O seen : {O::kGuestPoweroff, O::kVanished, O::kUnresponsive, O::kRunning, O::kPaused}) {
      EXPECT_FALSE(react(options, busy, seen).has_value()) << observation_name(seen);
    }
  }
}

TEST(Drift, PolicyNames) {
  EXPECT_EQ(parse_drift_policy("nova"), DriftPolicy::kNova);
  EXPECT_EQ(parse_drift_policy("opennebula"), DriftPolicy::kOpenNebula);
  EXPECT_FALSE(parse_drift_policy("vmware").has_value());
}

}  // namespace
}  // namespace corral::lifecycle
