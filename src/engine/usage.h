// Usage and billing from the history (issue 14): every second of a VM's life, attributed to
// a billing class by its record at that moment (lifecycle/billing.h), with vCPU- and
// memory-hours at the size it had then.
//
// Contract: computed from the committed history only — each entry carries the VM's record
// and size after it (store::TransitionRow::after) — so the figures are exact after any crash
// and the same whichever billing table is asked for. Entries written before migration 10
// carry neither: they count as the VM at rest in the entry's state, at its size now.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "lifecycle/billing.h"
#include "store/types.h"

namespace corral::engine {

// The points of one VM's life, oldest first (what lifecycle::compute_usage takes).
std::vector<lifecycle::UsagePoint> usage_points(const store::Vm& vm,
                                                std::span<const store::TransitionRow> history);

struct VmUsageReport {
  store::Vm vm;  // as it is now
  lifecycle::VmUsage usage;
};

struct UsageQuery {
  std::optional<store::ProjectId> project;  // empty: every project
  lifecycle::BillingTable table = lifecycle::kDefaultBillingTable;
  Millis from = 0;
  Millis to = 0;  // capped at now
};

}  // namespace corral::engine
