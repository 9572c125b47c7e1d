// Security groups (docs/security-groups.md): create/delete/rules through the engine's queue,
// the groups each NIC lists, and each host's whole firewall sent to the fabric after every
// commit that changes a group's rules, a NIC's groups, or where a NIC runs.
#include <algorithm>
#include <cstdio>

#include "engine/engine_impl.h"
#include "engine/names.h"
#include "net/ipv4.h"

namespace corral::engine {

namespace lc = corral::lifecycle;

// ---- Conversions (security_groups.h) -------------------------------------------------------

Result<net::SecurityGroupRule> rule_of(const store::SecurityGroupRuleRow& row) {
  // The stable numbers of net/security_group.h.
  if (row.direction < 1 || row.direction > 2) {
    return fail(Error::internal("rule " + std::to_string(row.id) + ": unknown direction " +
                                std::to_string(row.direction)));
  }
  if (row.protocol < 1 || row.protocol > 4) {
    return fail(Error::internal("rule " + std::to_string(row.id) + ": unknown protocol " +
                                std::to_string(row.protocol)));
  }
  net::SecurityGroupRule rule;
  rule.direction = static_cast<net::RuleDirection>(row.direction);
  rule.protocol = static_cast<net::RuleProtocol>(row.protocol);
  if (!row.ports.empty()) {
    Result<std::vector<net::PortRange>> ports = net::parse_port_ranges(row.ports);
    if (!ports) return fail(Error::internal("rule ports: " + ports.error().message));
    rule.ports = std::move(*ports);
  }
  if (!row.remote.empty()) {
    Result<net::Cidr> remote = net::parse_remote_prefix(row.remote);
    if (!remote) return fail(Error::internal("rule remote: " + remote.error().message));
    rule.remote = *remote;
  }
  return rule;
}

store::SecurityGroupRuleRow row_of(const RuleSpec& spec) {
  const net::SecurityGroupRule& r = spec.rule;
  return {0,
          static_cast<std::uint8_t>(r.direction),
          static_cast<std::uint8_t>(r.protocol),
          net::format_port_ranges(r.ports),
          r.remote ? r.remote->to_string() : std::string(),
          spec.remote_own_network};
}

std::vector<RuleSpec> default_group_rule_specs() {
  net::SecurityGroupRule egress{net::RuleDirection::kEgress, net::RuleProtocol::kAll, {}, {}};
  net::SecurityGroupRule ingress{net::RuleDirection::kIngress, net::RuleProtocol::kAll, {}, {}};
  return {{egress, false}, {ingress, true}};
}

store::SecurityGroupRow default_group_row(store::SecurityGroupId id, store::ProjectId project,
                                          Millis now) {
  store::SecurityGroupRow row;
  row.id = id;
  row.name = kDefaultSecurityGroup;
  row.description = "Neutron's default group: all egress, ingress from the NIC's own network";
  row.created_at = now;
  row.updated_at = now;
  row.project = project;
  for (const RuleSpec& spec : default_group_rule_specs()) {
    store::SecurityGroupRuleRow rule = row_of(spec);
    rule.id = row.next_rule_id++;
    row.rules.push_back(std::move(rule));
  }
  return row;
}

// ---- Public API ---------------------------------------------------------------------------

Result<SecurityGroupDetail> Engine::security_group_request(SecurityGroupRequest request) {
  return impl_->submit(internal::SecurityGroupCommand{std::move(request), {}});
}

namespace {

// The NICs (of VMs not DONE) that list `id`, by (vm, nic).
std::vector<SecurityGroupMember> members_of(const std::vector<store::Vm>& vms,
                                            store::SecurityGroupId id) {
  std::vector<SecurityGroupMember> out;
  for (const store::Vm& vm : vms) {
    if (vm.record.state == lc::State::kDone) continue;
    for (const store::Nic& nic : vm.nics) {
      if (std::ranges::find(nic.security_groups, id) != nic.security_groups.end()) {
        out.push_back({vm.id, nic.index});
      }
    }
  }
  return out;
}

}  // namespace

std::vector<SecurityGroupDetail> Engine::security_groups() const {
  std::shared_lock lock(impl_->published_mu);
  std::vector<SecurityGroupDetail> out;
  for (const store::SecurityGroupRow& row : impl_->published_security_groups) {
    out.push_back({row, members_of(impl_->vms, row.id), 0});
  }
  return out;
}

std::optional<SecurityGroupDetail> Engine::security_group(std::string_view name_or_id,
                                                          store::ProjectId project) const {
  std::shared_lock lock(impl_->published_mu);
  const bool by_id = id_of(name_or_id).has_value();
  for (const store::SecurityGroupRow& row : impl_->published_security_groups) {
    if (names_row(row, name_or_id) && (by_id || row.project == project)) {
      return SecurityGroupDetail{row, members_of(impl_->vms, row.id), 0};
    }
  }
  return std::nullopt;
}

std::map<std::string, std::string> Engine::firewall_errors() const {
  std::shared_lock lock(impl_->published_mu);
  return impl_->published_firewall_errors;
}

void Engine::firewall_done(driver::FirewallDone done) { impl_->enqueue(std::move(done)); }

// ---- Engine thread ------------------------------------------------------------------------
// (find_security_group, ensure_default_group and security_group_ids: ownership.cc)

void Engine::Impl::touch_security_group(store::SecurityGroupRow& row) {
  row.updated_at = clock.now_ms();
  std::erase_if(security_group_rows,
                [&](const store::SecurityGroupRow& r) { return r.id == row.id; });
  security_group_rows.push_back(row);
  security_groups_changed = true;
}

namespace {

Status check_rules(const std::vector<RuleSpec>& rules) {
  if (rules.size() > kMaxRulesPerGroup) {
    return fail(Error::invalid_argument("a security group has at most " +
                                        std::to_string(kMaxRulesPerGroup) + " rules"));
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (Status ok = net::validate(rules[i].rule); !ok) {
      return fail(
          Error::invalid_argument("rules[" + std::to_string(i) + "]: " + ok.error().message));
    }
    if (rules[i].remote_own_network && rules[i].rule.remote) {
      return fail(Error::invalid_argument("rules[" + std::to_string(i) +
                                          "]: a rule of the own network has no remote"));
    }
  }
  return {};
}

}  // namespace

void Engine::Impl::handle_security_group(internal::SecurityGroupCommand& command) {
  auto promise =
      std::make_shared<std::promise<Result<SecurityGroupDetail>>>(std::move(command.reply));
  auto answer = [&](Result<SecurityGroupDetail> result) {
    if (!result) {
      promise->set_value(std::move(result));
      return;
    }
    host_replies.push_back([promise, detail = std::move(*result)](const Error* error) {
      promise->set_value(error != nullptr ? Result<SecurityGroupDetail>(fail(*error)) : detail);
    });
  };
  SecurityGroupRequest& request = command.request;
  if (request.op == SecurityGroupOp::kSetNicGroups) {
    answer(set_nic_groups(request));
    return;
  }
  if (request.op == SecurityGroupOp::kEnsureDefault) {
    const store::SecurityGroupId id = ensure_default_group(request.project);
    answer(SecurityGroupDetail{security_groups.at(id), {}, 0});
    return;
  }
  if (request.op == SecurityGroupOp::kCreate) {
    if (!valid_resource_name(request.name)) {
      answer(fail(Error::invalid_argument(
          "a security group name is 1-63 characters of a-z, 0-9, '.', '_' and '-', starting "
          "with a letter or digit, and not all digits")));
      return;
    }
    if (request.description.size() > 1024) {
      answer(fail(Error::invalid_argument("a description is at most 1024 bytes")));
      return;
    }
    if (Status ok = check_rules(request.rules); !ok) {
      answer(fail(std::move(ok.error())));
      return;
    }
    // The project's "default" first: the name is never a user group's (Neutron's too).
    ensure_default_group(request.project);
    if (find_security_group(request.name, request.project) != nullptr) {
      answer(
          fail(Error{ErrorCode::kConflict, "security group " + request.name + " exists", {}, {}}));
      return;
    }
    const Millis now = clock.now_ms();
    store::SecurityGroupRow row{
        ++max_security_group_id, request.name, request.description, {}, 1, now, now,
        request.project};
    for (const RuleSpec& spec : request.rules) {
      store::SecurityGroupRuleRow rule = row_of(spec);
      rule.id = row.next_rule_id++;
      row.rules.push_back(std::move(rule));
    }
    security_groups[row.id] = row;
    touch_security_group(security_groups[row.id]);
    answer(SecurityGroupDetail{security_groups[row.id], {}, 0});
    return;
  }
  const store::SecurityGroupRow* found = find_security_group(request.name_or_id, request.project);
  if (found == nullptr) {
    answer(fail(Error::not_found("no security group " + request.name_or_id)));
    return;
  }
  store::SecurityGroupRow& row = security_groups.at(found->id);
  std::int64_t added = 0;
  switch (request.op) {
    case SecurityGroupOp::kCreate:
    case SecurityGroupOp::kSetNicGroups:
    case SecurityGroupOp::kEnsureDefault:
      return;  // handled above
    case SecurityGroupOp::kDelete: {
      // Every project's "default" stays: its NICs made without groups are in it.
      if (row.name == kDefaultSecurityGroup) {
        answer(fail(
            Error{ErrorCode::kConflict, "the default security group cannot be deleted", {}, {}}));
        return;
      }
      // Working copies first: a NIC added in this batch counts.
      std::size_t listed = 0;
      for (const store::Vm& committed : vms) {
        const store::Vm& vm = current(committed.id);
        if (vm.record.state == lc::State::kDone) continue;
        for (const store::Nic& nic : vm.nics) {
          listed += std::ranges::count(nic.security_groups, row.id);
        }
        if (vm.record.busy() && vm.op.params.nic) {
          listed += std::ranges::count(vm.op.params.nic->security_groups, row.id);
        }
      }
      for (const auto& [id, vm] : working) {
        if (static_cast<std::size_t>(id) > vms.size()) {
          for (const store::Nic& nic : vm.nics) {
            listed += std::ranges::count(nic.security_groups, row.id);
          }
        }
      }
      if (listed != 0) {
        answer(fail(Error{ErrorCode::kConflict,
                          "security group " + row.name + " is listed by " + std::to_string(listed) +
                              " NICs: detach them or terminate their VMs first",
                          {},
                          {}}));
        return;
      }
      SecurityGroupDetail gone{row, {}, 0};
      deleted_security_groups.push_back(row.id);
      std::erase_if(security_group_rows,
                    [&](const store::SecurityGroupRow& r) { return r.id == row.id; });
      security_groups.erase(row.id);
      security_groups_changed = true;
      answer(std::move(gone));
      return;
    }
    case SecurityGroupOp::kSetRules:
    case SecurityGroupOp::kAddRule: {
      const bool add = request.op == SecurityGroupOp::kAddRule;
      if (add && request.rules.size() != 1) {
        answer(fail(Error::invalid_argument("add a rule: exactly one rule")));
        return;
      }
      if (Status ok = check_rules(request.rules); !ok) {
        answer(fail(std::move(ok.error())));
        return;
      }
      if (add && row.rules.size() + 1 > kMaxRulesPerGroup) {
        answer(fail(Error::invalid_argument("a security group has at most " +
                                            std::to_string(kMaxRulesPerGroup) + " rules")));
        return;
      }
      if (!add) row.rules.clear();
      for (const RuleSpec& spec : request.rules) {
        store::SecurityGroupRuleRow rule = row_of(spec);
        rule.id = row.next_rule_id++;
        added = rule.id;
        row.rules.push_back(std::move(rule));
      }
      if (!add) added = 0;
      break;
    }
    case SecurityGroupOp::kDeleteRule: {
      const auto it = std::ranges::find(row.rules, request.rule, &store::SecurityGroupRuleRow::id);
      if (it == row.rules.end()) {
        answer(fail(Error::not_found("security group " + row.name + " has no rule " +
                                     std::to_string(request.rule))));
        return;
      }
      row.rules.erase(it);
      break;
    }
  }
  touch_security_group(row);
  firewall_all_hosts();
  answer(SecurityGroupDetail{row, {}, added});
}

Result<SecurityGroupDetail> Engine::Impl::set_nic_groups(const SecurityGroupRequest& request) {
  const std::string vm_name = "VM " + std::to_string(request.vm);
  if (request.vm <= 0 || !exists(request.vm)) return fail(Error::not_found("no " + vm_name));
  const store::Vm& vm = current(request.vm);
  if (vm.record.state == lc::State::kDone) {
    return fail(Error{ErrorCode::kInvalidState,
                      vm_name + " is DONE: its NICs are gone",
                      std::string(lc::state_name(vm.record.state)),
                      {}});
  }
  const auto has_index = [&](const store::Nic& n) { return n.index == request.nic; };
  if (std::ranges::find_if(vm.nics, has_index) == vm.nics.end()) {
    return fail(Error::not_found(vm_name + " has no NIC " + std::to_string(request.nic)));
  }
  // A hotplug of a NIC decides which NICs exist when it ends: wait for it.
  if (vm.record.busy() && (vm.record.op->action == lc::Action::kNicAttach ||
                           vm.record.op->action == lc::Action::kNicDetach)) {
    return fail(Error{ErrorCode::kConflict,
                      vm_name + " has a NIC being attached or detached; wait for it to finish",
                      std::string(lc::state_name(vm.record.state)),
                      {}});
  }
  // The VM's own project's groups only (Neutron's port update: another's is not found).
  Result<std::vector<store::SecurityGroupId>> ids =
      security_group_ids(request.groups, vm.project, ErrorCode::kNotFound);
  if (!ids) return fail(std::move(ids.error()));
  store::Vm& changed = mutate(request.vm);
  std::ranges::find_if(changed.nics, has_index)->security_groups = std::move(*ids);
  changed.updated_at = clock.now_ms();
  // The commit's note_firewall_hosts sees the NIC changed and sends its hosts their firewall.
  return SecurityGroupDetail{};
}

void Engine::Impl::handle_firewall_done(const driver::FirewallDone& done) {
  const auto it = firewall_generation.find(done.host);
  if (it == firewall_generation.end() || it->second != done.generation) return;  // stale
  std::unique_lock lock(published_mu);
  if (done.error) {
    std::fprintf(stderr, "corral: engine: firewall of host %s: %s\n", done.host.c_str(),
                 done.error->c_str());
    published_firewall_errors[done.host] = *done.error;
  } else {
    published_firewall_errors.erase(done.host);
  }
}

namespace {

// The hosts where a NIC of `vm` runs: its host, and a move's target while it is moving there.
void nic_hosts(const store::Vm& vm, std::set<std::string>& out) {
  if (vm.nics.empty() && !(vm.record.busy() && vm.op.params.nic)) return;
  if (!vm.host.empty()) out.insert(vm.host);
  if (vm.record.busy() && !vm.op.params.target_host.empty()) {
    out.insert(vm.op.params.target_host);
  }
}

}  // namespace

void Engine::Impl::note_firewall_hosts() {
  if (fabric == nullptr) return;
  for (VmId id : dirty_order) {
    const store::Vm& now = working.at(id);
    std::set<std::string> touched;
    nic_hosts(now, touched);
    if (static_cast<std::size_t>(id) <= vms.size()) {
      const store::Vm& before = vms[static_cast<std::size_t>(id - 1)];
      const bool same = before.host == now.host && before.nics == now.nics &&
                        before.record.state == now.record.state &&
                        before.record.busy() == now.record.busy() &&
                        before.op.params == now.op.params;
      if (same) continue;
      nic_hosts(before, touched);
    }
    firewall_hosts.insert(touched.begin(), touched.end());
  }
}

void Engine::Impl::firewall_all_hosts() {
  if (fabric == nullptr) return;
  for (const store::Vm& vm : vms) {
    if (vm.record.state != lc::State::kDone) nic_hosts(vm, firewall_hosts);
  }
  for (const auto& [host, generation] : firewall_generation) firewall_hosts.insert(host);
}

driver::HostFirewallJob Engine::Impl::firewall_job(const std::string& host) const {
  driver::HostFirewallJob job;
  job.host = host;
  auto add = [&](const store::Vm& vm, const store::Nic& nic) {
    driver::NicFirewallSpec spec{vm.id, nic.index, nic.mac, nic.ip, {}};
    std::optional<net::Cidr> own;
    if (const auto n = networks.find(nic.network); n != networks.end()) {
      if (Result<net::Cidr> cidr = net::Cidr::parse(n->second.cidr)) own = *cidr;
    }
    for (store::SecurityGroupId id : nic.security_groups) {
      const auto g = security_groups.find(id);
      if (g == security_groups.end()) continue;
      for (const store::SecurityGroupRuleRow& row : g->second.rules) {
        Result<net::SecurityGroupRule> rule = rule_of(row);
        if (!rule) continue;
        if (row.remote_own_network) {
          if (!own) continue;  // no network: the rule allows nothing
          rule->remote = own;
        }
        spec.rules.push_back(std::move(*rule));
      }
    }
    job.nics.push_back(std::move(spec));
  };
  for (const store::Vm& vm : vms) {
    if (vm.record.state == lc::State::kDone) continue;
    const bool here = vm.host == host || (vm.record.busy() && vm.op.params.target_host == host);
    if (!here) continue;
    for (const store::Nic& nic : vm.nics) add(vm, nic);
    // A NIC being attached is listed from the start, so its tap never runs unfiltered once
    // the job is applied; one being detached stays listed until it is gone.
    const lc::Operation* op = vm.record.busy() ? &*vm.record.op : nullptr;
    if (op != nullptr && op->action == lc::Action::kNicAttach && vm.op.params.nic &&
        std::ranges::find(vm.nics, vm.op.params.nic->index, &store::Nic::index) == vm.nics.end()) {
      add(vm, *vm.op.params.nic);
    }
  }
  std::ranges::sort(job.nics,
                    [](const driver::NicFirewallSpec& a, const driver::NicFirewallSpec& b) {
                      return std::pair(a.vm, a.nic) < std::pair(b.vm, b.nic);
                    });
  return job;
}

void Engine::Impl::send_firewall_jobs() {
  if (firewall_hosts.empty()) return;
  std::set<std::string> due;
  due.swap(firewall_hosts);
  if (fabric == nullptr) return;
  for (const std::string& host : due) {
    driver::HostFirewallJob job = firewall_job(host);
    job.generation = ++firewall_generation[host];
    fabric->apply_firewall(std::move(job));
  }
}

void Engine::Impl::load_security_groups(const store::Loaded& loaded) {
  for (const store::SecurityGroupRow& g : loaded.security_groups) {
    security_groups[g.id] = g;
    max_security_group_id = std::max(max_security_group_id, g.id);
  }
  // The admin project's default group is 1: made at the first start (committed with the
  // first batch), never deleted. Other projects' are made on their first use.
  if (!security_groups.contains(store::kDefaultSecurityGroupId)) {
    const store::SecurityGroupRow row =
        default_group_row(store::kDefaultSecurityGroupId, store::kAdminProjectId, clock.now_ms());
    security_groups[row.id] = row;
    security_group_rows.push_back(row);
    max_security_group_id = std::max(max_security_group_id, row.id);
  }
  publish_security_groups();
  // A restarted controller sends every host with a NIC its firewall again (apply is
  // idempotent): a host's table converges after a crash.
  firewall_all_hosts();
}

void Engine::Impl::publish_security_groups() {
  published_security_groups.clear();
  for (const auto& [id, row] : security_groups) published_security_groups.push_back(row);
  security_groups_changed = false;
}

void Engine::Impl::rollback_security_groups() {
  security_groups.clear();
  max_security_group_id = 0;
  for (const store::SecurityGroupRow& g : published_security_groups) {
    security_groups[g.id] = g;
    max_security_group_id = std::max(max_security_group_id, g.id);
  }
  security_group_rows.clear();
  deleted_security_groups.clear();
  firewall_hosts.clear();
  security_groups_changed = false;
}

}  // namespace corral::engine
