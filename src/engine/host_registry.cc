// Host rows: registration of local hosts, `corral host add`, operator actions through
// lifecycle/host_table, and what reads see (hosts.h). Engine thread only, except the reads
// (detail_of on published state).
#include <fmt/core.h>

#include <algorithm>

#include "engine/engine_impl.h"

namespace corral::engine {

namespace lc = corral::lifecycle;
using lc::HostEvent;
using lc::HostState;

namespace {

// [a-z0-9][a-z0-9._-]{0,62}: a DNS-ish label, safe in paths, certificates' CN and URLs.
bool valid_host_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto plain = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!plain(name.front())) return false;
  return std::ranges::all_of(name,
                             [&](char c) { return plain(c) || c == '.' || c == '_' || c == '-'; });
}

bool enabled_in(HostState state) {
  switch (state) {
    case HostState::kInit:
    case HostState::kMonitored:
    case HostState::kError:
      return true;
    case HostState::kDisabled:
    case HostState::kOffline:
      return false;
  }
  return true;
}

}  // namespace

internal::HostSlot* Engine::Impl::find_host(std::string_view name) {
  const auto it = host_index.find(std::string(name));
  return it == host_index.end() ? nullptr : &hosts[it->second];
}

// Index, scheduler view and use, rebuilt from `hosts` and the VMs (after a removal or a
// rolled-back batch): use is recounted from the committed VMs.
void Engine::Impl::rebuild_host_index() {
  host_index.clear();
  sched_view.clear();
  vms_on_host.clear();
  source_claims.clear();
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    host_index.emplace(hosts[i].row.name, i);
    hosts[i].used_vcpus = 0;
    hosts[i].used_memory_mib = 0;
    hosts[i].vms = 0;
  }
  sched_view.resize(hosts.size());
  for (std::size_t i = 0; i < hosts.size(); ++i) refresh_host(i);
  for (const store::Vm& vm : vms) account(vm);
  for (const auto& [id, vm] : working) {
    unaccount(vms.size() >= static_cast<std::size_t>(id) ? vms[static_cast<std::size_t>(id - 1)]
                                                         : vm);
    account(vm);
  }
  hosts_changed = true;
  schedule_needed = true;
}

Status Engine::Impl::init_hosts() {
  Result<std::vector<store::HostRow>> rows = store.load_hosts();
  if (!rows) return std::unexpected(rows.error());
  hosts.clear();
  const Millis now = clock.now_ms();
  std::map<std::string, std::shared_ptr<internal::HostLiveness>, std::less<>> fresh;
  for (store::HostRow& row : *rows) {
    max_host_id = std::max(max_host_id, row.id);
    internal::HostSlot slot;
    slot.row = std::move(row);
    slot.live = std::make_shared<internal::HostLiveness>();
    slot.live->epoch = static_cast<std::uint64_t>(slot.row.epoch);
    // Silent since before the restart: evacuation counts from the engine's start.
    if (slot.row.state == HostState::kError) slot.down_at = now;
    hosts.push_back(std::move(slot));
  }
  for (const driver::HostInfo& info : driver.hosts()) {
    auto it = std::ranges::find(hosts, info.name, [](const auto& h) { return h.row.name; });
    if (it == hosts.end()) {
      internal::HostSlot slot;
      slot.row.name = info.name;
      slot.row.id = ++max_host_id;
      slot.row.state = HostState::kMonitored;
      // The machine Corral runs on is not overcommitted: ratios 1.0 (the row's default).
      slot.row.created_at = now;
      slot.live = std::make_shared<internal::HostLiveness>();
      hosts.push_back(std::move(slot));
      it = hosts.end() - 1;
    }
    internal::HostSlot& slot = *it;
    slot.local = true;
    slot.down_at = 0;
    slot.row.capacity = {info.vcpus, info.memory_mib};
    slot.row.agent_version = "local";
    // Local hosts are always heard: only an operator's disable/offline/force_down stands.
    if (slot.row.state == HostState::kInit || slot.row.state == HostState::kError) {
      if (!slot.row.forced_down) slot.row.state = HostState::kMonitored;
    }
    slot.live->connected = true;
    slot.live->last_heard = now;
    slot.row.updated_at = now;
    host_rows.push_back(slot.row);
  }
  for (internal::HostSlot& slot : hosts) {
    slot.info = {slot.row.name, slot.row.capacity.vcpus,
                 static_cast<int>(slot.row.capacity.memory_mib)};
    fresh.emplace(slot.row.name, slot.live);
  }
  {
    std::unique_lock lock(live_mu);
    live = std::move(fresh);
  }
  rebuild_host_index();
  return {};
}

