// The billing tables against their sources (seed 000; ../shared/reference/tenancy-billing.md
// §3, cited by line), and usage over a timeline the model produces, computed by hand.
#include "lifecycle/billing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace corral::lifecycle {
namespace {

using AP = AzurePower;
using OS = OneState;
using B = Billing;
using S = State;
using A = Action;
using T = BillingTable;

constexpr B kNo = B::kNotBilled;
constexpr B kHs = B::kBilledHardwareAndSoftware;
constexpr B kHw = B::kBilledHardwareOnly;

std::vector<AzurePower> every_azure_power() {
  std::vector<AzurePower> all{AP::kNone};  // kAllAzurePowers leaves kNone out
  for (AzurePower p : kAllAzurePowers) all.push_back(p);
  return all;
}

Billing azure_row(T table, AzurePower power) {
  const auto rows = azure_billing_table(table);
  EXPECT_TRUE(rows.has_value()) << billing_table_name(table);
  if (!rows) return kNo;
  int found = 0;
  Billing billing = kNo;
  for (const AzureBillingRow& row : rows->by_power) {
    if (row.power != power) continue;
    billing = row.billing;
    ++found;
  }
  EXPECT_EQ(found, 1) << billing_table_name(table) << " / " << azure_power_name(power);
  return billing;
}

// ---- (a) The tables -------------------------------------------------------------------------

TEST(BillingTableTest, NamesAndNumbersAreStable) {
  EXPECT_EQ(static_cast<int>(T::kAzureSeed000), 0);
  EXPECT_EQ(static_cast<int>(T::kAzureCurrent), 1);
  EXPECT_EQ(static_cast<int>(T::kOpenNebulaShowback), 2);
  EXPECT_EQ(kDefaultBillingTable, T::kAzureSeed000);
  EXPECT_EQ(billing_table_name(T::kAzureSeed000), "azure-2021");
  EXPECT_EQ(billing_table_name(T::kAzureCurrent), "azure-current");
  EXPECT_EQ(billing_table_name(T::kOpenNebulaShowback), "opennebula-showback");
  for (T table : kAllBillingTables) {
    EXPECT_EQ(parse_billing_table(billing_table_name(table)), table);
  }
  EXPECT_EQ(parse_billing_table("Azure-Current"), T::kAzureCurrent);
  EXPECT_EQ(parse_billing_table("azure"), std::nullopt);
  EXPECT_EQ(parse_billing_table(""), std::nullopt);
}

TEST(BillingTableTest, EveryTableHasOneRowPerKey) {
  for (T table : kAllBillingTables) {
    SCOPED_TRACE(std::string(billing_table_name(table)));
    const auto azure = azure_billing_table(table);
    const auto one = opennebula_billing_rows(table);
    ASSERT_NE(azure.has_value(), !one.empty()) << "keyed by exactly one view";
    if (azure) {
      EXPECT_EQ(azure->by_power.size(), every_azure_power().size());
      for (AzurePower p : every_azure_power()) azure_row(table, p);  // counts the rows
    } else {
      EXPECT_EQ(one.size(), kAllOneStates.size());
      for (OneState s : kAllOneStates) {
        EXPECT_EQ(std::count_if(one.begin(), one.end(),
                                [&](const OpenNebulaBillingRow& r) { return r.state == s; }),
                  1)
            << one_state_name(s);
      }
    }
  }
}

TEST(BillingTableTest, Seed000TableIsBillingOf) {
  for (AzurePower p : every_azure_power()) {
    EXPECT_EQ(azure_row(T::kAzureSeed000, p), billing_of(p)) << azure_power_name(p);
  }
  EXPECT_EQ(azure_billing_table(T::kAzureSeed000)->while_creating, std::nullopt);
}

// Each table written out from its source, so a wrong row (Stopped's, say) fails here.
TEST(BillingTableTest, AzureRowsFollowTheirSources) {
  struct Case {
    AzurePower power;
    Billing seed000, current;
  };
  const Case cases[] = {
      // seed 000 lines 30/48 "Starting ... Not Billed"; reference :75 "Starting | Billed"
      {AP::kStarting, kNo, kHs},
      {AP::kRunning, kHs, kHs},       // seed :53/72 Billed (Hardware + Software); ref :76
      {AP::kStopping, kHs, kHs},      // seed :77/95 Billed (Hardware + Software); ref :77
      {AP::kStopped, kHw, kHs},       // seed :100/120 Billed (Hardware only); ref :78 Billed
      {AP::kDeallocating, kHw, kNo},  // seed :125/143 Billed (Hardware only); ref :79 Not billed*
      {AP::kDeallocated, kNo, kNo},   // seed :148/167 Not billed; ref :80 Not billed*
      // In neither source: the host is still held, the guest's state unknown.
      {AP::kUnknown, kHw, kHw},
      {AP::kNone, kNo, kNo},  // no VM
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(azure_power_name(c.power)));
    EXPECT_EQ(azure_row(T::kAzureSeed000, c.power), c.seed000);
    EXPECT_EQ(azure_row(T::kAzureCurrent, c.power), c.current);
  }
  // ref :74 "Creating | Not billed*": the 2023 page's power state for a VM being created.
  EXPECT_EQ(azure_billing_table(T::kAzureCurrent)->while_creating, kNo);
}

