// Networks (issue 13): create/delete through the engine's queue, the leases the VMs' NICs
// hold, the fabric's jobs after each commit, and what reads see.
//
// A lease is a NIC's address. It is taken when the request that adds the NIC is accepted (a
// create with networks, a nic_attach: Neutron makes the port before Nova plugs it), so DHCP
// knows the address before the guest asks, and it is given back when the NIC goes: a
// nic_attach that fails, a nic_detach that succeeds, a VM that is DONE.
#include <algorithm>

#include "engine/engine_impl.h"
#include "engine/names.h"
#include "net/ipv4.h"

namespace corral::engine {

namespace lc = corral::lifecycle;
using lc::NetworkState;

namespace {

// A DHCP hostname from a VM's name: letters, digits and '-' (RFC 952), else "vm-<id>".
std::string dhcp_hostname(const store::Vm& vm) {
  std::string out;
  for (char c : vm.name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '-';
  }
  if (out.empty() || out.front() == '-' || out.size() > 63) out = "vm-" + std::to_string(vm.id);
  return out;
}

}  // namespace

// ---- Public API ---------------------------------------------------------------------------

void Engine::set_network_fabric(driver::NetworkFabric* fabric) { impl_->fabric = fabric; }

Result<NetworkDetail> Engine::create_network(NetworkSpec spec) {
  return impl_->submit(internal::NetworkCommand{false, std::move(spec), {}, {}});
}

Result<NetworkDetail> Engine::delete_network(std::string name_or_id) {
  return impl_->submit(internal::NetworkCommand{true, {}, std::move(name_or_id), {}});
}

Result<NetworkDetail> Engine::update_network(std::string name_or_id, NetworkUpdate update) {
  return impl_->submit(
      internal::NetworkCommand{false, {}, std::move(name_or_id), {}, std::move(update)});
}

std::vector<NetworkDetail> Engine::networks() const {
  std::shared_lock lock(impl_->published_mu);
  return impl_->published_networks;
}

std::optional<NetworkDetail> Engine::network(std::string_view name_or_id) const {
  std::shared_lock lock(impl_->published_mu);
  for (const NetworkDetail& n : impl_->published_networks) {
    if (names_row(n.row, name_or_id)) return n;
  }
  return std::nullopt;
}

void Engine::network_done(driver::NetworkDone done) { impl_->enqueue(std::move(done)); }

// ---- Engine thread ------------------------------------------------------------------------

const store::NetworkRow* Engine::Impl::find_network(std::string_view name_or_id) const {
  for (const auto& [id, n] : networks) {
    if (names_row(n, name_or_id)) return &n;
  }
  return nullptr;
}

void Engine::Impl::set_network_state(store::NetworkRow& row, NetworkState state,
                                     std::string error) {
  row.state = state;
  row.error = std::move(error);
  row.updated_at = clock.now_ms();
  network_rows.push_back(row);
  networks_changed = true;
}

void Engine::Impl::handle_network(internal::NetworkCommand& command) {
  auto promise = std::make_shared<std::promise<Result<NetworkDetail>>>(std::move(command.reply));
  auto answer = [&](Result<NetworkDetail> result) {
    if (!result) {
      promise->set_value(std::move(result));
      return;
    }
    host_replies.push_back([promise, detail = std::move(*result)](const Error* error) {
      promise->set_value(error != nullptr ? Result<NetworkDetail>(fail(*error)) : detail);
    });
  };
  if (command.remove) {
    const store::NetworkRow* found = find_network(command.name_or_id);
    if (found == nullptr) {
      answer(fail(Error::not_found("no network " + command.name_or_id)));
      return;
    }
    store::NetworkRow& row = networks.at(found->id);
    const std::size_t held = leases[row.id].size();
    if (held != 0) {
      answer(fail(Error{ErrorCode::kConflict,
                        "network " + row.name + " has " + std::to_string(held) +
                            " leases: detach its NICs or terminate their VMs first",
                        {},
                        {}}));
      return;
    }
    Result<lc::NetworkStep> step = lc::network_step(row.state, lc::NetworkEvent::kDelete);
    if (!step) {
      answer(fail(std::move(step.error())));
      return;
    }
    if (row.state != step->to) set_network_state(row, step->to, {});
    network_jobs.insert(row.id);
    answer(network_detail(row));
    return;
  }
  if (command.update) {
    answer(update_network_row(command.name_or_id, *command.update));
    return;
  }
  const NetworkSpec& spec = command.spec;
  if (!valid_resource_name(spec.name)) {
    answer(fail(Error::invalid_argument(
        "a network name is 1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a "
        "letter or digit, and not all digits")));
    return;
  }
  Result<net::Cidr> cidr = net::Cidr::parse(spec.cidr);
  if (!cidr) {
    answer(fail(Error::invalid_argument("cidr: " + cidr.error().message)));
    return;
  }
  if (Status ok = check_sharing(spec.shared, spec.project); !ok) {
    answer(fail(std::move(ok.error())));
    return;
  }
  if (spec.description.size() > kMaxNetworkDescription) {
    answer(fail(Error::invalid_argument("a description is at most " +
                                        std::to_string(kMaxNetworkDescription) + " bytes")));
    return;
  }
  if (find_network(spec.name) != nullptr) {
    answer(fail(Error{ErrorCode::kConflict, "network " + spec.name + " exists", {}, {}}));
    return;
  }
  // Every network's gateway lives in one namespace: ranges never overlap, whoever owns them.
  // Another project's network is not named (its existence is all that shows).
  for (const auto& [id, other] : networks) {
    Result<net::Cidr> theirs = net::Cidr::parse(other.cidr);
    if (theirs && theirs->overlaps(*cidr)) {
      answer(fail(Error::invalid_argument(
          "cidr " + cidr->to_string() + " overlaps " +
          (network_usable_by(other, spec.project)
               ? "network " + other.name + " (" + other.cidr + ")"
               : std::string("a network of another project: choose another range")))));
      return;
    }
  }
  const Millis now = clock.now_ms();
  store::NetworkRow row{
      ++max_network_id, spec.name,   cidr->to_string(), NetworkState::kInit, {}, now, now,
      spec.project,     spec.shared, spec.description};
  Result<lc::NetworkStep> step = lc::network_step(row.state, lc::NetworkEvent::kCreate);
  if (!step) {
    answer(fail(std::move(step.error())));
    return;
  }
  networks[row.id] = row;
  set_network_state(networks[row.id], step->to, {});
  if (step->sends_job) network_jobs.insert(row.id);
  answer(network_detail(networks[row.id]));
}

void Engine::Impl::handle_network_done(const driver::NetworkDone& done) {
  const auto it = networks.find(done.network);
  if (it == networks.end() || network_generation[done.network] != done.generation) return;
  store::NetworkRow& row = it->second;
  Result<lc::NetworkStep> step = lc::network_step(
      row.state, done.error ? lc::NetworkEvent::kFabricFailed : lc::NetworkEvent::kFabricDone);
  if (!step) return;  // no job was out for it: nothing to settle
  if (step->forgets) {
    deleted_networks.push_back(row.id);
    std::erase_if(network_rows, [&](const store::NetworkRow& r) { return r.id == row.id; });
    networks.erase(it);
    leases.erase(done.network);
    networks_changed = true;
    return;
  }
  const std::string why = done.error.value_or("");
  if (step->to != row.state || why != row.error) set_network_state(row, step->to, why);
}

Status Engine::Impl::check_sharing(bool shared, store::ProjectId project) const {
  // Neutron lets the admin share any project's network; Corral shares the cloud's own only,
  // so a project's network never serves another project behind its back.
  if (shared && project != store::kAdminProjectId) {
    return fail(Error::invalid_argument("only the admin project's networks are shared"));
  }
  return {};
}

Result<NetworkDetail> Engine::Impl::update_network_row(std::string_view name_or_id,
                                                       const NetworkUpdate& update) {
  const store::NetworkRow* found = find_network(name_or_id);
  if (found == nullptr) return fail(Error::not_found("no network " + std::string(name_or_id)));
  store::NetworkRow& row = networks.at(found->id);
  if (update.shared) {
    if (Status ok = check_sharing(*update.shared, row.project); !ok) return fail(ok.error());
  }
  if (update.description && update.description->size() > kMaxNetworkDescription) {
    return fail(Error::invalid_argument("a description is at most " +
                                        std::to_string(kMaxNetworkDescription) + " bytes"));
  }
  // Un-sharing leaves other projects' NICs where they are (Neutron refuses while another
  // project has ports on it): refused too, so a network never holds a NIC its VM may not use.
  if (update.shared && !*update.shared && row.shared) {
    for (const auto& [address, lease] : leases[row.id]) {
      if (exists(lease.vm) && current(lease.vm).project != row.project) {
        return fail(Error{ErrorCode::kConflict,
                          "network " + row.name +
                              " has NICs of other projects' VMs: it stays shared until they go",
                          {},
                          {}});
      }
    }
  }
  if (update.shared) row.shared = *update.shared;
  if (update.description) row.description = *update.description;
  row.updated_at = clock.now_ms();
  network_rows.push_back(row);
  networks_changed = true;
  return network_detail(row);
}

Result<store::Nic> Engine::Impl::lease_nic(std::string_view network, const std::string& ip, VmId vm,
                                           store::ProjectId project, int index, bool attached) {
  // Only the VM's project's networks and the shared ones (ownership.cc).
  const store::NetworkRow* row = find_network_for(network, project);
  if (row == nullptr) {
    return fail(Error::invalid_argument("no network " + std::string(network)));
  }
  if (!lc::network_leases_allowed(row->state)) {
    return fail(Error::invalid_argument("network " + row->name + " is " +
                                        std::string(lc::network_state_name(row->state)) +
                                        ", not READY: it cannot lease addresses"));
  }
  Result<net::Cidr> cidr = net::Cidr::parse(row->cidr);
  if (!cidr) return fail(Error::internal("network " + row->name + ": " + cidr.error().message));
  std::map<std::uint32_t, NetworkLease>& held = leases[row->id];
  std::uint32_t address = 0;
  if (!ip.empty()) {
    Result<net::Ipv4> wanted = net::Ipv4::parse(ip);
    if (!wanted) return fail(Error::invalid_argument("ip: " + wanted.error().message));
    if (wanted->value < cidr->first_lease().value || wanted->value > cidr->last_lease().value) {
      return fail(Error::invalid_argument("ip " + ip + " is not a leasable address of network " +
                                          row->name + " (" + cidr->first_lease().to_string() +
                                          " to " + cidr->last_lease().to_string() + ")"));
    }
    if (held.contains(wanted->value)) {
      return fail(Error{ErrorCode::kConflict,
                        "ip " + ip + " on network " + row->name + " is leased to VM " +
                            std::to_string(held.at(wanted->value).vm),
                        {},
                        {}});
    }
    address = wanted->value;
  } else {
    // The lowest free address, as OpenNebula's address ranges hand them out.
    std::uint32_t next = cidr->first_lease().value;
    for (const auto& [taken, lease] : held) {
      if (taken > next) break;
      if (taken == next) ++next;
    }
    if (next > cidr->last_lease().value) {
      return fail(
          Error{ErrorCode::kConflict, "network " + row->name + " has no free address", {}, {}});
    }
    address = next;
  }
  const net::Ipv4 chosen{address};
  store::Nic nic{index, row->id, chosen.to_string(), net::mac_for(chosen)};
  held[address] = NetworkLease{vm, index, nic.ip, nic.mac, attached};
  network_jobs.insert(row->id);
  networks_changed = true;
  return nic;
}

void Engine::Impl::release_nic(const store::Nic& nic) {
  const auto it = leases.find(nic.network);
  if (it == leases.end()) return;
  Result<net::Ipv4> ip = net::Ipv4::parse(nic.ip);
  if (!ip) return;
  it->second.erase(ip->value);
  network_jobs.insert(nic.network);
  networks_changed = true;
}

void Engine::Impl::settle_nics(store::Vm& vm) {
  if (vm.record.state == lc::State::kDone) {
    for (const store::Nic& nic : vm.nics) release_nic(nic);
    vm.nics.clear();
  }
}

void Engine::Impl::nic_operation_finished(store::Vm& vm) {
  const lc::Operation& op = *vm.record.op;
  const auto& nic = vm.op.params.nic;
  if (!nic) return;
  const bool ok = op.status == lc::OpStatus::kSucceeded;
  if (op.action == lc::Action::kNicAttach) {
    if (ok && vm.record.state != lc::State::kDone) {
      vm.nics.push_back(*nic);
      std::ranges::sort(vm.nics, {}, &store::Nic::index);
      mark_lease_attached(*nic);
    } else {
      release_nic(*nic);
    }
  } else if (op.action == lc::Action::kNicDetach && ok) {
    std::erase_if(vm.nics, [&](const store::Nic& n) { return n.index == nic->index; });
    release_nic(*nic);
  }
}

void Engine::Impl::mark_lease_attached(const store::Nic& nic) {
  Result<net::Ipv4> ip = net::Ipv4::parse(nic.ip);
  if (!ip) return;
  auto& held = leases[nic.network];
  if (auto it = held.find(ip->value); it != held.end()) it->second.attached = true;
  networks_changed = true;
}

std::vector<driver::NicSpec> Engine::Impl::phase_nics(const store::Vm& vm) const {
  std::vector<store::Nic> nics = vm.nics;
  const lc::Operation& op = *vm.record.op;
  const auto& change = vm.op.params.nic;
  // Undo phases put the VM back as it was: without the NIC an attach was adding.
  if (change && !op.undoing) {
    if (op.action == lc::Action::kNicAttach) nics.push_back(*change);
    if (op.action == lc::Action::kNicDetach) {
      std::erase_if(nics, [&](const store::Nic& n) { return n.index == change->index; });
    }
  }
  std::ranges::sort(nics, {}, &store::Nic::index);
  std::vector<driver::NicSpec> out;
  for (const store::Nic& n : nics) out.push_back({n.index, n.network, n.mac, n.ip});
  return out;
}

NetworkDetail Engine::Impl::network_detail(const store::NetworkRow& row) const {
  NetworkDetail d{row, {}, 0, {}};
  if (Result<net::Cidr> cidr = net::Cidr::parse(row.cidr)) {
    d.gateway = cidr->gateway().to_string();
    d.size = cidr->capacity();
  }
  if (const auto it = leases.find(row.id); it != leases.end()) {
    for (const auto& [address, lease] : it->second) d.leases.push_back(lease);
  }
  return d;
}

void Engine::Impl::rebuild_leases() {
  leases.clear();
  for (const store::Vm& vm : vms) {
    if (vm.record.state == lc::State::kDone) continue;
    auto hold = [&](const store::Nic& nic, bool attached) {
      Result<net::Ipv4> ip = net::Ipv4::parse(nic.ip);
      if (ip) leases[nic.network][ip->value] = {vm.id, nic.index, nic.ip, nic.mac, attached};
    };
    for (const store::Nic& nic : vm.nics) hold(nic, true);
    if (vm.record.busy() && vm.record.op->action == lc::Action::kNicAttach && vm.op.params.nic) {
      hold(*vm.op.params.nic, false);
    }
  }
}

void Engine::Impl::load_networks(const store::Loaded& loaded) {
  for (const store::NetworkRow& n : loaded.networks) {
    networks[n.id] = n;
    max_network_id = std::max(max_network_id, n.id);
    // Every network's state is sent to the fabric again: a restarted controller converges
    // (a dnsmasq that died is started, one that runs is adopted; LOCK_CREATE and LOCK_DELETE
    // finish).
    network_jobs.insert(n.id);
  }
  rebuild_leases();
  publish_networks();
}

void Engine::Impl::publish_networks() {
  published_networks.clear();
  for (const auto& [id, row] : networks) published_networks.push_back(network_detail(row));
  networks_changed = false;
}

void Engine::Impl::rollback_networks() {
  networks.clear();
  max_network_id = 0;
  for (const NetworkDetail& n : published_networks) {
    networks[n.row.id] = n.row;
    max_network_id = std::max(max_network_id, n.row.id);
  }
  rebuild_leases();
  network_rows.clear();
  deleted_networks.clear();
  network_jobs.clear();
  networks_changed = false;
}

void Engine::Impl::send_network_jobs() {
  if (network_jobs.empty()) return;
  std::vector<driver::NetworkJob> jobs;
  for (store::NetworkId id : network_jobs) {
    const auto it = networks.find(id);
    if (it == networks.end()) continue;
    driver::NetworkJob job;
    job.network = id;
    job.cidr = it->second.cidr;
    job.remove = it->second.state == NetworkState::kLockDelete;
    job.generation = ++network_generation[id];
    if (!job.remove) {
      for (const auto& [address, lease] : leases[id]) {
        job.leases.push_back({lease.mac, lease.ip, dhcp_hostname(current(lease.vm))});
      }
    }
    jobs.push_back(std::move(job));
  }
  network_jobs.clear();
  for (driver::NetworkJob& job : jobs) {
    if (fabric != nullptr) {
      fabric->apply(std::move(job));
    } else {
      enqueue(driver::NetworkDone{job.network, job.generation, std::nullopt});
    }
  }
}

}  // namespace corral::engine
