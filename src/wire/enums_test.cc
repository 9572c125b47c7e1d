// The wire enums carry the lifecycle's stable numbers: every lifecycle value has a proto value
// of the same number and the same name, and every proto value is a lifecycle value or one of
// the few proto-only values listed here. A renumbering on either side fails this test.
#include "wire/enums.h"

#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <set>
#include <string>

namespace corral::wire {
namespace {

namespace lc = corral::lifecycle;
namespace pb = google::protobuf;

std::string upper(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

struct EnumCase {
  const char* what;
  const pb::EnumDescriptor* proto;
  std::string prefix;
  // The lifecycle's name of number n, or "?" when the lifecycle has no such value.
  std::function<std::string(int)> lifecycle_name;
  // Whether from_wire() takes number n back into the lifecycle enum.
  std::function<bool(int)> converts;
  std::set<std::string> proto_only;
};

std::vector<EnumCase> cases() {
  // The name functions switch without `default` and answer "?" for a number they lack.
  return {
      {"State",
       v1::State_descriptor(),
       "STATE_",
       [](int n) { return std::string(lc::state_name(static_cast<lc::State>(n))); },
       [](int n) { return from_wire(static_cast<v1::State>(n)).has_value(); },
       {}},
      {"Action",
       v1::Action_descriptor(),
       "ACTION_",
       [](int n) { return std::string(lc::action_name(static_cast<lc::Action>(n))); },
       [](int n) { return from_wire(static_cast<v1::Action>(n)).has_value(); },
       {"ACTION_UNSPECIFIED"}},
      {"Phase",
       v1::Phase_descriptor(),
       "PHASE_",
       [](int n) { return std::string(lc::phase_name(static_cast<lc::Phase>(n))); },
       [](int n) { return from_wire(static_cast<v1::Phase>(n)).has_value(); },
       {}},
      {"Power",
       v1::Power_descriptor(),
       "POWER_",
       [](int n) {
         const std::string name(lc::power_name(static_cast<lc::Power>(n)));
         return name == "nostate" ? std::string("no_state") : name;  // Nova spells it NOSTATE
       },
       [](int n) { return from_wire(static_cast<v1::Power>(n)).has_value(); },
       {}},
      {"Integrity",
       v1::Integrity_descriptor(),
       "INTEGRITY_",
       [](int n) {
         switch (static_cast<lc::Integrity>(n)) {
           case lc::Integrity::kUnknown:
             return std::string("unknown");
           case lc::Integrity::kIntact:
             return std::string("intact");
         }
         return std::string("?");
       },
       [](int n) { return from_wire(static_cast<v1::Integrity>(n)).has_value(); },
       {}},
      {"Observation",
       v1::Observation_descriptor(),
       "OBSERVATION_",
       [](int n) { return std::string(lc::observation_name(static_cast<lc::Observation>(n))); },
       [](int n) { return from_wire(static_cast<v1::Observation>(n)).has_value(); },
       {"OBSERVATION_UNSPECIFIED", "OBSERVATION_GUEST_READY"}},
  };
}

TEST(WireEnums, EveryLifecycleValueHasTheProtoValueOfTheSameNumberAndName) {
  for (const EnumCase& c : cases()) {
    int lifecycle_values = 0;
    for (int n = 0; n < 256; ++n) {
      const std::string name = c.lifecycle_name(n);
      if (name == "?") continue;
      ++lifecycle_values;
      const pb::EnumValueDescriptor* value = c.proto->FindValueByNumber(n);
      ASSERT_NE(value, nullptr) << c.what << " " << name << " (" << n << ") has no proto value";
      EXPECT_EQ(value->name(), c.prefix + upper(name)) << c.what << " number " << n;
      EXPECT_TRUE(c.converts(n)) << c.what << " " << name << " does not come back from the wire";
    }
    EXPECT_GT(lifecycle_values, 1) << c.what;
  }
}

TEST(WireEnums, EveryProtoValueIsALifecycleValueOrADocumentedProtoOnlyValue) {
  for (const EnumCase& c : cases()) {
    for (int i = 0; i < c.proto->value_count(); ++i) {
      const pb::EnumValueDescriptor* value = c.proto->value(i);
      if (c.proto_only.contains(value->name())) {
        EXPECT_FALSE(c.converts(value->number())) << value->name();
        continue;
      }
      EXPECT_NE(c.lifecycle_name(value->number()), "?")
          << value->name() << " (" << value->number() << ") is not a lifecycle value";
    }
  }
}

TEST(WireEnums, ToWireKeepsTheNumber) {
  for (lc::State s : lc::kAllStates) EXPECT_EQ(static_cast<int>(to_wire(s)), static_cast<int>(s));
  for (lc::Action a : lc::kAllActions) EXPECT_EQ(from_wire(to_wire(a)), a);
  for (lc::Phase p : lc::kAllPhases) EXPECT_EQ(from_wire(to_wire(p)), p);
  EXPECT_EQ(from_wire(to_wire(lc::Power::kSuspended)), lc::Power::kSuspended);
  EXPECT_EQ(from_wire(to_wire(lc::Observation::kPaused)), lc::Observation::kPaused);
}

// RunsOn's names differ on purpose (the proto's 0 is UNSPECIFIED, the lifecycle's kHost: a
// phase on the VM's one host), so its numbers are pinned here one by one.
TEST(WireEnums, RunsOnKeepsTheSideOfAMove) {
  EXPECT_EQ(to_wire(lc::RunsOn::kHost), v1::RUNS_ON_UNSPECIFIED);
  EXPECT_EQ(to_wire(lc::RunsOn::kSource), v1::RUNS_ON_SOURCE);
  EXPECT_EQ(to_wire(lc::RunsOn::kTarget), v1::RUNS_ON_TARGET);
  for (lc::RunsOn r : {lc::RunsOn::kHost, lc::RunsOn::kSource, lc::RunsOn::kTarget}) {
    EXPECT_EQ(from_wire(to_wire(r)), r);
  }
  EXPECT_EQ(from_wire(static_cast<v1::RunsOn>(3)), std::nullopt);
}

TEST(WireEnums, UnknownNumbersFromANewerPeerAreRejected) {
  EXPECT_EQ(from_wire(static_cast<v1::Action>(200)), std::nullopt);
  EXPECT_EQ(from_wire(static_cast<v1::Power>(2)), std::nullopt);  // a gap in Nova's numbers
  EXPECT_EQ(from_wire(v1::OBSERVATION_GUEST_READY), std::nullopt);
}

}  // namespace
}  // namespace corral::wire