// tenancy-billing.md:87: with SHOWBACK_ONLY_RUNNING=no, CPU and memory are charged over the
// whole host stay "e.g. VM states POWEROFF or SUSPENDED"; stop/undeploy epilog success sets
// ETIME, "so STOPPED/UNDEPLOYED VMs accrue no showback cost at all".
TEST(BillingTableTest, OpenNebulaRowsChargeWhileTheVmHoldsAHost) {
  const std::pair<OneState, Billing> expected[] = {
      {OS::kInit, kNo},    {OS::kPending, kNo},       {OS::kHold, kNo},
      {OS::kActive, kHs},  {OS::kStopped, kNo},       {OS::kSuspended, kHs},
      {OS::kDone, kNo},    {OS::kPoweroff, kHs},      {OS::kUndeployed, kNo},
      {OS::kCloning, kNo}, {OS::kCloningFailure, kNo}};
  for (const auto& [state, billing] : expected) {
    int found = 0;
    for (const OpenNebulaBillingRow& row : opennebula_billing_rows(T::kOpenNebulaShowback)) {
      if (row.state == state) {
        ++found;
        EXPECT_EQ(row.billing, billing) << one_state_name(state);
      }
    }
    EXPECT_EQ(found, 1) << one_state_name(state);
  }
}

TEST(BillingTableTest, BillingClassReadsTheRecordsView) {
  for (T table : kAllBillingTables) {
    SCOPED_TRACE(std::string(billing_table_name(table)));
    EXPECT_EQ(billing_class(table, record_at_rest(S::kDone)), kNo);
    EXPECT_EQ(billing_class(table, record_at_rest(S::kRunning)), kHs);
    EXPECT_EQ(billing_class(table, record_at_rest(S::kDeallocated)), kNo);
  }
  // POWEROFF: Azure Stopped, OpenNebula POWEROFF.
  EXPECT_EQ(billing_class(T::kAzureSeed000, record_at_rest(S::kPoweroff)), kHw);
  EXPECT_EQ(billing_class(T::kAzureCurrent, record_at_rest(S::kPoweroff)), kHs);
  EXPECT_EQ(billing_class(T::kOpenNebulaShowback, record_at_rest(S::kPoweroff)), kHs);
  // PENDING is Azure Starting under ProvisioningState/creating: the 2023 page's Creating.
  EXPECT_EQ(billing_class(T::kAzureCurrent, record_at_rest(S::kPending)), kNo);
  EXPECT_EQ(billing_class(T::kOpenNebulaShowback, record_at_rest(S::kHibernated)), kNo);
}

