// Server groups (Nova's os-server-groups): create/delete through the engine's queue, reads
// from the published copy, and the members' hosts the scheduler's group filter reads.
#include "engine/engine_impl.h"
#include "engine/names.h"

namespace corral::engine {

namespace lc = corral::lifecycle;

std::string_view group_policy_name(store::GroupPolicy policy) {
  switch (policy) {
    case store::GroupPolicy::kAffinity:
      return "affinity";
    case store::GroupPolicy::kAntiAffinity:
      return "anti-affinity";
    case store::GroupPolicy::kSoftAffinity:
      return "soft-affinity";
    case store::GroupPolicy::kSoftAntiAffinity:
      return "soft-anti-affinity";
  }
  return "?";
}

std::optional<store::GroupPolicy> parse_group_policy(std::string_view name) {
  for (store::GroupPolicy p :
       {store::GroupPolicy::kAffinity, store::GroupPolicy::kAntiAffinity,
        store::GroupPolicy::kSoftAffinity, store::GroupPolicy::kSoftAntiAffinity}) {
    if (group_policy_name(p) == name) return p;
  }
  return std::nullopt;
}

Result<GroupDetail> Engine::create_group(GroupSpec spec) {
  return impl_->submit(internal::GroupCommand{false, std::move(spec), {}, {}});
}

Result<GroupDetail> Engine::delete_group(std::string name_or_id) {
  return impl_->submit(internal::GroupCommand{true, {}, std::move(name_or_id), {}});
}

std::vector<GroupDetail> Engine::groups() const {
  const Impl& e = *impl_;
  std::shared_lock lock(e.published_mu);
  std::map<store::GroupId, std::vector<VmId>> members;
  for (const store::Vm& vm : e.vms) {
    if (vm.group != 0 && vm.record.state != lc::State::kDone) members[vm.group].push_back(vm.id);
  }
  std::vector<GroupDetail> out;
  for (const store::ServerGroupRow& g : e.published_groups) {
    out.push_back({g, std::move(members[g.id])});
  }
  return out;
}

std::optional<GroupDetail> Engine::group(std::string_view name_or_id) const {
  const Impl& e = *impl_;
  std::shared_lock lock(e.published_mu);
  for (const store::ServerGroupRow& g : e.published_groups) {
    if (!names_row(g, name_or_id)) continue;
    GroupDetail detail{g, {}};
    for (const store::Vm& vm : e.vms) {
      if (vm.group == g.id && vm.record.state != lc::State::kDone) detail.members.push_back(vm.id);
    }
    return detail;
  }
  return std::nullopt;
}

const store::ServerGroupRow* Engine::Impl::find_group(std::string_view name_or_id) const {
  for (const auto& [id, g] : groups) {
    if (names_row(g, name_or_id)) return &g;
  }
  return nullptr;
}

std::vector<VmId> Engine::Impl::live_members(store::GroupId group) const {
  std::vector<VmId> out;
  const auto it = group_members.find(group);
  if (it == group_members.end()) return out;
  for (VmId id : it->second) {
    if (current(id).record.state != lc::State::kDone) out.push_back(id);
  }
  return out;
}

std::vector<std::string> Engine::Impl::member_hosts(store::GroupId group, VmId except) const {
  std::vector<std::string> out;
  const auto it = group_members.find(group);
  if (it == group_members.end()) return out;
  for (VmId id : it->second) {
    if (id == except) continue;
    const store::Vm& vm = current(id);
    if (vm.record.state == lc::State::kDone) continue;
    if (!vm.host.empty()) out.push_back(vm.host);
    // A member on its way to another host (migrate, flush) already counts there: two moves
    // planned in one pass must not both pick the host an anti-affinity rule forbids.
    const std::string& target = vm.op.params.target_host;
    if (vm.record.busy() && !target.empty() && target != vm.host) out.push_back(target);
  }
  return out;
}

void Engine::Impl::handle_group(internal::GroupCommand& command) {
  auto answer = [&](Result<GroupDetail> result) {
    auto promise = std::make_shared<std::promise<Result<GroupDetail>>>(std::move(command.reply));
    if (!result) {
      promise->set_value(std::move(result));
      return;
    }
    host_replies.push_back([promise, detail = std::move(*result)](const Error* error) {
      promise->set_value(error != nullptr ? Result<GroupDetail>(fail(*error)) : detail);
    });
  };
  if (command.remove) {
    const store::ServerGroupRow* g = find_group(command.name_or_id);
    if (g == nullptr) {
      answer(fail(Error::not_found("no server group " + command.name_or_id)));
      return;
    }
    std::vector<VmId> members = live_members(g->id);
    if (!members.empty()) {
      answer(fail(Error{ErrorCode::kConflict,
                        "server group " + g->name + " still has " + std::to_string(members.size()) +
                            " members: terminate them before deleting it",
                        {},
                        {}}));
      return;
    }
    GroupDetail gone{*g, {}};
    deleted_groups.push_back(g->id);
    std::erase_if(group_rows, [&](const store::ServerGroupRow& r) { return r.id == gone.row.id; });
    groups.erase(gone.row.id);
    groups_changed = true;
    answer(std::move(gone));
    return;
  }
  const GroupSpec& spec = command.spec;
  if (!valid_resource_name(spec.name)) {
    answer(fail(Error::invalid_argument(
        "a server group name is 1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a "
        "letter or digit, and not all digits")));
    return;
  }
  if (find_group(spec.name) != nullptr) {
    answer(fail(Error{ErrorCode::kConflict, "server group " + spec.name + " exists", {}, {}}));
    return;
  }
  if (spec.quota) {
    lc::QuotaUsage wanted{};
    wanted[lc::quota_index(lc::QuotaResource::kServerGroups)] = 1;
    if (std::optional<Error> over = over_quota(spec.project, *spec.quota, wanted)) {
      answer(fail(std::move(*over)));
      return;
    }
  }
  store::ServerGroupRow row{++max_group_id, spec.name, spec.policy, clock.now_ms(), spec.project};
  groups[row.id] = row;
  group_rows.push_back(row);
  groups_changed = true;
  answer(GroupDetail{row, {}});
}

}  // namespace corral::engine
