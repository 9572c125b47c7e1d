#include "sched/scheduler.h"

#include <fmt/format.h>

#include <algorithm>

namespace corral::sched {
namespace {

// How many group members `host` holds (members sorted).
int members_on(std::span<const std::string_view> members, std::string_view host) {
  const auto [lo, hi] = std::equal_range(members.begin(), members.end(), host);
  return static_cast<int>(hi - lo);
}

// Higher is better.
double policy_score(const HostSnapshot& h, RankPolicy policy) {
  switch (policy) {
    case RankPolicy::kPacking:
      return h.running_vms;
    case RankPolicy::kStriping:
      return -h.running_vms;
    case RankPolicy::kLoadAware:
      return h.free_cpu;
  }
  return 0;
}

std::string describe(const PlacementRequest& r, Filter f) {
  switch (f) {
    case Filter::kRequestedHost:
      return fmt::format("not the requested host {}", r.requested_host);
    case Filter::kHostState:
      return r.manual ? "not taking manual deploys" : "disabled, offline, in error or forced down";
    case Filter::kCapacity:
      return fmt::format("not enough free capacity for {} vCPUs and {} MiB", r.resources.vcpus,
                         r.resources.memory_mib);
    case Filter::kRequirements:
      return "not matching the requirements";
    case Filter::kAffinity:
      return "not holding the server group's members (affinity)";
    case Filter::kAntiAffinity:
      return "already holding a member of the server group (anti-affinity)";
  }
  return {};
}

}  // namespace

std::string_view rank_policy_name(RankPolicy policy) {
  switch (policy) {
    case RankPolicy::kPacking:
      return "packing";
    case RankPolicy::kStriping:
      return "striping";
    case RankPolicy::kLoadAware:
      return "load-aware";
  }
  return "?";
}

std::string_view filter_name(Filter filter) {
  switch (filter) {
    case Filter::kRequestedHost:
      return "requested host";
    case Filter::kHostState:
      return "host state";
    case Filter::kCapacity:
      return "capacity";
    case Filter::kRequirements:
      return "requirements";
    case Filter::kAffinity:
      return "affinity";
    case Filter::kAntiAffinity:
      return "anti-affinity";
  }
  return "?";
}

std::expected<Placement, NoValidHost> place(std::span<const HostSnapshot> hosts,
                                            const PlacementRequest& request, RankPolicy policy) {
  const GroupPolicy group = request.group.policy;
  const bool uses_members = group != GroupPolicy::kNone && !request.group.member_hosts.empty();
  std::vector<std::string_view> members;
  if (uses_members) {
    members.assign(request.group.member_hosts.begin(), request.group.member_hosts.end());
    std::sort(members.begin(), members.end());
  }
  const bool has_requirements = request.requirements != nullptr && !request.requirements->empty();
  RequirementsMemo* memo = has_requirements && request.requirements->reads_only_fixed_attributes()
                               ? request.memo
                               : nullptr;
  if (memo != nullptr &&
      (memo->of != request.requirements || memo->results.size() != hosts.size())) {
    memo->of = request.requirements;
    memo->results.assign(hosts.size(), -1);
  }
  auto meets_requirements = [&](std::size_t i) {
    if (memo == nullptr) return request.requirements->matches(hosts[i]);
    std::int8_t& known = memo->results[i];
    if (known < 0) known = request.requirements->matches(hosts[i]) ? 1 : 0;
    return known == 1;
  };

  std::array<int, kFilterCount> eliminated{};
  const HostSnapshot* best = nullptr;
  std::size_t best_index = 0;
  double best_group = 0;
  double best_score = 0;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const HostSnapshot& h = hosts[i];
    auto out = [&](Filter f) { ++eliminated[static_cast<int>(f)]; };
    if (!request.requested_host.empty() && h.name != request.requested_host) {
      out(Filter::kRequestedHost);
      continue;
    }
    if (!(request.manual ? lifecycle::takes_manual_deploys(h.record)
                         : lifecycle::takes_scheduler_deploys(h.record))) {
      out(Filter::kHostState);
      continue;
    }
    if (!fits(h, request.resources)) {
      out(Filter::kCapacity);
      continue;
    }
    if (has_requirements && !meets_requirements(i)) {
      out(Filter::kRequirements);
      continue;
    }
    const int on_host = uses_members ? members_on(members, h.name) : 0;
    if (group == GroupPolicy::kAffinity && uses_members && on_host == 0) {
      out(Filter::kAffinity);
      continue;
    }
    if (group == GroupPolicy::kAntiAffinity && on_host > 0) {
      out(Filter::kAntiAffinity);
      continue;
    }
    const double group_score = group == GroupPolicy::kSoftAffinity       ? on_host
                               : group == GroupPolicy::kSoftAntiAffinity ? -on_host
                                                                         : 0;
    const double score = policy_score(h, policy);
    if (best == nullptr || group_score > best_group ||
        (group_score == best_group &&
         (score > best_score || (score == best_score && h.name < best->name)))) {
      best = &h;
      best_index = i;
      best_group = group_score;
      best_score = score;
    }
  }
  if (best != nullptr) return Placement{best_index, best->generation};

  NoValidHost none;
  none.eliminated = eliminated;
  none.hosts = static_cast<int>(hosts.size());
  if (hosts.empty()) {
    none.filter = Filter::kHostState;
    none.reason = "No valid host: there are no hosts";
    return std::unexpected(std::move(none));
  }
  int most = -1;
  for (int f = 0; f < kFilterCount; ++f) {
    if (eliminated[f] > most) {
      most = eliminated[f];
      none.filter = static_cast<Filter>(f);
    }
  }
  std::string others;
  for (int f = 0; f < kFilterCount; ++f) {
    if (f == static_cast<int>(none.filter) || eliminated[f] == 0) continue;
    others += fmt::format("; {}: {}", filter_name(static_cast<Filter>(f)), eliminated[f]);
  }
  none.reason =
      fmt::format("No valid host: {} of {} hosts eliminated by {} ({}){}", most, none.hosts,
                  filter_name(none.filter), describe(request, none.filter), others);
  return std::unexpected(std::move(none));
}

}  // namespace corral::sched