// ---- (b) A timeline the model produces ------------------------------------------------------

constexpr Millis kT0 = 1'700'000'000'000;
constexpr Millis kMin = 60'000;
constexpr Millis kSec = 1'000;

VmRecord begun(const VmRecord& r, Action a) {
  Result<Step> step = begin(r, {a});
  EXPECT_TRUE(step.has_value()) << action_name(a);
  return step ? step->record : r;
}

VmRecord run_to_end(VmRecord r) {
  for (int guard = 0; r.busy() && guard < 10; ++guard) r = phase_succeeded(r).record;
  EXPECT_FALSE(r.busy());
  return r;
}

struct Flavor {
  int vcpus;
  std::int64_t memory_mib;
};
constexpr Flavor kSmall{2, 1024};
constexpr Flavor kLarge{4, 2048};
constexpr std::int64_t kDiskMib = 10'240;

UsagePoint point(Millis at, const VmRecord& r, Flavor f) {
  return {kT0 + at, r, f.vcpus, f.memory_mib, kDiskMib};
}

// Minute by minute (times from kT0):
//   0:00 create (INIT)  0:30 PENDING  1:00 deploy (prolog)  2:00 RUNNING  62:00 shutdown
//   63:00 POWEROFF  93:00 deallocate (epilog)  94:00 DEALLOCATED  214:00 start (schedule)
//   214:30 start (prolog)  215:00 RUNNING  275:00 resize_migrate and RESIZED at once (4 vCPU)
//   285:00 confirm_resize and RUNNING at once  305:00 terminate (shutdown)  305:30 (epilog)
//   306:00 DONE;  now = 366:00.
std::vector<UsagePoint> timeline() {
  std::vector<UsagePoint> p;
  VmRecord r = new_record();
  p.push_back(point(0, r, kSmall));
  p.push_back(point(30 * kSec, r = run_to_end(r), kSmall));
  p.push_back(point(1 * kMin, r = begun(r, A::kDeploy), kSmall));
  p.push_back(point(2 * kMin, r = run_to_end(r), kSmall));
  p.push_back(point(62 * kMin, r = begun(r, A::kShutdown), kSmall));
  p.push_back(point(63 * kMin, r = run_to_end(r), kSmall));
  p.push_back(point(93 * kMin, r = begun(r, A::kDeallocate), kSmall));
  p.push_back(point(94 * kMin, r = run_to_end(r), kSmall));
  p.push_back(point(214 * kMin, r = begun(r, A::kStart), kSmall));
  p.push_back(point(214 * kMin + 30 * kSec, r = phase_succeeded(r).record, kSmall));
  p.push_back(point(215 * kMin, r = run_to_end(r), kSmall));
  p.push_back(point(275 * kMin, r = begun(r, A::kResizeMigrate), kSmall));
  p.push_back(point(275 * kMin, r = run_to_end(r), kLarge));  // equal at: this one wins
  p.push_back(point(285 * kMin, r = begun(r, A::kConfirmResize), kLarge));
  p.push_back(point(285 * kMin, r = run_to_end(r), kLarge));
  p.push_back(point(305 * kMin, r = begun(r, A::kTerminate), kLarge));
  p.push_back(point(305 * kMin + 30 * kSec, r = phase_succeeded(r).record, kLarge));
  p.push_back(point(306 * kMin, r = run_to_end(r), kLarge));
  return p;
}
constexpr Millis kNow = kT0 + 366 * kMin;

TEST(BillingUsageTest, TimelineIsTheOneScripted) {
  const std::vector<UsagePoint> p = timeline();
  const State states[] = {
      S::kInit,     S::kPending,     S::kPending,     S::kRunning,     S::kRunning, S::kPoweroff,
      S::kPoweroff, S::kDeallocated, S::kDeallocated, S::kDeallocated, S::kRunning, S::kRunning,
      S::kResized,  S::kResized,     S::kRunning,     S::kRunning,     S::kRunning, S::kDone};
  ASSERT_EQ(p.size(), std::size(states));
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i].record.state, states[i]) << i;
}

