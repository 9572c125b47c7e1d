#include "store/sqlite_schema.h"

#include <fmt/format.h>

#include <cstdint>
#include <iterator>
#include <utility>

#include "store/sqlite_util.h"

namespace corral::store::sqlite {
namespace {

// Numbered migrations, applied in order in one transaction; PRAGMA user_version records the
// last one applied. Never edit a shipped migration: add the next number.
//
// Foreign keys catch engine bugs before they become a database that cannot be loaded: an
// operation or a history entry of a VM that was never stored. operations.vm_id is deferred
// (checked at COMMIT) so a batch may list a new VM's operation before the VM itself.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE vms(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  image TEXT NOT NULL,
  vcpus INTEGER NOT NULL,
  memory_mib INTEGER NOT NULL,
  desired_image TEXT,
  desired_vcpus INTEGER,
  desired_memory_mib INTEGER,
  model_error TEXT NOT NULL DEFAULT '',
  state INTEGER NOT NULL,
  power INTEGER NOT NULL,
  resched INTEGER NOT NULL,
  host TEXT NOT NULL DEFAULT '',
  pending_reason TEXT NOT NULL DEFAULT '',
  op_id INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX vms_state_id ON vms(state, id);
CREATE INDEX vms_name ON vms(name);

CREATE TABLE operations(
  id INTEGER PRIMARY KEY,
  vm_id INTEGER NOT NULL REFERENCES vms(id) DEFERRABLE INITIALLY DEFERRED,
  action INTEGER NOT NULL,
  origin INTEGER NOT NULL,
  step INTEGER NOT NULL,
  status INTEGER NOT NULL,
  during INTEGER NOT NULL,
  params TEXT NOT NULL,
  actor TEXT NOT NULL,
  request_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  error TEXT NOT NULL,
  attempt INTEGER NOT NULL
);
CREATE INDEX operations_vm_id ON operations(vm_id, id);

CREATE TABLE transitions(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  vm_id INTEGER NOT NULL REFERENCES vms(id),
  op_id INTEGER NOT NULL,
  from_state INTEGER NOT NULL,
  to_state INTEGER NOT NULL,
  action INTEGER NOT NULL,
  phase INTEGER NOT NULL,
  status INTEGER NOT NULL,
  actor TEXT NOT NULL,
  request_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX transitions_vm_id ON transitions(vm_id, id);
)sql"},
    // Hosts as rows: the name is the key the engine writes and deletes by; the id is the
    // stable number shown to users. No foreign key from vms.host: a VM may name a host that
    // was deleted (the engine decides what that means), and a version-1 file has VMs on hosts
    // that were never stored.
    {2, R"sql(
CREATE TABLE hosts(
  name TEXT NOT NULL PRIMARY KEY,
  id INTEGER NOT NULL UNIQUE,
  state INTEGER NOT NULL,
  enabled INTEGER NOT NULL,
  disabled_reason TEXT NOT NULL,
  forced_down INTEGER NOT NULL,
  labels TEXT NOT NULL,
  vcpus INTEGER NOT NULL,
  memory_mib INTEGER NOT NULL,
  reserved_vcpus INTEGER NOT NULL,
  reserved_memory_mib INTEGER NOT NULL,
  cpu_allocation_ratio REAL NOT NULL,
  ram_allocation_ratio REAL NOT NULL,
  agent_version TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  last_heartbeat_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  error TEXT NOT NULL
);
)sql"},
    // Placement constraints of a VM (requirements expression, server group) and Nova's server
    // groups. No foreign key from vms.group_id: deleting a group clears its members' ids in
    // the same batch, and 0 means none.
    {3, R"sql(
ALTER TABLE vms ADD COLUMN requirements TEXT NOT NULL DEFAULT '';
ALTER TABLE vms ADD COLUMN group_id INTEGER NOT NULL DEFAULT 0;
CREATE TABLE server_groups(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  policy INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
)sql"},
    // Move records (engine/records.h): Nova's migration records, one per operation that moves
    // a VM, and OpenNebula's host stays, one per VM per host it was on (keyed by its sequence
    // number). Both reference their VM, deferred like operations: a batch may list a new VM's
    // rows before the VM. end_action is NULL while a stay is open.
    {4, R"sql(
CREATE TABLE migrations(
  id INTEGER PRIMARY KEY,
  vm_id INTEGER NOT NULL REFERENCES vms(id) DEFERRABLE INITIALLY DEFERRED,
  op_id INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  source_host TEXT NOT NULL,
  dest_host TEXT NOT NULL,
  status INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  error TEXT NOT NULL,
  memory_total_bytes INTEGER NOT NULL,
  memory_processed_bytes INTEGER NOT NULL,
  memory_remaining_bytes INTEGER NOT NULL,
  disk_total_bytes INTEGER NOT NULL,
  disk_processed_bytes INTEGER NOT NULL,
  disk_remaining_bytes INTEGER NOT NULL,
  downtime_ms INTEGER NOT NULL
);
CREATE INDEX migrations_vm_id ON migrations(vm_id, id);
CREATE TABLE host_stays(
  vm_id INTEGER NOT NULL REFERENCES vms(id) DEFERRABLE INITIALLY DEFERRED,
  seq INTEGER NOT NULL,
  host TEXT NOT NULL,
  start_at INTEGER NOT NULL,
  end_at INTEGER NOT NULL,
  reason INTEGER NOT NULL,
  end_action INTEGER,
  op_id INTEGER NOT NULL,
  PRIMARY KEY(vm_id, seq)
);
)sql"},
    // An operation rolling back through its row's undo phases (lifecycle::Operation::undoing):
    // the status it ends with, 0 when it is not undoing.
    {5, R"sql(
ALTER TABLE operations ADD COLUMN undoing INTEGER NOT NULL DEFAULT 0;
)sql"},
    // Issue 13: virtual networks, and each VM's NICs (its leases) and the keys its guest
    // accepts, as JSON arrays (store::Vm::nics, ::ssh_keys).
    {6, R"sql(
CREATE TABLE networks(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  cidr TEXT NOT NULL,
  state INTEGER NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
ALTER TABLE vms ADD COLUMN nics TEXT NOT NULL DEFAULT '[]';
ALTER TABLE vms ADD COLUMN ssh_keys TEXT NOT NULL DEFAULT '[]';
)sql"},
    // Issue 13: persistent volumes (store::VolumeRow); snapshots as a JSON array.
    {7, R"sql(
CREATE TABLE volumes(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  size_mib INTEGER NOT NULL,
  status INTEGER NOT NULL,
  vm INTEGER NOT NULL DEFAULT 0,
  slot INTEGER NOT NULL DEFAULT 0,
  delete_on_termination INTEGER NOT NULL DEFAULT 0,
  path TEXT NOT NULL DEFAULT '',
  job INTEGER NOT NULL DEFAULT 0,
  job_size_mib INTEGER NOT NULL DEFAULT 0,
  job_snapshot INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  snapshots TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql"},
    // Issue 13: security groups (store::SecurityGroupRow); rules as a JSON array. Each NIC's
    // groups are in vms.nics (a NIC without them is in group 1, "default").
    {8, R"sql(
CREATE TABLE security_groups(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  rules TEXT NOT NULL DEFAULT '[]',
  next_rule_id INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql"},
    // Tenants (issue 14): projects, users, their roles on projects, API tokens (their SHA-256
    // digests only) and quotas; auth/identity_store.h reads and writes them. Every VM belongs
    // to a project; the VMs made before projects existed belong to the admin project (1),
    // which the first server start creates.
    {9, R"sql(
CREATE TABLE projects(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);
CREATE TABLE users(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL
);
CREATE TABLE role_assignments(
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  role INTEGER NOT NULL,
  PRIMARY KEY(user_id, project_id)
);
-- No foreign keys: a token outlives its user or project (revoked), so that using it later
-- says why it stopped working.
CREATE TABLE tokens(
  id INTEGER PRIMARY KEY,
  digest TEXT NOT NULL UNIQUE,
  user_id INTEGER NOT NULL,
  project_id INTEGER NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  revoked_why TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE quotas(
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  resource INTEGER NOT NULL,
  max INTEGER NOT NULL,
  PRIMARY KEY(project_id, resource)
);
ALTER TABLE vms ADD COLUMN project INTEGER NOT NULL DEFAULT 1;
CREATE INDEX vms_project ON vms(project, id);
)sql"},
    // Usage from history (issue 14): every history entry records the VM's record and size
    // after it (TransitionRow::after), so any billing table can be applied to the history.
    // NULL in the entries written before: their usage is estimated from the VM's size now.
    {10, R"sql(
ALTER TABLE transitions ADD COLUMN op_action INTEGER;
ALTER TABLE transitions ADD COLUMN op_origin INTEGER;
ALTER TABLE transitions ADD COLUMN op_step INTEGER;
ALTER TABLE transitions ADD COLUMN op_status INTEGER;
ALTER TABLE transitions ADD COLUMN op_during INTEGER;
ALTER TABLE transitions ADD COLUMN op_undoing INTEGER;
ALTER TABLE transitions ADD COLUMN power INTEGER;
ALTER TABLE transitions ADD COLUMN vcpus INTEGER;
ALTER TABLE transitions ADD COLUMN memory_mib INTEGER;
)sql"},
    // Projects own their volumes (issue 14): another project's is not found. Volumes made
    // before belong to the admin project.
    {11, R"sql(
ALTER TABLE volumes ADD COLUMN project INTEGER NOT NULL DEFAULT 1;
)sql"},
    // Projects own their networks, server groups and security groups (issue 14): another
    // project's is not found. The rows made before belong to the admin project; the networks
    // among them are shared, as every project could attach VMs to them until now (a project's
    // VMs on them keep working). A security group's name is unique within its project only
    // (every project has its own "default"): the table is rebuilt without UNIQUE(name), which
    // SQLite cannot drop in place.
    {12, R"sql(
ALTER TABLE networks ADD COLUMN project INTEGER NOT NULL DEFAULT 1;
ALTER TABLE networks ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
ALTER TABLE networks ADD COLUMN description TEXT NOT NULL DEFAULT '';
UPDATE networks SET shared = 1;
ALTER TABLE server_groups ADD COLUMN project INTEGER NOT NULL DEFAULT 1;
CREATE TABLE security_groups_v12(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  rules TEXT NOT NULL DEFAULT '[]',
  next_rule_id INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  project INTEGER NOT NULL DEFAULT 1
);
INSERT INTO security_groups_v12(id, name, description, rules, next_rule_id, created_at,
                                updated_at)
  SELECT id, name, description, rules, next_rule_id, created_at, updated_at
  FROM security_groups;
DROP TABLE security_groups;
ALTER TABLE security_groups_v12 RENAME TO security_groups;
CREATE UNIQUE INDEX security_groups_project_name ON security_groups(project, name);
)sql"},
    // The audit outbox (store.h, AuditOutboxRow). audit_outbox_ids keeps the highest id ever
    // written, so ids are not reused once the outbox is emptied (AUTOINCREMENT's own table
    // would do it too, but the engine assigns the ids).
    {13, R"sql(
CREATE TABLE audit_outbox(
  id INTEGER PRIMARY KEY,
  vm_id INTEGER NOT NULL,
  body TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE audit_outbox_ids(
  one INTEGER PRIMARY KEY CHECK (one = 1),
  max_id INTEGER NOT NULL
);
INSERT INTO audit_outbox_ids(one, max_id) VALUES (1, 0);
)sql"},
    // A VM's lock (store::Vm::locked_by, lifecycle/lock.h): 0 none, 1 owner, 2 admin.
    {14, R"sql(
ALTER TABLE vms ADD COLUMN locked_by INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vms ADD COLUMN lock_reason TEXT NOT NULL DEFAULT '';
)sql"},
    // Resource groups (Azure's, store::ResourceGroupRow) and the one each VM was created in
    // (0: none). Names are unique within a project regardless of case, as Azure's are.
    {15, R"sql(
CREATE TABLE resource_groups(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  location TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  project INTEGER NOT NULL
);
CREATE UNIQUE INDEX resource_groups_project_name ON resource_groups(project, name COLLATE NOCASE);
ALTER TABLE vms ADD COLUMN resource_group INTEGER NOT NULL DEFAULT 0;
)sql"},
    // A resource group being deleted with its VMs (ResourceGroupRow::deleting): 0 or 1.
    {16, R"sql(
ALTER TABLE resource_groups ADD COLUMN deleting INTEGER NOT NULL DEFAULT 0;
)sql"},
};

constexpr bool migrations_are_numbered_in_order() {
  for (std::size_t i = 0; i < std::size(kMigrations); ++i) {
    if (kMigrations[i].version != static_cast<int>(i) + 1) return false;
  }
  return true;
}
static_assert(migrations_are_numbered_in_order(), "migrations are numbered 1, 2, 3 ...");
static_assert(std::size(kMigrations) == kSqliteSchemaVersion,
              "kSqliteSchemaVersion must be the last migration's number");

Error too_new(std::string_view path, std::int64_t version) {
  return unavailable(path, fmt::format("database schema version {} is newer than this corral ({})",
                                       version, kSqliteSchemaVersion));
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

Status migrate(sqlite3* db, std::string_view path, int target) {
  if (target < 0 || target > kSqliteSchemaVersion) {
    return fail(Error::internal(fmt::format("migrate: no schema version {}", target)));
  }
  // IMMEDIATE, and the version read again inside: two processes opening a new file at once
  // apply each migration once.
  if (int rc = exec(db, "BEGIN IMMEDIATE"); rc != SQLITE_OK) {
    return fail(open_error(db, path, "migrate: begin", rc));
  }
  auto abort = [&](Error e) -> Status {
    exec(db, "ROLLBACK");
    return fail(std::move(e));
  };
  std::int64_t version = 0;
  if (int rc = query_int(db, "PRAGMA user_version", version); rc != SQLITE_OK) {
    return abort(open_error(db, path, "migrate: cannot read the schema version", rc));
  }
  if (version > kSqliteSchemaVersion) return abort(too_new(path, version));
  if (version >= target) {
    exec(db, "ROLLBACK");  // nothing to do; nothing was written
    return {};
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= version || m.version > target) continue;
    if (int rc = exec(db, m.sql); rc != SQLITE_OK) {
      return abort(open_error(db, path, fmt::format("migration {}", m.version), rc));
    }
  }
  // PRAGMA takes no parameters; the number is our own constant, not data.
  const std::string set_version = fmt::format("PRAGMA user_version = {}", target);
  if (int rc = exec(db, set_version.c_str()); rc != SQLITE_OK) {
    return abort(open_error(db, path, "migrate: cannot set user_version", rc));
  }
  if (int rc = exec(db, "COMMIT"); rc != SQLITE_OK) {
    return abort(open_error(db, path, "migrate: commit", rc));
  }
  return {};
}

}  // namespace corral::store::sqlite
