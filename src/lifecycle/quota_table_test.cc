// The quota table against its sources: Nova's defaults and what Nova counts (every instance
// not deleted nor soft-deleted), OpenNebula's running quota (is_running_quota: pending, hold
// and active; power-off, suspend, stop and undeploy release it), written here state by state
// rather than read from the table.
#include "lifecycle/quota_table.h"

#include <gtest/gtest.h>

namespace corral::lifecycle {
namespace {

TEST(QuotaTableTest, DefaultsAreNovasAndNamesRoundTrip) {
  EXPECT_EQ(default_quota_limits()[quota_index(QuotaResource::kVms)], 10);           // instances
  EXPECT_EQ(default_quota_limits()[quota_index(QuotaResource::kVcpus)], 20);         // cores
  EXPECT_EQ(default_quota_limits()[quota_index(QuotaResource::kMemoryMib)], 51200);  // ram
  EXPECT_EQ(default_quota_limits()[quota_index(QuotaResource::kRunningVms)], kUnlimited);
  EXPECT_EQ(default_quota_limits()[quota_index(QuotaResource::kServerGroups)], 10);
  EXPECT_EQ(default_quota_limits()[quota_index(QuotaResource::kServerGroupMembers)], 10);
  EXPECT_EQ(quota_resource(QuotaResource::kServerGroupMembers).nova, "server_group_members");
  for (const QuotaResourceRow& row : kQuotaResources) {
    EXPECT_TRUE(quota_resource_known(row.resource));
    EXPECT_EQ(parse_quota_resource(row.name), row.resource);
  }
  EXPECT_EQ(parse_quota_resource("instances"), std::nullopt) << "Corral's names only";
}

TEST(QuotaTableTest, WhichStatesCountFollowNovaAndOpenNebula) {
  struct Case {
    State state;
    bool total;
    bool running;
  };
  const Case cases[] = {
      {State::kInit, true, true},          {State::kPending, true, true},
      {State::kHold, true, true},          {State::kRunning, true, true},
      {State::kPaused, true, true},        {State::kSuspended, true, false},
      {State::kPoweroff, true, false},     {State::kHibernated, true, false},
      {State::kDeallocated, true, false},  {State::kShelved, true, false},
      {State::kRescued, true, true},       {State::kResized, true, true},
      {State::kSoftDeleted, false, false}, {State::kUnknown, true, true},
      {State::kFailed, true, true},        {State::kDone, false, false},
  };
  static_assert(std::size(cases) == kStateCount);
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(state_name(c.state)));
    EXPECT_EQ(kQuotaTotalStates.contains(c.state), c.total);
    EXPECT_EQ(kQuotaRunningStates.contains(c.state), c.running);
  }
}

}  // namespace
}  // namespace corral::lifecycle
