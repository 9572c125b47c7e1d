#include "wire/enums.h"

#include <algorithm>

namespace corral::wire {

namespace {

template <typename Enum, typename Range>
std::optional<Enum> find_number(const Range& all, int number) {
  auto it = std::ranges::find_if(all, [&](Enum e) { return static_cast<int>(e) == number; });
  if (it == std::ranges::end(all)) return std::nullopt;
  return *it;
}

// The lifecycle has no kAll* list for these small enums; the switches without `default` in
// lifecycle's name functions are what a new value must pass, and enums_test.cc checks these
// lists against them.
constexpr lifecycle::Power kPowers[] = {lifecycle::Power::kNoState, lifecycle::Power::kRunning,
                                        lifecycle::Power::kPaused,  lifecycle::Power::kShutdown,
                                        lifecycle::Power::kCrashed, lifecycle::Power::kSuspended};
constexpr lifecycle::Integrity kIntegrities[] = {lifecycle::Integrity::kUnknown,
                                                 lifecycle::Integrity::kIntact};
constexpr lifecycle::Observation kObservations[] = {
    lifecycle::Observation::kGuestPoweroff, lifecycle::Observation::kVanished,
    lifecycle::Observation::kUnresponsive, lifecycle::Observation::kRunning,
    lifecycle::Observation::kPaused};
constexpr lifecycle::RunsOn kRunsOn[] = {lifecycle::RunsOn::kHost, lifecycle::RunsOn::kSource,
                                         lifecycle::RunsOn::kTarget};

}  // namespace

std::optional<lifecycle::State> from_wire(v1::State v) {
  return find_number<lifecycle::State>(lifecycle::kAllStates, v);
}
std::optional<lifecycle::Action> from_wire(v1::Action v) {
  return find_number<lifecycle::Action>(lifecycle::kAllActions, v);
}
std::optional<lifecycle::Phase> from_wire(v1::Phase v) {
  return find_number<lifecycle::Phase>(lifecycle::kAllPhases, v);
}
std::optional<lifecycle::Power> from_wire(v1::Power v) {
  return find_number<lifecycle::Power>(kPowers, v);
}
std::optional<lifecycle::Integrity> from_wire(v1::Integrity v) {
  return find_number<lifecycle::Integrity>(kIntegrities, v);
}
std::optional<lifecycle::Observation> from_wire(v1::Observation v) {
  return find_number<lifecycle::Observation>(kObservations, v);
}
std::optional<lifecycle::RunsOn> from_wire(v1::RunsOn v) {
  return find_number<lifecycle::RunsOn>(kRunsOn, v);
}

}  // namespace corral::wire