void Engine::Impl::commit_host(internal::HostSlot& slot) {
  const Millis now = clock.now_ms();
  slot.row.updated_at = now;
  slot.row.enabled = enabled_in(slot.row.state);
  slot.row.generation = static_cast<std::int64_t>(slot.generation);
  if (slot.live && slot.live->last_heard > 0 && !slot.local) {
    slot.row.last_heartbeat_at = slot.live->last_heard;
  }
  slot.info = {slot.row.name, slot.row.capacity.vcpus,
               static_cast<int>(slot.row.capacity.memory_mib)};
  host_rows.push_back(slot.row);
  if (const auto it = host_index.find(slot.row.name); it != host_index.end()) {
    refresh_host(it->second);
  }
  schedule_needed = true;
}

Result<lc::HostStep> Engine::Impl::host_event(internal::HostSlot& slot, HostEvent event,
                                              const std::string& actor, const std::string& reason) {
  const auto on = vms_on_host.find(slot.row.name);
  const int count = on == vms_on_host.end() ? 0 : static_cast<int>(on->second.size());
  const lc::HostRecord before{slot.row.state, slot.row.forced_down};
  Result<lc::HostStep> step = lc::apply_host_event(before, event, count);
  if (!step) return step;
  if (!step->removed) {
    slot.row.state = step->record.state;
    slot.row.forced_down = step->record.forced_down;
    if (event == HostEvent::kDisable || event == HostEvent::kFlush)
      slot.row.disabled_reason = reason;
    if (event == HostEvent::kEnable) slot.row.disabled_reason.clear();
    commit_host(slot);
  }
  host_changes.push_back({slot.row.name, event, before.state,
                          step->removed ? before.state : step->record.state, step->removed, actor,
                          reason, clock.now_ms()});
  return step;
}

void Engine::Impl::remove_host(const std::string& name) {
  const auto it = host_index.find(name);
  if (it == host_index.end()) return;
  hosts.erase(hosts.begin() + static_cast<std::ptrdiff_t>(it->second));
  deleted_hosts.push_back(name);
  std::erase_if(host_rows, [&](const store::HostRow& r) { return r.name == name; });
  {
    std::unique_lock lock(live_mu);
    live.erase(name);
  }
  rebuild_host_index();
}

bool Engine::Impl::host_up(const internal::HostSlot& slot, Millis now) const {
  if (slot.row.forced_down) return false;
  if (slot.local) return true;
  if (slot.row.state == HostState::kOffline) return false;
  const Millis last = slot.live ? slot.live->last_heard.load() : 0;
  return last > 0 && now - last <= options.hosts.down_timeout_ms;
}

HostDetail Engine::Impl::detail_of(const internal::HostSlot& slot, std::vector<VmId> vm_ids) const {
  HostDetail d;
  d.row = slot.row;
  d.local = slot.local;
  d.connected = slot.local || (slot.live && slot.live->connected.load());
  d.up = host_up(slot, clock.now_ms());
  d.used_vcpus = slot.used_vcpus;
  d.used_memory_mib = slot.used_memory_mib;
  d.vms = std::move(vm_ids);
  if (slot.live) {
    d.metrics = slot.live->read_metrics();
    if (!slot.local && slot.live->last_heard > 0) d.row.last_heartbeat_at = slot.live->last_heard;
  }
  d.allowed_actions = lc::allowed_host_actions({slot.row.state, slot.row.forced_down});
  // Callers hold published_mu, which guards the published errors.
  if (const auto it = published_firewall_errors.find(slot.row.name);
      it != published_firewall_errors.end()) {
    d.firewall_error = it->second;
  }
  return d;
}

