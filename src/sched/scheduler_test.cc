// Placement: each filter, each rank policy, tie-breaks and the "no valid host" reason.
// Facts from ../shared/reference/hosts-migration.md, cited by line.
#include "sched/scheduler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::sched {
namespace {

using lifecycle::HostState;

HostSnapshot host(std::string name, int running = 0, HostState state = HostState::kMonitored) {
  HostSnapshot h;
  h.name = std::move(name);
  h.record = {state, false};
  h.total = {4, 8192};
  h.running_vms = running;
  h.used = {running, running * 1024L};
  return h;
}

std::string chosen(const std::vector<HostSnapshot>& hosts, const PlacementRequest& r,
                   RankPolicy p = kDefaultRankPolicy) {
  auto placed = place(hosts, r, p);
  return placed ? hosts[placed->host].name : "none: " + placed.error().reason;
}

PlacementRequest small() {
  PlacementRequest r;
  r.resources = {1, 1024};
  return r;
}

// :70-76 packing = most RUNNING_VMS, striping = fewest (default), load-aware = FREE_CPU.
TEST(SchedulerTest, RankPolicies) {
  std::vector<HostSnapshot> hosts = {host("a", 2), host("b", 5), host("c", 1)};
  hosts[0].free_cpu = 300;
  hosts[1].free_cpu = 100;
  hosts[2].free_cpu = 200;
  EXPECT_EQ(chosen(hosts, small(), RankPolicy::kPacking), "b");
  EXPECT_EQ(chosen(hosts, small(), RankPolicy::kStriping), "c");
  EXPECT_EQ(chosen(hosts, small(), RankPolicy::kLoadAware), "a");
  EXPECT_EQ(chosen(hosts, small()), "c") << "striping is the default";
  EXPECT_EQ(static_cast<int>(RankPolicy::kLoadAware), 2);
  EXPECT_EQ(rank_policy_name(RankPolicy::kLoadAware), "load-aware");
}

TEST(SchedulerTest, TiesBreakByName) {
  const std::vector<HostSnapshot> hosts = {host("m"), host("b"), host("x")};
  for (RankPolicy p : {RankPolicy::kPacking, RankPolicy::kStriping, RankPolicy::kLoadAware}) {
    EXPECT_EQ(chosen(hosts, small(), p), "b") << rank_policy_name(p);
  }
}

// :11-14 and :44: only INIT and MONITORED take scheduler deploys; DISABLED takes manual ones.
TEST(SchedulerTest, HostStateFilterReadsTheHostTable) {
  std::vector<HostSnapshot> hosts = {
      host("dis", 0, HostState::kDisabled), host("err", 0, HostState::kError),
      host("off", 0, HostState::kOffline), host("init", 3, HostState::kInit)};
  EXPECT_EQ(chosen(hosts, small()), "init");
  hosts[3].record.forced_down = true;
  auto none = place(hosts, small());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().filter, Filter::kHostState);
  EXPECT_EQ(none.error().eliminated[static_cast<int>(Filter::kHostState)], 4);

  PlacementRequest manual = small();
  manual.manual = true;
  manual.requested_host = "dis";
  EXPECT_EQ(chosen(hosts, manual), "dis");
  manual.requested_host = "off";
  EXPECT_FALSE(place(hosts, manual).has_value());
  PlacementRequest scheduled = small();
  scheduled.requested_host = "dis";
  EXPECT_FALSE(place(hosts, scheduled).has_value()) << "the scheduler never uses DISABLED";
}

// :93-94 capacity = (total - reserved) * ratio; :85 reserved may be negative.
TEST(SchedulerTest, CapacityWithRatiosAndReserved) {
  HostSnapshot h = host("h");
  h.total = {2, 4096};
  EXPECT_EQ(capacity(h).vcpus, 8) << "Nova's default cpu ratio 4.0";
  EXPECT_EQ(capacity(h).memory_mib, 4096) << "Nova's default ram ratio 1.0";
  h.reserved = {0, 512};
  EXPECT_EQ(capacity(h).memory_mib, 3584);
  h.reserved = {-2, -1024};
  EXPECT_EQ(capacity(h).vcpus, 16);
  EXPECT_EQ(capacity(h).memory_mib, 5120);
  h.cpu_allocation_ratio = 1.5;
  EXPECT_EQ(capacity(h).vcpus, 6);

  h = host("h");
  h.total = {2, 4096};
  h.used = {7, 3072};
  PlacementRequest r;
  r.resources = {1, 1024};
  EXPECT_EQ(chosen({h}, r), "h") << "exactly full fits";
  r.resources = {2, 1024};
  auto none = place(std::vector{h}, r);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().filter, Filter::kCapacity);
  EXPECT_NE(none.error().reason.find("capacity"), std::string::npos) << none.error().reason;
}