// The class of each point, per table; the hand arithmetic below sums these.
TEST(BillingUsageTest, TimelineClassesPerPoint) {
  struct Case {
    B seed000, current, showback;
  };
  const Case cases[] = {
      {kNo, kNo, kNo},  // create: Starting (seed) / Creating (2023) / INIT
      {kNo, kNo, kNo},  // PENDING: Starting / Creating / PENDING
      {kNo, kNo, kHs},  // deploy prolog: Starting / Creating / ACTIVE (PROLOG)
      {kHs, kHs, kHs},  // RUNNING
      {kHs, kHs, kHs},  // shutdown: Stopping / ACTIVE
      {kHw, kHs, kHs},  // POWEROFF: Stopped / POWEROFF
      {kHw, kNo, kHs},  // deallocate epilog: Deallocating / ACTIVE (EPILOG_UNDEPLOY)
      {kNo, kNo, kNo},  // DEALLOCATED: Deallocated / UNDEPLOYED
      {kNo, kHs, kNo},  // start schedule: Starting (Updating) / PENDING
      {kNo, kHs, kHs},  // start prolog: Starting / ACTIVE
      {kHs, kHs, kHs},  // RUNNING
      {kHs, kHs, kHs},  // resize_migrate (zero-length)
      {kHs, kHs, kHs},  // RESIZED, powered on: Running / ACTIVE
      {kHs, kHs, kHs},  // confirm_resize (zero-length)
      {kHs, kHs, kHs},  // RUNNING
      {kHs, kHs, kHs},  // terminate shutdown: Stopping / ACTIVE
      {kHw, kNo, kHs},  // terminate epilog: Deallocating / ACTIVE
      {kNo, kNo, kNo},  // DONE
  };
  const std::vector<UsagePoint> p = timeline();
  ASSERT_EQ(p.size(), std::size(cases));
  for (std::size_t i = 0; i < p.size(); ++i) {
    SCOPED_TRACE("point " + std::to_string(i));
    EXPECT_EQ(billing_class(T::kAzureSeed000, p[i].record), cases[i].seed000);
    EXPECT_EQ(billing_class(T::kAzureCurrent, p[i].record), cases[i].current);
    EXPECT_EQ(billing_class(T::kOpenNebulaShowback, p[i].record), cases[i].showback);
  }
}

struct Expected {
  T table;
  // Minutes and vCPU-minutes per class (kNotBilled, kHardwareAndSoftware, kHardwareOnly).
  double minutes[3];
  double vcpu_minutes[3];
};

void expect_class_minutes(const VmUsage& u, const Expected& e) {
  for (std::size_t c = 0; c < 3; ++c) {
    SCOPED_TRACE(std::string(billing_name(static_cast<B>(c))));
    EXPECT_DOUBLE_EQ(u.by_class[c].hours, e.minutes[c] / 60);
    EXPECT_DOUBLE_EQ(u.by_class[c].vcpu_hours, e.vcpu_minutes[c] / 60);
  }
}

