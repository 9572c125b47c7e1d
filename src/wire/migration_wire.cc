#include "wire/migration_wire.h"

namespace corral::wire {

store::MigrationParams migration_of(const agent::v1::MigrationParams& w) {
  return {w.copy_storage(), w.auto_converge(), w.postcopy_after_ms(), w.max_downtime_ms(),
          w.bandwidth_mib_s()};
}

agent::v1::MigrationParams to_wire(const store::MigrationParams& m) {
  agent::v1::MigrationParams w;
  w.set_copy_storage(m.copy_storage);
  w.set_auto_converge(m.auto_converge);
  w.set_postcopy_after_ms(m.postcopy_after_ms);
  w.set_max_downtime_ms(m.max_downtime_ms);
  w.set_bandwidth_mib_s(m.bandwidth_mib_s);
  return w;
}

store::MigrationEndpoint endpoint_of(const agent::v1::MigrationEndpoint& w) {
  return {w.migration_uri(), w.nbd_host(), w.nbd_port(), w.nbd_export()};
}

agent::v1::MigrationEndpoint to_wire(const store::MigrationEndpoint& e) {
  agent::v1::MigrationEndpoint w;
  w.set_migration_uri(e.migration_uri);
  w.set_nbd_host(e.nbd_host);
  w.set_nbd_port(e.nbd_port);
  w.set_nbd_export(e.nbd_export);
  return w;
}

std::optional<agent::v1::PlacementParams> placement_to_wire(const driver::PhaseRequest& r) {
  if (r.migration.defaults() && !r.endpoint && !r.files_from) return std::nullopt;
  agent::v1::PlacementParams w;
  const bool source = r.runs_on == lifecycle::RunsOn::kSource;
  w.set_target_host(source ? r.peer_host : r.host);
  w.set_source_host(source ? r.host : r.peer_host);
  *w.mutable_migration() = to_wire(r.migration);
  if (r.endpoint) *w.mutable_endpoint() = to_wire(*r.endpoint);
  if (r.files_from) {
    w.mutable_files_from()->set_address(r.files_from->address);
    w.mutable_files_from()->set_secret(r.files_from->secret);
  }
  return w;
}

void read_placement(const agent::v1::PlacementParams& w, driver::PhaseRequest& r) {
  r.migration = migration_of(w.migration());
  if (w.has_endpoint()) r.endpoint = endpoint_of(w.endpoint());
  if (w.has_files_from())
    r.files_from = driver::FileSource{w.files_from().address(), w.files_from().secret()};
}

agent::v1::PhaseProgress progress_to_wire(const driver::PhaseProgress& p) {
  agent::v1::PhaseProgress w;
  w.set_vm(p.vm);
  w.set_op(p.op);
  w.set_step(p.step);
  w.set_attempt(p.attempt);
  w.set_memory_total(p.memory_total);
  w.set_memory_processed(p.memory_processed);
  w.set_memory_remaining(p.memory_remaining);
  w.set_disk_total(p.disk_total);
  w.set_disk_processed(p.disk_processed);
  w.set_disk_remaining(p.disk_remaining);
  w.set_expected_downtime_ms(p.expected_downtime_ms);
  w.set_downtime_ms(p.downtime_ms);
  return w;
}

Result<driver::PhaseProgress> progress_of(const agent::v1::PhaseProgress& w) {
  if (w.step() > 255) return fail(Error::invalid_argument("phase step out of range"));
  driver::PhaseProgress p;
  p.vm = w.vm();
  p.op = w.op();
  p.step = static_cast<std::uint8_t>(w.step());
  p.attempt = w.attempt();
  p.memory_total = w.memory_total();
  p.memory_processed = w.memory_processed();
  p.memory_remaining = w.memory_remaining();
  p.disk_total = w.disk_total();
  p.disk_processed = w.disk_processed();
  p.disk_remaining = w.disk_remaining();
  p.expected_downtime_ms = w.expected_downtime_ms();
  p.downtime_ms = w.downtime_ms();
  return p;
}

void devices_to_wire(const driver::PhaseRequest& request, agent::v1::PhaseRequest& out) {
  for (const driver::NicSpec& n : request.nics) {
    agent::v1::Nic* nic = out.add_nics();
    nic->set_index(static_cast<std::uint32_t>(n.index));
    nic->set_network(n.network);
    nic->set_mac(n.mac);
    nic->set_ip(n.ip);
  }
  for (const driver::VolumeSpec& v : request.volumes) {
    agent::v1::Volume* volume = out.add_volumes();
    volume->set_volume(v.volume);
    volume->set_path(v.path);
    volume->set_format(v.format);
    volume->set_slot(static_cast<std::uint32_t>(v.slot));
  }
  for (const std::string& key : request.ssh_keys) out.add_ssh_keys(key);
}

Status devices_of(const agent::v1::PhaseRequest& request, driver::PhaseRequest& out) {
  for (const agent::v1::Nic& n : request.nics()) {
    if (n.index() > 7) return fail(Error::invalid_argument("a NIC index is 0-7"));
    out.nics.push_back({static_cast<int>(n.index()), n.network(), n.mac(), n.ip()});
  }
  for (const agent::v1::Volume& v : request.volumes()) {
    if (v.slot() > 15) return fail(Error::invalid_argument("a volume slot is 0-15"));
    if (v.format() != "raw" && v.format() != "qcow2") {
      return fail(Error::invalid_argument("a volume's format is raw or qcow2"));
    }
    out.volumes.push_back({v.volume(), v.path(), v.format(), static_cast<int>(v.slot())});
  }
  for (const std::string& key : request.ssh_keys()) out.ssh_keys.push_back(key);
  return {};
}

}  // namespace corral::wire
