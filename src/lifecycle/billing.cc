// The billing tables as rows, and usage integrated over a VM's timeline.
#include "lifecycle/billing.h"

#include <algorithm>
#include <cctype>
#include <cstddef>

namespace corral::lifecycle {
namespace {

using AP = AzurePower;
using OS = OneState;
using B = Billing;

// by_class is indexed by Billing.
static_assert(static_cast<std::size_t>(B::kNotBilled) == 0);
static_assert(static_cast<std::size_t>(B::kBilledHardwareAndSoftware) == 1);
static_assert(static_cast<std::size_t>(B::kBilledHardwareOnly) == 2);

// ---- Key coverage, checked when the tables compile ----
// Each is a switch without default over a key enum: a new enumerator fails the build here
// (-Werror=switch), and then the static_asserts below until every table keyed by it has a row.

constexpr bool is_azure_power(AP power) {
  switch (power) {
    case AP::kNone:
    case AP::kStarting:
    case AP::kRunning:
    case AP::kStopping:
    case AP::kStopped:
    case AP::kDeallocating:
    case AP::kDeallocated:
    case AP::kUnknown:
      return true;
  }
  return false;
}

constexpr bool is_one_state(OS state) {
  switch (state) {
    case OS::kInit:
    case OS::kPending:
    case OS::kHold:
    case OS::kActive:
    case OS::kStopped:
    case OS::kSuspended:
    case OS::kDone:
    case OS::kPoweroff:
    case OS::kUndeployed:
    case OS::kCloning:
    case OS::kCloningFailure:
      return true;
  }
  return false;
}

// Every enumerator of the (uint8_t-based) key has exactly one row, and every row's key is an
// enumerator.
template <typename Key, typename Row, std::size_t N, typename KeyOf>
constexpr bool one_row_per_key(const std::array<Row, N>& rows, bool (*is_key)(Key), KeyOf key_of) {
  for (int i = 0; i <= 255; ++i) {
    const auto key = static_cast<Key>(i);
    const auto count =
        std::count_if(rows.begin(), rows.end(), [&](const Row& row) { return key_of(row) == key; });
    if (count != (is_key(key) ? 1 : 0)) return false;
  }
  return true;
}

// ---- azure-current: tenancy-billing.md §3, "Azure per power state" (2023) ----
// "Creating" has no AzurePower of its own: AzureBillingTable::while_creating below.
constexpr std::array<AzureBillingRow, 8> kAzureCurrentRows = {{
    {AP::kNone, B::kNotBilled},  // no VM (deleted): nothing runs, nothing is held
    {AP::kStarting, B::kBilledHardwareAndSoftware},
    {AP::kRunning, B::kBilledHardwareAndSoftware},
    {AP::kStopping, B::kBilledHardwareAndSoftware},
    {AP::kStopped, B::kBilledHardwareAndSoftware},  // "Stopped (allocated ...) | Billed"
    {AP::kDeallocating, B::kNotBilled},             // "Not billed*": disks, networking keep
    {AP::kDeallocated, B::kNotBilled},              // charging (ClassUsage: caller decides)
    // Not on the page. The VM still holds its host (the hardware is reserved, as when
    // stopped), but nothing says the guest runs: charge the hardware, not the software.
    {AP::kUnknown, B::kBilledHardwareOnly},
}};
constexpr Billing kAzureCurrentCreating = B::kNotBilled;  // "Creating | Not billed*"

// ---- opennebula-showback: tenancy-billing.md §3, "OpenNebula showback / accounting" ----
// SHOWBACK_ONLY_RUNNING=no (the default) charges CPU and memory over the whole host stay
// (history STIME..ETIME), "reserved ... e.g. VM states POWEROFF or SUSPENDED"; stop/undeploy
// epilog success closes the record (ETIME), so STOPPED and UNDEPLOYED VMs cost nothing. A VM
// is charged exactly in the STATEs in which it holds a host.
constexpr std::array<OpenNebulaBillingRow, 11> kOpenNebulaShowbackRows = {{
    {OS::kInit, B::kNotBilled},
    {OS::kPending, B::kNotBilled},  // waiting for a host: no history record open
    {OS::kHold, B::kNotBilled},
    {OS::kActive, B::kBilledHardwareAndSoftware},  // every LCM state, failures included
    {OS::kStopped, B::kNotBilled},                 // epilog success set ETIME
    {OS::kSuspended, B::kBilledHardwareAndSoftware},
    {OS::kDone, B::kNotBilled},
    {OS::kPoweroff, B::kBilledHardwareAndSoftware},
    {OS::kUndeployed, B::kNotBilled},  // epilog success set ETIME
    {OS::kCloning, B::kNotBilled},
    {OS::kCloningFailure, B::kNotBilled},
}};

static_assert(one_row_per_key(kAzureCurrentRows, is_azure_power,
                              [](const AzureBillingRow& r) { return r.power; }));
static_assert(one_row_per_key(kOpenNebulaShowbackRows, is_one_state,
                              [](const OpenNebulaBillingRow& r) { return r.state; }));

// ---- azure-2021: seed 000, read from billing_of (the Azure view and golden tests use it) ----
std::array<AzureBillingRow, 8> seed000_rows() {
  std::array<AzureBillingRow, 8> rows{};
  std::size_t n = 0;
  for (int i = 0; i <= 255; ++i) {
    const auto power = static_cast<AP>(i);
    if (is_azure_power(power)) rows.at(n++) = {power, billing_of(power)};
  }
  return rows;
}

template <typename Row, typename Key, typename KeyOf>
Billing lookup(std::span<const Row> rows, Key key, KeyOf key_of) {
  for (const Row& row : rows) {
    if (key_of(row) == key) return row.billing;
  }
  // Unreachable: the static_asserts above give every key a row.
  return B::kNotBilled;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

constexpr double kMillisPerHour = 3'600'000.0;

// A class's integrals in exact integer milliseconds.
// Milliseconds to hours, once, at the end (exact below 2^53 ms).
double to_hours(std::int64_t ms) { return static_cast<double>(ms) / kMillisPerHour; }

struct ClassMillis {
  std::int64_t ms = 0;
  std::int64_t vcpu_ms = 0;
  std::int64_t memory_mib_ms = 0;
  std::int64_t disk_mib_ms = 0;

  ClassUsage hours() const {
    return {to_hours(ms), to_hours(vcpu_ms), to_hours(memory_mib_ms), to_hours(disk_mib_ms)};
  }
};

}  // namespace

const std::array<BillingTable, 3> kAllBillingTables = {
    BillingTable::kAzureSeed000, BillingTable::kAzureCurrent, BillingTable::kOpenNebulaShowback};

std::string_view billing_table_name(BillingTable table) {
  switch (table) {
    case BillingTable::kAzureSeed000:
      return "azure-2021";
    case BillingTable::kAzureCurrent:
      return "azure-current";
    case BillingTable::kOpenNebulaShowback:
      return "opennebula-showback";
  }
  return "?";
}

std::optional<BillingTable> parse_billing_table(std::string_view name) {
  for (BillingTable table : kAllBillingTables) {
    if (iequals(billing_table_name(table), name)) return table;
  }
  return std::nullopt;
}

std::optional<AzureBillingTable> azure_billing_table(BillingTable table) {
  switch (table) {
    case BillingTable::kAzureSeed000: {
      static const std::array<AzureBillingRow, 8> kRows = seed000_rows();
      return AzureBillingTable{kRows, std::nullopt};
    }
    case BillingTable::kAzureCurrent:
      return AzureBillingTable{kAzureCurrentRows, kAzureCurrentCreating};
    case BillingTable::kOpenNebulaShowback:
      return std::nullopt;
  }
  return std::nullopt;
}

std::span<const OpenNebulaBillingRow> opennebula_billing_rows(BillingTable table) {
  switch (table) {
    case BillingTable::kAzureSeed000:
    case BillingTable::kAzureCurrent:
      return {};
    case BillingTable::kOpenNebulaShowback:
      return kOpenNebulaShowbackRows;
  }
  return {};
}

Billing billing_class(BillingTable table, const VmRecord& record) {
  if (const std::optional<AzureBillingTable> azure = azure_billing_table(table)) {
    const AzureView view = azure_view(record);
    if (azure->while_creating && view.provisioning == AzureProvisioning::kCreating) {
      return *azure->while_creating;
    }
    return lookup(azure->by_power, view.power, [](const AzureBillingRow& r) { return r.power; });
  }
  return lookup(opennebula_billing_rows(table), opennebula_view(record).state,
                [](const OpenNebulaBillingRow& r) { return r.state; });
}

ClassUsage& ClassUsage::operator+=(const ClassUsage& other) {
  hours += other.hours;
  vcpu_hours += other.vcpu_hours;
  memory_mib_hours += other.memory_mib_hours;
  disk_mib_hours += other.disk_mib_hours;
  return *this;
}

UsageTotals& UsageTotals::operator+=(const VmUsage& vm) {
  for (std::size_t i = 0; i < by_class.size(); ++i) by_class[i] += vm.by_class[i];
  existed_hours += vm.existed_hours;
  ++vms;
  return *this;
}

VmUsage compute_usage(BillingTable table, std::span<const UsagePoint> points, Millis from,
                      Millis to, Millis now) {
  VmUsage usage;
  if (points.empty()) return usage;
  usage.started_at = points.front().at;
  for (const UsagePoint& p : points) {
    if (p.record.state == State::kDone && p.at <= now) {
      usage.ended_at = p.at;
      break;
    }
  }

  // Nothing after now is known yet; an empty or inverted window counts nothing.
  const Millis end = std::min(to, now);
  std::array<ClassMillis, 3> by_class{};
  std::int64_t existed_ms = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const UsagePoint& p = points[i];
    const Millis segment_end = i + 1 < points.size() ? points[i + 1].at : end;
    const Millis lo = std::max(p.at, from);
    const Millis hi = std::min(segment_end, end);
    if (hi <= lo || p.record.state == State::kDone) continue;
    const std::int64_t ms = hi - lo;
    ClassMillis& c = by_class[static_cast<std::size_t>(billing_class(table, p.record))];
    c.ms += ms;
    c.vcpu_ms += ms * p.vcpus;
    c.memory_mib_ms += ms * p.memory_mib;
    c.disk_mib_ms += ms * p.disk_mib;
    existed_ms += ms;
    usage.vcpus = p.vcpus;
    usage.memory_mib = p.memory_mib;
    usage.disk_mib = p.disk_mib;
  }
  for (std::size_t i = 0; i < by_class.size(); ++i) usage.by_class[i] = by_class[i].hours();
  usage.existed_hours = to_hours(existed_ms);
  return usage;
}

}  // namespace corral::lifecycle