TEST(SchedulerTest, RequirementsFilter) {
  std::vector<HostSnapshot> hosts = {host("a"), host("b"), host("c")};
  hosts[1].labels = {{"gpu", "yes"}};
  auto req = Requirements::parse("gpu = yes");
  ASSERT_TRUE(req.has_value());
  PlacementRequest r = small();
  r.requirements = &*req;
  EXPECT_EQ(chosen(hosts, r), "b");
  hosts[1].record.state = HostState::kOffline;
  auto none = place(hosts, r);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().filter, Filter::kRequirements) << none.error().reason;
  EXPECT_EQ(none.error().eliminated[static_cast<int>(Filter::kRequirements)], 2);
  EXPECT_EQ(none.error().eliminated[static_cast<int>(Filter::kHostState)], 1);
}

// The memo keeps per-host results of a label-only expression across a batch, and is ignored
// for one that reads metrics (they change with every claim).
TEST(SchedulerTest, RequirementsMemoGivesTheSameChoices) {
  std::vector<HostSnapshot> hosts;
  for (int i = 0; i < 20; ++i) {
    hosts.push_back(host("h" + std::to_string(i)));
    hosts.back().labels = {{"zone", i % 3 == 0 ? "eu-1" : "us-1"}};
  }
  for (const char* text : {"zone = eu-*", "zone = eu-* & RUNNING_VMS < 2"}) {
    auto req = Requirements::parse(text);
    ASSERT_TRUE(req.has_value());
    std::vector<HostSnapshot> with = hosts;
    std::vector<HostSnapshot> without = hosts;
    RequirementsMemo memo;
    PlacementRequest r = small();
    r.requirements = &*req;
    for (int v = 0; v < 40; ++v) {
      r.memo = &memo;
      auto a = place(with, r);
      r.memo = nullptr;
      auto b = place(without, r);
      ASSERT_EQ(a.has_value(), b.has_value()) << text << " VM " << v;
      if (!a) {
        EXPECT_EQ(a.error().reason, b.error().reason);
        continue;
      }
      ASSERT_EQ(a->host, b->host) << text << " VM " << v;
      for (auto* hs : {&with, &without}) {
        HostSnapshot& h = (*hs)[a->host];
        ++h.running_vms;
        h.used.vcpus += 1;
        h.used.memory_mib += 1024;
      }
    }
    EXPECT_EQ(memo.of != nullptr, req->reads_only_fixed_attributes()) << text;
  }
}

// Nova's server groups: ServerGroupAffinityFilter / AntiAffinityFilter (:90), soft weighers.
TEST(SchedulerTest, ServerGroups) {
  const std::vector<HostSnapshot> hosts = {host("a", 1), host("b", 2), host("c", 0)};
  PlacementRequest r = small();
  r.group.member_hosts = {"b", "b", "a"};

  r.group.policy = GroupPolicy::kAntiAffinity;
  EXPECT_EQ(chosen(hosts, r, RankPolicy::kPacking), "c");
  r.group.policy = GroupPolicy::kAffinity;
  EXPECT_EQ(chosen(hosts, r, RankPolicy::kStriping), "a");
  r.group.policy = GroupPolicy::kSoftAffinity;
  EXPECT_EQ(chosen(hosts, r, RankPolicy::kStriping), "b") << "most members first";
  r.group.policy = GroupPolicy::kSoftAntiAffinity;
  EXPECT_EQ(chosen(hosts, r, RankPolicy::kPacking), "c") << "fewest members first";

  r.group.member_hosts = {"a", "b", "c"};
  r.group.policy = GroupPolicy::kAntiAffinity;
  auto none = place(hosts, r);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().filter, Filter::kAntiAffinity);
  r.group.policy = GroupPolicy::kSoftAntiAffinity;
  EXPECT_TRUE(place(hosts, r).has_value()) << "soft policies never filter";

  r.group.member_hosts.clear();
  r.group.policy = GroupPolicy::kAffinity;
  EXPECT_EQ(chosen(hosts, r), "c") << "the first member of an affinity group goes anywhere";
}

TEST(SchedulerTest, NoValidHostNamesTheFilterThatEliminatedMost) {
  std::vector<HostSnapshot> hosts;
  for (int i = 0; i < 7; ++i) hosts.push_back(host("full" + std::to_string(i), 4));
  hosts.back().used = {16, 8192};
  for (int i = 0; i < 3; ++i)
    hosts.push_back(host("off" + std::to_string(i), 0, HostState::kOffline));
  PlacementRequest r;
  r.resources = {1, 8192};
  auto none = place(hosts, r);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().filter, Filter::kCapacity);
  EXPECT_EQ(none.error().hosts, 10);
  EXPECT_EQ(none.error().reason,
            "No valid host: 7 of 10 hosts eliminated by capacity (not enough free capacity for 1 "
            "vCPUs and 8192 MiB); host state: 3");
  EXPECT_FALSE(place(std::vector<HostSnapshot>{}, r).has_value());
}

TEST(SchedulerTest, RequestedHost) {
  const std::vector<HostSnapshot> hosts = {host("a"), host("b", 3)};
  PlacementRequest r = small();
  r.requested_host = "b";
  EXPECT_EQ(chosen(hosts, r), "b");
  r.requested_host = "zz";
  auto none = place(hosts, r);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().filter, Filter::kRequestedHost);
}

}  // namespace
}  // namespace corral::sched
