// Store: durable home of VMs, operations, history, move records and hosts.
//
// Contract: commit() writes a whole batch in one transaction and returns only once it is
// durable (SQLite: WAL + synchronous=FULL, so the fsync is done). The engine groups many
// transitions into one batch (group commit). Reads used by the API go to the engine's memory,
// not here, except history and past operations. Prepared statements only; schema changes are
// numbered migrations. Not thread-safe for writes: one engine thread commits; the read methods
// may be called from any thread (they use their own connection).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/records.h"
#include "store/types.h"

namespace corral::store {

// An API request's audit entry, written in the batch that commits the change it asked for, so
// the entry is as durable as the change and costs no commit of its own (the transactional
// outbox). The audit log copies entries out in id order and reports how far it got; the engine
// then deletes them (Batch::audit_outbox_done). The body is the API's encoding, opaque here.
struct AuditOutboxRow {
  std::int64_t id = 0;  // assigned by the engine: growing (a failed batch leaves a gap)
  VmId vm_id = 0;       // the VM the request named or made (a create's id is the engine's)
  std::string body;
  Millis at = 0;  // when the engine committed it (its clock): the entry's time
  friend bool operator==(const AuditOutboxRow&, const AuditOutboxRow&) = default;
};

struct Batch {
  std::vector<const Vm*> vms;  // rows to insert or replace (whole row)
  // Operations to insert or replace, oldest version first: of one operation's versions the
  // last is stored, and a VM's current operation is stored as it is in `vms`.
  std::vector<OperationRow> operations;
  std::vector<TransitionRow> transitions;  // history entries to append
  // Hosts, by name: deleted first (a name that is not stored is no error), then the rows of
  // `hosts` inserted or replaced whole, so a host removed and re-added in one batch is stored.
  // (Default initializers: `Batch{{vms}, {operations}, {transitions}}` stays warning-free.)
  std::vector<std::string> deleted_hosts{};
  std::vector<HostRow> hosts{};
  // Server groups, by id: deleted first, then `groups` inserted or replaced whole.
  std::vector<GroupId> deleted_groups{};
  std::vector<ServerGroupRow> groups{};
  // Move records (store/records.h), each inserted or replaced whole by its key.
  std::vector<MigrationRow> migrations{};
  std::vector<HostStayRow> stays{};
  // Networks, by id: deleted first, then `networks` inserted or replaced whole.
  std::vector<NetworkId> deleted_networks{};
  std::vector<NetworkRow> networks{};
  // Volumes, by id: deleted first, then `volumes` inserted or replaced whole.
  std::vector<VolumeId> deleted_volumes{};
  std::vector<VolumeRow> volumes{};
  // Security groups, by id: deleted first, then `security_groups` inserted or replaced whole.
  std::vector<SecurityGroupId> deleted_security_groups{};
  std::vector<SecurityGroupRow> security_groups{};
  // Resource groups, by id: deleted first, then `resource_groups` inserted or replaced whole.
  std::vector<ResourceGroupId> deleted_resource_groups{};
  std::vector<ResourceGroupRow> resource_groups{};
  // Audit entries to insert, then the ones the audit log holds to delete (id <= this; 0: none).
  std::vector<AuditOutboxRow> audit_outbox{};
  std::int64_t audit_outbox_done = 0;
  bool empty() const {
    return vms.empty() && operations.empty() && transitions.empty() && deleted_hosts.empty() &&
           hosts.empty() && deleted_groups.empty() && groups.empty() && migrations.empty() &&
           stays.empty() && deleted_networks.empty() && networks.empty() &&
           deleted_volumes.empty() && volumes.empty() && deleted_security_groups.empty() &&
           security_groups.empty() && deleted_resource_groups.empty() && resource_groups.empty() &&
           audit_outbox.empty() && audit_outbox_done == 0;
  }
};

struct Loaded {
  std::vector<Vm> vms;  // every VM, DONE ones included, ordered by id
  VmId max_vm_id = 0;
  OpId max_op_id = 0;
  std::int64_t max_transition_id = 0;
  std::vector<ServerGroupRow> groups;  // every server group, ordered by id
  // The newest migration record and the newest host stay of each VM that has one, by VM id:
  // what the engine needs to go on writing them (the rest is read with migrations()/stays()).
  std::vector<MigrationRow> last_migrations;
  std::vector<HostStayRow> last_stays;
  std::int64_t max_migration_id = 0;
  std::vector<NetworkRow> networks;               // every network not deleted, ordered by id
  std::vector<VolumeRow> volumes;                 // every volume not deleted, ordered by id
  std::vector<SecurityGroupRow> security_groups;  // every group not deleted, ordered by id
  std::vector<ResourceGroupRow> resource_groups;  // every group not deleted, ordered by id
  std::int64_t max_audit_outbox_id = 0;           // the highest ever written, deleted or not
};

class Store {
 public:
  virtual ~Store() = default;

  [[nodiscard]] virtual Result<Loaded> load() = 0;
  [[nodiscard]] virtual Status commit(const Batch& batch) = 0;

  // History of one VM, oldest first; entries with id > after_id, at most `limit`.
  [[nodiscard]] virtual Result<std::vector<TransitionRow>> history(VmId vm, std::int64_t after_id,
                                                                   int limit) = 0;
  [[nodiscard]] virtual Result<std::optional<OperationRow>> operation(OpId id) = 0;
  // A VM's migration records, oldest first, and its host stays, by sequence number.
  [[nodiscard]] virtual Result<std::vector<MigrationRow>> migrations(VmId vm) = 0;
  // Every VM's migration records, newest first: at most `limit` with ids below `before_id`
  // (Nova's GET /os-migrations, paged by the caller).
  [[nodiscard]] virtual Result<std::vector<MigrationRow>> recent_migrations(std::int64_t before_id,
                                                                            int limit) = 0;
  [[nodiscard]] virtual Result<std::vector<HostStayRow>> stays(VmId vm) = 0;
  [[nodiscard]] virtual Result<std::int64_t> count_transitions() = 0;
  // Every host, ordered by id: the last committed rows.
  [[nodiscard]] virtual Result<std::vector<HostRow>> load_hosts() = 0;
  // The audit outbox's entries with id > after_id, oldest first (what the audit log has not
  // copied yet: read once at start, before the engine runs).
  [[nodiscard]] virtual Result<std::vector<AuditOutboxRow>> audit_outbox(std::int64_t after_id) = 0;
  // "ok", or what SQLite's integrity_check found.
  [[nodiscard]] virtual Result<std::string> integrity_check() = 0;
};

// Opens (creating and migrating) the SQLite store at `path`. Errors: kUnavailable with a
// message that names the file and what went wrong.
[[nodiscard]] Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace corral::store
