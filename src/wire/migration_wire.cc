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

}  // namespace corral::wire
