// Billing tables and usage over time: which billing class a VM is in, in each vocabulary that
// publishes one, and how many hours (and vCPU-, memory- and disk-hours) it spent in each class.
//
// Contract: pure (no I/O, no clock: the caller passes `now`). A billing table maps one view of
// a VmRecord (views.h) to a Billing class, as rows of data: every value of the table's key
// enum has exactly one row (checked at compile time and by billing_test.cc). Sources:
//   azure-2021          seed 000, "Power State" table, Billing column (billing_of, views.h)
//   azure-current       ../shared/reference/tenancy-billing.md §3, "Azure per power state"
//                       (Microsoft's states-billing.md, ms.date 10/31/2023)
//   opennebula-showback tenancy-billing.md §3, "OpenNebula showback", SHOWBACK_ONLY_RUNNING=no
// BillingTable numbers are stable: they are persisted and configured.
//
// compute_usage() works in integer milliseconds and divides once at the end, so a scripted
// timeline gives exactly the hand-computed figures.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/clock.h"
#include "lifecycle/model.h"
#include "lifecycle/views.h"

namespace corral::lifecycle {

// ---- Tables ---------------------------------------------------------------------------------

enum class BillingTable : std::uint8_t {
  kAzureSeed000 = 0,        // "azure-2021"
  kAzureCurrent = 1,        // "azure-current"
  kOpenNebulaShowback = 2,  // "opennebula-showback"
};
inline constexpr BillingTable kDefaultBillingTable = BillingTable::kAzureSeed000;
extern const std::array<BillingTable, 3> kAllBillingTables;

std::string_view billing_table_name(BillingTable table);                 // "azure-current"
std::optional<BillingTable> parse_billing_table(std::string_view name);  // case-insensitive

struct AzureBillingRow {
  AzurePower power = AzurePower::kNone;
  Billing billing = Billing::kNotBilled;
};

struct OpenNebulaBillingRow {
  OneState state = OneState::kInit;
  Billing billing = Billing::kNotBilled;
};

// A table keyed by Azure's power state (azure_view(record).power).
struct AzureBillingTable {
  std::span<const AzureBillingRow> by_power;  // one row per AzurePower, kNone included
  // The 2023 page lists "Creating" as a power state of its own (not billed); seed 000 and the
  // Azure view show a VM being created as Starting under ProvisioningState/creating. When set,
  // a record whose provisioning state is Creating is in this class, whatever its power row
  // says. nullopt: the table has no such row (seed 000: the Starting row applies).
  std::optional<Billing> while_creating;
};

// The table's rows when it is keyed by Azure's power state, else nullopt.
std::optional<AzureBillingTable> azure_billing_table(BillingTable table);
// The table's rows when it is keyed by OpenNebula's STATE (opennebula_view(record).state, one
// row per OneState), else empty.
std::span<const OpenNebulaBillingRow> opennebula_billing_rows(BillingTable table);

// The billing class of a VM whose record is `record`, by `table`. A DONE record is not billed
// in any table (compute_usage also never accrues time in DONE).
Billing billing_class(BillingTable table, const VmRecord& record);

// ---- Usage over time ------------------------------------------------------------------------

// One observation of a VM: from `at` on it was `record` with these resources, until the next
// point's `at` (or the end of the computation). The VM's DONE time is the point whose record
// state is kDone.
struct UsagePoint {
  Millis at = 0;
  VmRecord record;
  int vcpus = 0;
  std::int64_t memory_mib = 0;
  std::int64_t disk_mib = 0;
};

// Hours in one billing class, and the resources integrated over those hours. Disk accrues
// like vCPUs and memory, per class: in the Azure tables "not billed" still means disks and
// networking keep charging, in OpenNebula an UNDEPLOYED VM's disk costs nothing. Which of
// the classes' disk figures to show or charge is the caller's decision.
struct ClassUsage {
  double hours = 0;
  double vcpu_hours = 0;
  double memory_mib_hours = 0;
  double disk_mib_hours = 0;

  ClassUsage& operator+=(const ClassUsage& other);
  friend bool operator==(const ClassUsage&, const ClassUsage&) = default;
};

struct VmUsage {
  std::array<ClassUsage, 3> by_class{};  // indexed by Billing
  // Inside the window, from the first point to DONE, whatever the state (Nova's "hours": it
  // ignores stop and pause).
  double existed_hours = 0;
  Millis started_at = 0;           // the first point's `at` (Nova started_at); 0 without points
  std::optional<Millis> ended_at;  // the first DONE point's `at`, if it is not after `now`
  // The resources of the last segment that accrued time inside the window (Nova reports the
  // latest flavor); 0 when none did.
  int vcpus = 0;
  std::int64_t memory_mib = 0;
  std::int64_t disk_mib = 0;

  const ClassUsage& of(Billing billing) const {
    return by_class[static_cast<std::size_t>(billing)];
  }
};

// Usage of one VM in the window [from, to), clipped to now: each point's segment
// [point.at, next.at) — the last one's [point.at, min(to, now)) — counts where it overlaps
// [from, min(to, now)). Segments in DONE count nothing.
//
// `points` must be sorted by `at`. Points with equal `at` make zero-length segments, so the
// later one wins; an out-of-order point's (negative) segment counts nothing.
// Each resource times milliseconds must fit in int64 (10 TiB of disk: about 27 years).
VmUsage compute_usage(BillingTable table, std::span<const UsagePoint> points, Millis from,
                      Millis to, Millis now);

// A project's totals: the sum of its VMs' usages over one window.
struct UsageTotals {
  std::array<ClassUsage, 3> by_class{};  // indexed by Billing
  double existed_hours = 0;
  int vms = 0;  // how many VmUsage's were added

  UsageTotals& operator+=(const VmUsage& vm);
  const ClassUsage& of(Billing billing) const {
    return by_class[static_cast<std::size_t>(billing)];
  }
};

}  // namespace corral::lifecycle