TEST(BillingUsageTest, WholeTimelineByHand) {
  // Segments (minutes, vCPUs): create 0.5, PENDING 0.5, deploy 1 (all 2 vCPU); RUNNING 60;
  // shutdown 1; POWEROFF 30; deallocate 1; DEALLOCATED 120; start 0.5 + 0.5; RUNNING 60;
  // RESIZED 10 (4 vCPU); RUNNING 20 (4); terminate 0.5 + 0.5 (4). 306 minutes in all.
  const Expected cases[] = {
      // not billed: Starting 0.5+0.5+1+0.5+0.5 = 3, Deallocated 120 -> 123; x2 vCPU = 246
      // H+S: Running 60+60 (x2) + 10+20 (x4) = 150 -> 360; Stopping 1 (x2) + 0.5 (x4) = 1.5 -> 4
      // H only: Stopped 30 (x2) + Deallocating 1 (x2) + 0.5 (x4) = 31.5 -> 60+2+2 = 64
      {T::kAzureSeed000, {123, 151.5, 31.5}, {246, 364, 64}},
      // not billed: Creating 2, Deallocating 1 + 0.5, Deallocated 120 = 123.5 -> 4+2+2+240 = 248
      // H+S: Starting 1 (x2), Running 150, Stopping 1.5, Stopped 30 (x2) = 182.5
      //      -> 2 + 360 + 4 + 60 = 426
      {T::kAzureCurrent, {123.5, 182.5, 0}, {248, 426, 0}},
      // not charged: INIT 0.5, PENDING 0.5, UNDEPLOYED 120, PENDING (start) 0.5 = 121.5 -> 243
      // charged: the other 306 - 121.5 = 184.5 minutes; vCPU: 4-vCPU minutes 10+20+1 = 31
      //          -> 31*4 + (184.5-31)*2 = 124 + 307 = 431
      {T::kOpenNebulaShowback, {121.5, 184.5, 0}, {243, 431, 0}},
  };
  const std::vector<UsagePoint> p = timeline();
  for (const Expected& e : cases) {
    SCOPED_TRACE(std::string(billing_table_name(e.table)));
    const VmUsage u = compute_usage(e.table, p, kT0, kNow, kNow);
    expect_class_minutes(u, e);
    EXPECT_DOUBLE_EQ(u.existed_hours, 306.0 / 60);  // 5.1 h: DONE's 60 minutes count nothing
    EXPECT_EQ(u.started_at, kT0);
    EXPECT_EQ(u.ended_at, kT0 + 306 * kMin);
    EXPECT_EQ(u.vcpus, 4);  // the last flavor
    EXPECT_EQ(u.memory_mib, 2048);
    EXPECT_EQ(u.disk_mib, kDiskMib);
    // Memory: 2048 MiB for 31 minutes, 1024 MiB for the other 275.
    double memory = 0;
    double disk = 0;
    for (const ClassUsage& c : u.by_class) {
      memory += c.memory_mib_hours;
      disk += c.disk_mib_hours;
    }
    EXPECT_DOUBLE_EQ(memory, (31 * 2048 + 275 * 1024) / 60.0);
    EXPECT_DOUBLE_EQ(disk, 306 * kDiskMib / 60.0);
  }
}

// ---- (c) Windows ----------------------------------------------------------------------------

TEST(BillingUsageTest, WindowClipsSegments) {
  // [30:00, 100:00): RUNNING 32 min (from the middle of its segment), shutdown 1, POWEROFF 30,
  // deallocate 1, DEALLOCATED 6 (to its middle), all at 2 vCPU; 70 minutes in all.
  const Expected cases[] = {
      {T::kAzureSeed000, {6, 33, 31}, {12, 66, 62}},
      {T::kAzureCurrent, {7, 63, 0}, {14, 126, 0}},
      {T::kOpenNebulaShowback, {6, 64, 0}, {12, 128, 0}},
  };
  const std::vector<UsagePoint> p = timeline();
  for (const Expected& e : cases) {
    SCOPED_TRACE(std::string(billing_table_name(e.table)));
    const VmUsage u = compute_usage(e.table, p, kT0 + 30 * kMin, kT0 + 100 * kMin, kNow);
    expect_class_minutes(u, e);
    EXPECT_DOUBLE_EQ(u.existed_hours, 70.0 / 60);
    EXPECT_EQ(u.started_at, kT0);
    EXPECT_EQ(u.vcpus, 2);  // the last segment inside the window, not the VM's last flavor
  }
}

