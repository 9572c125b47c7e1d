// Quotas (lifecycle/quota_table.h): a project's use counted from its VMs' states, and the
// check a create or an action passes before the engine accepts it. Engine thread only, but
// for Engine::project_usage (committed state, under the shared lock).
//
// Why here: the engine applies commands one at a time, so a count taken while one command is
// applied and the VM the command adds are one atomic step — 64 concurrent creates against a
// quota of 10 make 10, whatever the batching (Nova needed recheck_quota for that). The count
// includes the batch not yet committed (current()), and nothing is stored, so a crash leaves
// nothing to reconcile.
#include <fmt/format.h>

#include <algorithm>

#include "engine/engine_impl.h"
#include "lifecycle/model.h"
#include "lifecycle/quota_table.h"
#include "lifecycle/table.h"

namespace corral::engine {

namespace lc = corral::lifecycle;
using lc::QuotaResource;

namespace {

// The size a VM asked for while it differs from its own, or null.
const store::VmModel* desired_of(const store::Vm& vm) {
  return vm.desired ? &*vm.desired : nullptr;
}

// What one VM in `state` with `model` (and `nics` NICs) uses.
lc::QuotaUsage vm_use(lc::State state, const store::VmModel& model, const store::VmModel* desired,
                      std::size_t nics) {
  lc::QuotaUsage u{};
  if (!lc::kQuotaTotalStates.contains(state)) return u;
  // While a resize waits for its confirm, both sizes are held (Nova's VERIFY_RESIZE counts
  // the larger).
  const std::int64_t vcpus = std::max(model.vcpus, desired ? desired->vcpus : 0);
  const std::int64_t memory = std::max(model.memory_mib, desired ? desired->memory_mib : 0);
  u[lc::quota_index(QuotaResource::kVms)] = 1;
  u[lc::quota_index(QuotaResource::kVcpus)] = vcpus;
  u[lc::quota_index(QuotaResource::kMemoryMib)] = memory;
  u[lc::quota_index(QuotaResource::kAddresses)] = static_cast<std::int64_t>(nics);
  if (lc::kQuotaRunningStates.contains(state)) {
    u[lc::quota_index(QuotaResource::kRunningVms)] = 1;
    u[lc::quota_index(QuotaResource::kRunningVcpus)] = vcpus;
    u[lc::quota_index(QuotaResource::kRunningMemoryMib)] = memory;
  }
  return u;
}

void add(lc::QuotaUsage& into, const lc::QuotaUsage& more) {
  for (std::size_t i = 0; i < into.size(); ++i) into[i] += more[i];
}

// What one volume uses until it is gone: itself, and its size with its snapshots' (Cinder's
// "gigabytes" counts both).
void add_volume(lc::QuotaUsage& into, const store::VolumeRow& v) {
  std::uint64_t mib = v.size_mib;
  for (const store::VolumeSnapshot& s : v.snapshots) mib += s.size_mib;
  into[lc::quota_index(QuotaResource::kVolumes)] += 1;
  into[lc::quota_index(QuotaResource::kVolumeMib)] += static_cast<std::int64_t>(mib);
}

// One server group with `members` VMs not DONE: itself, and its members if it is the
// fullest so far (server_group_members is a limit per group: the use shown is the fullest
// group's).
void add_group(lc::QuotaUsage& into, std::int64_t members) {
  into[lc::quota_index(QuotaResource::kServerGroups)] += 1;
  std::int64_t& fullest = into[lc::quota_index(QuotaResource::kServerGroupMembers)];
  fullest = std::max(fullest, members);
}

}  // namespace

lc::QuotaUsage Engine::Impl::usage_of(store::ProjectId project) const {
  lc::QuotaUsage usage{};
  for (VmId id = 1; id <= max_vm_id; ++id) {
    if (!exists(id)) continue;
    const store::Vm& vm = current(id);
    if (vm.project == project)
      add(usage, vm_use(vm.record.state, vm.model, desired_of(vm), vm.nics.size()));
  }
  for (const auto& [id, v] : volumes) {
    if (v.project == project) add_volume(usage, v);
  }
  for (const auto& [id, g] : groups) {
    if (g.project == project) {
      add_group(usage, static_cast<std::int64_t>(live_members(id).size()));
    }
  }
  return usage;
}

std::optional<Error> Engine::Impl::over_group_members(store::GroupId group,
                                                      const lc::QuotaLimits& limits) const {
  const std::size_t i = lc::quota_index(QuotaResource::kServerGroupMembers);
  const auto members = static_cast<std::int64_t>(live_members(group).size());
  if (limits[i] == lc::kUnlimited || members + 1 <= limits[i]) return std::nullopt;
  const lc::QuotaResourceRow& row = lc::quota_resource(QuotaResource::kServerGroupMembers);
  Error error{ErrorCode::kQuotaExceeded,
              fmt::format("quota exceeded for {}: requested 1, but the group already has {} of {}",
                          row.name, members, limits[i]),
              {},
              {}};
  error.quota = Error::Quota{std::string(row.name), 1, members, limits[i]};
  return error;
}

std::optional<Error> Engine::Impl::over_quota(store::ProjectId project,
                                              const lc::QuotaLimits& limits,
                                              const lc::QuotaUsage& requested) const {
  const lc::QuotaUsage used = usage_of(project);
  for (const lc::QuotaResourceRow& row : lc::kQuotaResources) {
    const std::size_t i = lc::quota_index(row.resource);
    if (requested[i] <= 0 || limits[i] == lc::kUnlimited) continue;
    if (used[i] + requested[i] > limits[i]) {
      Error error{ErrorCode::kQuotaExceeded,
                  fmt::format("quota exceeded for {}: requested {}, but already used {} of {}",
                              row.name, requested[i], used[i], limits[i]),
                  {},
                  {}};
      error.quota = Error::Quota{std::string(row.name), requested[i], used[i], limits[i]};
      return error;
    }
  }
  return std::nullopt;
}

lc::QuotaUsage Engine::Impl::create_use(const CreateRequest& request) {
  return vm_use(lc::State::kPending, request.model, nullptr, request.networks.size());
}

lc::QuotaUsage Engine::Impl::action_use(const store::Vm& vm, const ActionRequest& request) {
  // The state the action leads to when it succeeds (a meta row, or one whose end depends on
  // power, keeps the VM where it counts now).
  lc::State to = vm.record.state;
  if (const lc::Transition* row = lc::allowed_row(vm.record, request.action);
      row != nullptr && row->target == lc::Target::kState) {
    to = row->to;
  }
  const store::VmModel* model = request.model ? &*request.model : desired_of(vm);
  std::size_t nics = vm.nics.size();
  if (request.action == lc::Action::kNicAttach) ++nics;
  const lc::QuotaUsage before = vm_use(vm.record.state, vm.model, desired_of(vm), vm.nics.size());
  lc::QuotaUsage after = vm_use(to, vm.model, model, nics);
  for (std::size_t i = 0; i < after.size(); ++i) after[i] -= before[i];
  return after;
}

lc::QuotaUsage Engine::project_usage(store::ProjectId project) const {
  lc::QuotaUsage usage{};
  std::shared_lock lock(impl_->published_mu);
  for (const store::Vm& vm : impl_->vms) {
    if (vm.project == project)
      add(usage, vm_use(vm.record.state, vm.model, desired_of(vm), vm.nics.size()));
  }
  for (const store::VolumeRow& v : impl_->published_volumes) {
    if (v.project == project) add_volume(usage, v);
  }
  for (const store::ServerGroupRow& g : impl_->published_groups) {
    if (g.project != project) continue;
    const auto members = std::ranges::count_if(impl_->vms, [&](const store::Vm& vm) {
      return vm.group == g.id && vm.record.state != lc::State::kDone;
    });
    add_group(usage, static_cast<std::int64_t>(members));
  }
  return usage;
}

}  // namespace corral::engine