void Engine::Impl::reply_host(std::promise<Result<HostDetail>>&& promise, const std::string& name,
                              std::optional<Error> error) {
  auto shared = std::make_shared<std::promise<Result<HostDetail>>>(std::move(promise));
  if (error) {
    host_replies.push_back(
        [shared, e = std::move(*error)](const Error*) { shared->set_value(fail(e)); });
    return;
  }
  // A deleted host is answered with what it was.
  std::optional<HostDetail> removed;
  if (internal::HostSlot* slot = find_host(name); slot == nullptr) {
    removed = HostDetail{};
    removed->row.name = name;
  }
  host_replies.push_back([this, shared, name, removed](const Error* failed) {
    if (failed != nullptr) {
      shared->set_value(fail(*failed));
      return;
    }
    if (removed) {
      shared->set_value(*removed);
      return;
    }
    // Called on the engine thread after the commit: the published state has the change.
    std::shared_lock lock(published_mu);
    for (const internal::HostSlot& slot : published_hosts) {
      if (slot.row.name != name) continue;
      std::vector<VmId> ids;
      if (const auto it = vms_on_host.find(name); it != vms_on_host.end()) {
        ids.assign(it->second.begin(), it->second.end());
      }
      shared->set_value(detail_of(slot, std::move(ids)));
      return;
    }
    shared->set_value(fail(Error::not_found("no host named " + name)));
  });
}

void Engine::Impl::handle_add_host(internal::AddHostCommand& command) {
  HostSpec& spec = command.spec;
  auto refuse = [&](Error e) { reply_host(std::move(command.reply), spec.name, std::move(e)); };
  if (!valid_host_name(spec.name)) {
    refuse(
        Error::invalid_argument("host name \"" + spec.name +
                                "\" is not valid: 1-63 characters of a-z, 0-9, '.', '_' and '-', "
                                "starting with a letter or digit"));
    return;
  }
  if (spec.cpu_allocation_ratio < 0 || spec.ram_allocation_ratio < 0) {
    refuse(Error::invalid_argument("allocation ratios must be positive (0: the default)"));
    return;
  }
  if (find_host(spec.name) != nullptr) {
    refuse(Error{ErrorCode::kConflict, "a host named " + spec.name + " already exists", {}, {}});
    return;
  }
  const Millis now = clock.now_ms();
  internal::HostSlot slot;
  slot.row.name = spec.name;
  slot.row.id = ++max_host_id;
  slot.row.state = HostState::kInit;
  slot.row.labels = std::move(spec.labels);
  slot.row.reserved = spec.reserved;
  slot.row.cpu_allocation_ratio =
      spec.cpu_allocation_ratio > 0 ? spec.cpu_allocation_ratio : sched::kDefaultCpuAllocationRatio;
  slot.row.ram_allocation_ratio =
      spec.ram_allocation_ratio > 0 ? spec.ram_allocation_ratio : sched::kDefaultRamAllocationRatio;
  slot.row.created_at = now;
  slot.live = std::make_shared<internal::HostLiveness>();
  {
    std::unique_lock lock(live_mu);
    live[spec.name] = slot.live;
  }
  host_index.emplace(spec.name, hosts.size());
  hosts.push_back(std::move(slot));
  sched_view.resize(hosts.size());
  commit_host(hosts.back());
  host_changes.push_back({spec.name, HostEvent::kEnable, HostState::kInit, HostState::kInit, false,
                          spec.actor, "added", now});
  reply_host(std::move(command.reply), spec.name, std::nullopt);
}

void Engine::Impl::handle_host_action(internal::HostActionCommand& command) {
  const HostActionRequest& request = command.request;
  internal::HostSlot* slot = find_host(request.host);
  auto refuse = [&](Error e) { reply_host(std::move(command.reply), request.host, std::move(e)); };
  if (slot == nullptr) {
    refuse(Error::not_found("no host named " + request.host));
    return;
  }
  if (!lc::is_operator_action(request.event)) {
    refuse(Error::invalid_argument(std::string(lc::host_event_name(request.event)) +
                                   " is a monitor event, not an operator action"));
    return;
  }
  if (slot->local && request.event == HostEvent::kDelete) {
    refuse(Error{
        ErrorCode::kConflict,
        "host " + request.host + " is served by this server's own driver: it cannot be deleted",
        {},
        {}});
    return;
  }
  const std::string name = slot->row.name;
  Result<lc::HostStep> step = host_event(*slot, request.event, request.actor, request.reason);
  if (!step) {
    refuse(std::move(step.error()));
    return;
  }
  if (step->removed) {
    remove_host(name);
  } else {
    switch (step->vms) {
      case lc::HostVmEffect::kNone:
      case lc::HostVmEffect::kRequireNone:
        break;
      case lc::HostVmEffect::kRunningToUnknown:
        vms_lost(*slot, "host " + name + " was forced down by " + request.actor);
        break;
      case lc::HostVmEffect::kMoveAway:
        move_away(*slot);
        break;
    }
  }
  reply_host(std::move(command.reply), name, std::nullopt);
}

}  // namespace corral::engine