TEST(BillingUsageTest, WindowEndIsCappedAtNow) {
  const std::vector<UsagePoint> all = timeline();
  // Only what was known at 100:00: the points up to DEALLOCATED (94:00).
  const std::vector<UsagePoint> known(all.begin(), all.begin() + 8);
  const Millis now = kT0 + 100 * kMin;
  const VmUsage capped = compute_usage(T::kAzureSeed000, known, kT0, kT0 + 1000 * kMin, now);
  const VmUsage exact = compute_usage(T::kAzureSeed000, known, kT0, now, now);
  EXPECT_EQ(capped.by_class, exact.by_class);
  EXPECT_DOUBLE_EQ(capped.existed_hours, 100.0 / 60);
  // DEALLOCATED 94:00..100:00, not to the window's end; Starting 2 minutes before.
  EXPECT_DOUBLE_EQ(capped.of(kNo).hours, 8.0 / 60);
  EXPECT_EQ(capped.ended_at, std::nullopt);
}

TEST(BillingUsageTest, EmptyWindowCountsNothing) {
  const std::vector<UsagePoint> p = timeline();
  for (Millis to : {kT0 + 10 * kMin, kT0 + 5 * kMin}) {  // [10:00, 10:00) and inverted
    const VmUsage u = compute_usage(T::kAzureCurrent, p, kT0 + 10 * kMin, to, kNow);
    EXPECT_EQ(u.by_class, (std::array<ClassUsage, 3>{}));
    EXPECT_EQ(u.existed_hours, 0);
    EXPECT_EQ(u.vcpus, 0);
  }
}

TEST(BillingUsageTest, VmCreatedAfterTheWindowCountsNothing) {
  std::vector<UsagePoint> p = timeline();
  for (UsagePoint& point : p) point.at += 1000 * kMin;
  const VmUsage u = compute_usage(T::kOpenNebulaShowback, p, kT0, kT0 + 500 * kMin, kNow);
  EXPECT_EQ(u.by_class, (std::array<ClassUsage, 3>{}));
  EXPECT_EQ(u.existed_hours, 0);
  EXPECT_EQ(u.vcpus, 0);
  EXPECT_EQ(u.started_at, kT0 + 1000 * kMin);
  EXPECT_EQ(u.ended_at, std::nullopt) << "its DONE is after now";
  EXPECT_EQ(compute_usage(T::kAzureSeed000, {}, kT0, kNow, kNow).existed_hours, 0);
}

TEST(BillingUsageTest, EqualTimesLetTheLaterPointWin) {
  const UsagePoint p[] = {point(0, record_at_rest(S::kRunning), kSmall),
                          point(60 * kMin, record_at_rest(S::kPoweroff), kSmall),
                          point(60 * kMin, record_at_rest(S::kDeallocated), kLarge)};
  const VmUsage u = compute_usage(T::kAzureSeed000, p, kT0, kT0 + 120 * kMin, kNow);
  EXPECT_DOUBLE_EQ(u.of(kHs).hours, 1);
  EXPECT_DOUBLE_EQ(u.of(kHw).hours, 0);  // POWEROFF lasted no time
  EXPECT_DOUBLE_EQ(u.of(kNo).hours, 1);
  EXPECT_DOUBLE_EQ(u.of(kNo).vcpu_hours, 4);
  EXPECT_EQ(u.vcpus, 4);
}

TEST(BillingUsageTest, ProjectTotalsAddVms) {
  const std::vector<UsagePoint> p = timeline();
  UsageTotals totals;
  totals += compute_usage(T::kAzureSeed000, p, kT0, kNow, kNow);
  totals += compute_usage(T::kAzureSeed000, p, kT0 + 30 * kMin, kT0 + 100 * kMin, kNow);
  EXPECT_EQ(totals.vms, 2);
  EXPECT_DOUBLE_EQ(totals.existed_hours, (306 + 70) / 60.0);
  EXPECT_DOUBLE_EQ(totals.of(kHs).hours, (151.5 + 33) / 60);
  EXPECT_DOUBLE_EQ(totals.of(kHw).vcpu_hours, (64 + 62) / 60.0);
}

}  // namespace
}  // namespace corral::lifecycle
