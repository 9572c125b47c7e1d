// Resource groups (Azure's; engine/resource_groups.h): put/delete through the engine's queue,
// reads from the published copy. A group belongs to one project; its name is unique there
// regardless of case, so two projects may each have a "web".
#include "engine/resource_groups.h"

#include <algorithm>
#include <cctype>

#include "engine/engine_impl.h"

namespace corral::engine {

namespace lc = corral::lifecycle;

bool valid_resource_group_name(std::string_view name) {
  if (name.empty() || name.size() > 90 || name.back() == '.') return false;
  return std::ranges::all_of(name, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '(' || c == ')' ||
           c == '-' || c == '.';
  });
}

std::optional<std::string> normalize_location(std::string_view location) {
  std::string out;
  for (const char c : location) {
    if (c == ' ') continue;
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) return std::nullopt;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (out.empty() || out.size() > 64) return std::nullopt;
  return out;
}

bool iequal_names(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

Result<ResourceGroupDetail> Engine::put_resource_group(ResourceGroupSpec spec) {
  return impl_->submit(internal::ResourceGroupCommand{false, false, std::move(spec), {}});
}

Result<ResourceGroupDetail> Engine::delete_resource_group(store::ProjectId project,
                                                          std::string name, bool with_vms) {
  ResourceGroupSpec spec;
  spec.name = std::move(name);
  spec.project = project;
  return impl_->submit(internal::ResourceGroupCommand{true, with_vms, std::move(spec), {}});
}

namespace {

std::vector<store::VmId> live_members_of(const std::vector<store::Vm>& vms,
                                         store::ResourceGroupId id) {
  std::vector<store::VmId> out;
  for (const store::Vm& vm : vms) {
    if (vm.resource_group == id && vm.record.state != lc::State::kDone) out.push_back(vm.id);
  }
  return out;
}

}  // namespace

std::vector<ResourceGroupDetail> Engine::resource_groups(
    std::optional<store::ProjectId> project) const {
  const Impl& e = *impl_;
  std::shared_lock lock(e.published_mu);
  std::map<store::ResourceGroupId, std::vector<VmId>> members;
  for (const store::Vm& vm : e.vms) {
    if (vm.resource_group != 0 && vm.record.state != lc::State::kDone) {
      members[vm.resource_group].push_back(vm.id);
    }
  }
  std::vector<ResourceGroupDetail> out;
  for (const store::ResourceGroupRow& g : e.published_resource_groups) {
    if (project && g.project != *project) continue;
    out.push_back({g, std::move(members[g.id]), false});
  }
  return out;
}

std::optional<ResourceGroupDetail> Engine::resource_group(store::ProjectId project,
                                                          std::string_view name) const {
  const Impl& e = *impl_;
  std::shared_lock lock(e.published_mu);
  for (const store::ResourceGroupRow& g : e.published_resource_groups) {
    if (g.project != project || !iequal_names(g.name, name)) continue;
    return ResourceGroupDetail{g, live_members_of(e.vms, g.id), false};
  }
  return std::nullopt;
}

const store::ResourceGroupRow* Engine::Impl::find_resource_group(std::string_view name,
                                                                 store::ProjectId project) const {
  for (const auto& [id, g] : resource_groups) {
    if (g.project == project && iequal_names(g.name, name)) return &g;
  }
  return nullptr;
}

std::vector<VmId> Engine::Impl::live_resource_group_members(store::ResourceGroupId group) const {
  std::vector<VmId> out;
  const auto it = resource_group_members.find(group);
  if (it == resource_group_members.end()) return out;
  for (VmId vm : it->second) {
    if (current(vm).record.state != lc::State::kDone) out.push_back(vm);
  }
  return out;
}

void Engine::Impl::handle_resource_group(internal::ResourceGroupCommand& command) {
  auto answer = [&](Result<ResourceGroupDetail> result) {
    auto promise =
        std::make_shared<std::promise<Result<ResourceGroupDetail>>>(std::move(command.reply));
    if (!result) {
      promise->set_value(std::move(result));
      return;
    }
    host_replies.emplace_back([promise, detail = std::move(*result)](const Error* error) {
      promise->set_value(error != nullptr ? Result<ResourceGroupDetail>(fail(*error)) : detail);
    });
  };
  const ResourceGroupSpec& spec = command.spec;
  const store::ResourceGroupRow* found = find_resource_group(spec.name, spec.project);
  if (command.remove) {
    if (found == nullptr) {
      answer(fail(Error::not_found("no resource group " + spec.name)));
      return;
    }
    const std::vector<VmId> members = live_resource_group_members(found->id);
    if (members.empty()) {
      ResourceGroupDetail gone{*found, {}, false};
      erase_resource_group(gone.row.id);
      answer(std::move(gone));
      return;
    }
    if (!command.with_vms && !found->deleting) {
      answer(fail(Error{ErrorCode::kConflict,
                        "resource group " + found->name + " still has " +
                            std::to_string(members.size()) +
                            " VMs: delete them first, or delete the group with its VMs",
                        {},
                        {}}));
      return;
    }
    // All or nothing: a locked VM keeps the whole group (Azure's ScopeLocked).
    for (const VmId id : members) {
      const store::Vm& vm = current(id);
      if (vm.locked_by != lc::LockedBy::kNone) {
        answer(fail(Error{ErrorCode::kLocked,
                          "resource group " + found->name + " holds VM " + std::to_string(id) +
                              ", which is locked: unlock it to delete the group",
                          {},
                          {}}));
        return;
      }
    }
    store::ResourceGroupRow row = *found;
    if (!row.deleting) {
      row.deleting = true;
      row.updated_at = clock.now_ms();
      resource_groups[row.id] = row;
      resource_group_rows.push_back(row);
      resource_groups_changed = true;
    }
    // Each VM as a delete of it would be (its history says why). The table decides: one
    // already being deleted hard refuses it and is left to finish (the refusal is dropped);
    // any other operation, a graceful terminate too, is cut short, as by any hard delete.
    for (const VmId id : members) {
      internal::ActionCommand terminate;
      terminate.request.vm = id;
      terminate.request.action = lc::Action::kTerminateHard;
      terminate.request.actor = "resource-group-delete";
      handle_action(terminate);
    }
    answer(ResourceGroupDetail{row, members, false});
    return;
  }
  if (!valid_resource_group_name(spec.name)) {
    answer(fail(Error::invalid_argument(
        "a resource group name is 1-90 characters of letters, digits, '_', '(', ')', '-' and "
        "'.', not ending in '.'")));
    return;
  }
  std::optional<std::string> location;
  if (!spec.location.empty()) {
    location = normalize_location(spec.location);
    if (!location) {
      answer(
          fail(Error::invalid_argument("a location is 1-64 letters and digits (spaces are "
                                       "dropped): '" +
                                       spec.location + "' is not one")));
      return;
    }
  }
  const Millis now = clock.now_ms();
  if (found != nullptr && found->deleting) {
    answer(fail(Error{ErrorCode::kConflict,
                      "resource group " + found->name + " is being deleted with its VMs",
                      {},
                      {}}));
    return;
  }
  if (found != nullptr) {
    if (location && *location != found->location) {
      answer(fail(Error{ErrorCode::kConflict,
                        "resource group " + found->name + " exists in location " + found->location +
                            ", not " + *location,
                        {},
                        {}}));
      return;
    }
    store::ResourceGroupRow row = *found;
    row.tags = spec.tags;
    row.updated_at = now;
    resource_groups[row.id] = row;
    resource_group_rows.push_back(row);
    resource_groups_changed = true;
    answer(ResourceGroupDetail{row, live_resource_group_members(row.id), false});
    return;
  }
  if (!location) {
    answer(fail(Error::invalid_argument("a new resource group needs a location")));
    return;
  }
  store::ResourceGroupRow row;
  row.id = ++max_resource_group_id;
  row.name = spec.name;
  row.location = *location;
  row.tags = spec.tags;
  row.created_at = row.updated_at = now;
  row.project = spec.project;
  resource_groups[row.id] = row;
  resource_group_rows.push_back(row);
  resource_groups_changed = true;
  answer(ResourceGroupDetail{row, {}, true});
}

void Engine::Impl::erase_resource_group(store::ResourceGroupId id) {
  deleted_resource_groups.push_back(id);
  std::erase_if(resource_group_rows, [&](const store::ResourceGroupRow& r) { return r.id == id; });
  resource_groups.erase(id);
  resource_groups_changed = true;
}

void Engine::Impl::resource_group_member_done(store::ResourceGroupId id) {
  const auto it = resource_groups.find(id);
  if (it == resource_groups.end() || !it->second.deleting) return;
  if (live_resource_group_members(id).empty()) erase_resource_group(id);
}

void Engine::Impl::load_resource_groups(const store::Loaded& loaded) {
  for (const store::ResourceGroupRow& g : loaded.resource_groups) {
    resource_groups[g.id] = g;
    max_resource_group_id = std::max(max_resource_group_id, g.id);
  }
  for (const store::Vm& vm : vms) {
    if (vm.resource_group == 0) continue;
    resource_group_members[vm.resource_group].insert(vm.id);
    // A deleted group's id stays taken: its (DONE) VMs still name it.
    max_resource_group_id = std::max(max_resource_group_id, vm.resource_group);
  }
  publish_resource_groups();
}

void Engine::Impl::publish_resource_groups() {
  published_resource_groups.clear();
  for (const auto& [id, row] : resource_groups) published_resource_groups.push_back(row);
  resource_groups_changed = false;
}

void Engine::Impl::rollback_resource_groups() {
  // max_resource_group_id stays: an id handed out in a failed batch is skipped, never reused.
  resource_groups.clear();
  for (const store::ResourceGroupRow& g : published_resource_groups) resource_groups[g.id] = g;
  for (auto& [group, members] : resource_group_members) {  // creates that were not committed
    std::erase_if(members, [&](VmId id) { return id > max_vm_id; });
  }
  resource_group_rows.clear();
  deleted_resource_groups.clear();
  resource_groups_changed = false;
}

}  // namespace corral::engine
