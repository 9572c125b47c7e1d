// SqliteStore: the Store on SQLite 3 (WAL, synchronous=FULL), one write and one read
// connection.
//
// Why two connections: in WAL mode the read connection sees the last committed snapshot while
// the engine thread writes, so history and operation lookups from API threads never wait for
// a group commit's fsync, and a long read never blocks a commit.
//
// Why SQLITE_OPEN_NOMUTEX plus our own mutex per connection: every prepared statement is
// shared state (bind, step, read columns, reset), and that whole sequence must be exclusive.
// SQLite's per-call mutex (FULLMUTEX) cannot give that, so we need our own lock anyway; with
// it, FULLMUTEX would only take a second, useless lock on every call.
//
// The vm row and its current operation are written together: for every Vm in a batch whose
// record has an operation, commit() also writes that operation's row from the Vm itself
// (record.op + Vm::op), after the batch's explicit operation rows. load() reads the current
// operation back through vms.op_id, so what load() returns for a VM is exactly the Vm last
// committed, even if the caller did not list its operation in Batch::operations.
//
// Hosts go in the same transaction as the VMs: a batch's deleted names first, then its host
// rows, each upserted whole by name. So do the move records (sqlite_records.h). load_hosts() reads
// on the read connection, so any thread may call it; it sees the last commit.
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "store/sqlite_audit_outbox.h"
#include "store/sqlite_records.h"
#include "store/sqlite_resources.h"
#include "store/sqlite_rows.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_upsert.h"
#include "store/sqlite_util.h"
#include "store/store.h"

namespace corral::store {
namespace {

using sqlite::Db;
using sqlite::exec;
using sqlite::prepare;
using sqlite::query_int;
using sqlite::query_text;
using sqlite::RowReader;
using sqlite::Stmt;
using sqlite::StmtUse;
using sqlite::unavailable;

constexpr int kBusyTimeoutMs = 5000;
// Page cache per connection, in KiB. The engine keeps every VM in memory, so SQLite's cache
// only needs the pages one batch touches (index interior pages, the tail of transitions);
// the OS page cache holds the rest. Small on purpose: RSS per VM is a budget.
constexpr int kWriterCacheKib = 8192;
constexpr int kReaderCacheKib = 2048;

// The SQL, built once from the row codecs' column lists.
struct Sql {
  std::string insert_transition = sqlite::insert_sql(sqlite::transition_codec());
  std::string upsert_host = sqlite::insert_sql(sqlite::host_codec());
  std::string upsert_group = sqlite::insert_sql(sqlite::group_codec());
  std::string load_groups =
      "SELECT " + sqlite::column_list(sqlite::group_codec()) + " FROM server_groups ORDER BY id";
  // Every VM with its current operation (NULL columns when it has none), by id.
  std::string load_vms = "SELECT " + sqlite::column_list(sqlite::vm_codec(), "v") + ", " +
                         sqlite::column_list(sqlite::operation_codec(), "o") +
                         " FROM vms AS v LEFT JOIN operations AS o ON o.id = v.op_id ORDER BY v.id";
  std::string operation =
      "SELECT " + sqlite::column_list(sqlite::operation_codec()) + " FROM operations WHERE id = ?1";
  std::string history = "SELECT " + sqlite::column_list(sqlite::transition_codec()) +
                        " FROM transitions WHERE vm_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
  std::string load_hosts =
      "SELECT " + sqlite::column_list(sqlite::host_codec()) + " FROM hosts ORDER BY id";
};
const Sql& sql() {
  static const Sql built;
  return built;
}

// ---- The store ----------------------------------------------------------------------------

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::string path)
      : path_(std::move(path)), records_(path_), resources_(path_), outbox_(path_) {}

  Status open();

  Result<Loaded> load() override;
  Status commit(const Batch& batch) override;
  Result<std::vector<TransitionRow>> history(VmId vm, std::int64_t after_id, int limit) override;
  Result<std::optional<OperationRow>> operation(OpId id) override;
  Result<std::vector<MigrationRow>> migrations(VmId vm) override {
    std::lock_guard lock(read_mu_);
    return records_.migrations(reader_.get(), vm);
  }
  Result<std::vector<MigrationRow>> recent_migrations(std::int64_t before_id, int limit) override {
    std::lock_guard lock(read_mu_);
    return records_.recent_migrations(reader_.get(), before_id, limit);
  }
  Result<std::vector<HostStayRow>> stays(VmId vm) override {
    std::lock_guard lock(read_mu_);
    return records_.stays(reader_.get(), vm);
  }
  Result<std::vector<AuditOutboxRow>> audit_outbox(std::int64_t after_id) override {
    std::lock_guard lock(read_mu_);
    return outbox_.read(reader_.get(), after_id);
  }
  Result<std::int64_t> count_transitions() override;
  Result<std::vector<HostRow>> load_hosts() override;
  Result<std::string> integrity_check() override;

 private:
  Error error(sqlite3* db, std::string_view what, int rc) const {
    return sqlite::sqlite_error(db, path_, what, rc);
  }
  // Everything that fails while opening is the environment's: kUnavailable.
  Error open_error(sqlite3* db, std::string_view what, int rc) const {
    return sqlite::open_error(db, path_, what, rc);
  }
  // A row that does not decode: corrupt, reported with what was being read.
  Error corrupt(std::string_view what, const std::string& problem) const {
    return Error::internal(fmt::format("sqlite store {}: {}: {}", path_, what, problem));
  }
  Result<Db> connect(int flags, int cache_kib);

  Status write_batch(const Batch& batch);
  // Binds `row` to `stmt` by `codec` and steps it; `what` names the row in an error.
  template <typename In, typename Out, typename What>
  Status write_row(const Stmt& stmt, const sqlite::RowCodec<In, Out>& codec, const In& row,
                   What what);
  // Writes `row` by `upsert`; `what` names the row in an error.
  template <typename In, typename Out, typename What>
  Status write_row(const sqlite::Upsert<In, Out>& upsert, const In& row, What what);
  // Ends a failed commit's transaction; what went wrong if even that failed.
  std::optional<std::string> rollback();

  const std::string path_;

  // Only the engine thread writes; the lock only keeps a misuse from interleaving two users
  // of the same statements. Uncontended, it costs nothing next to an fsync.
  std::mutex write_mu_;
  Db writer_;  // declared before its statements: destroyed after them
  Stmt begin_;
  Stmt commit_;
  Stmt rollback_;
  sqlite::Upsert<Vm> upsert_vm_{sqlite::vm_codec()};
  sqlite::Upsert<sqlite::OperationRef, OperationRow> upsert_operation_{sqlite::operation_codec()};
  Stmt insert_transition_;
  Stmt count_vms_;
  Stmt max_op_id_;
  Stmt max_transition_id_;
  Stmt load_vms_;
  Stmt upsert_host_;
  Stmt delete_host_;
  Stmt upsert_group_;
  Stmt delete_group_;
  Stmt load_groups_;

  std::mutex read_mu_;
  Db reader_;
  Stmt history_;
  Stmt operation_;
  Stmt count_transitions_;
  Stmt load_hosts_;
  Stmt integrity_check_;

  // Declared after both connections: its statements are finalized before they close.
  sqlite::MoveRecordSql records_;
  sqlite::ResourceSql resources_;
  sqlite::AuditOutboxSql outbox_;
};

Result<Db> SqliteStore::connect(int flags, int cache_kib) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path_.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                           nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return fail(open_error(db.get(), "cannot open the database", rc));
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  const std::string cache = fmt::format("PRAGMA cache_size = -{}", cache_kib);
  if (rc = exec(db.get(), cache.c_str()); rc != SQLITE_OK) {
    // The first statement to read the file: a file that is not a database fails here.
    return fail(open_error(db.get(), "cannot open the database", rc));
  }
  return db;
}

Status SqliteStore::open() {
  if (path_.empty()) return fail(unavailable("(empty path)", "no database path given"));
  if (sqlite3_threadsafe() == 0) {
    return fail(unavailable(path_, "libsqlite3 was built without thread support"));
  }
  // SQLite creates the file but not its directory.
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return fail(unavailable(
          path_, fmt::format("cannot create directory {}: {}", parent.string(), ec.message())));
    }
  }

  Result<Db> writer = connect(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, kWriterCacheKib);
  if (!writer) return fail(std::move(writer.error()));
  writer_ = std::move(*writer);
  sqlite3* w = writer_.get();

  // Refuse a newer schema before changing anything in the file (journal mode included).
  std::int64_t version = 0;
  if (int rc = query_int(w, "PRAGMA user_version", version); rc != SQLITE_OK) {
    return fail(open_error(w, "cannot read the schema version", rc));
  }
  if (version > kSqliteSchemaVersion) {
    return fail(unavailable(path_, fmt::format("database schema version {} is newer than this "
                                               "corral ({})",
                                               version, kSqliteSchemaVersion)));
  }
  std::string journal_mode;
  if (int rc = query_text(w, "PRAGMA journal_mode = WAL", journal_mode); rc != SQLITE_OK) {
    return fail(open_error(w, "cannot set journal_mode=WAL", rc));
  }
  if (journal_mode != "wal") {
    // ":memory:" or a file system without shared memory: readers would block the writer.
    return fail(unavailable(path_, fmt::format("journal_mode=WAL refused (got {})", journal_mode)));
  }
  // FULL: the WAL is fsynced at every commit, so an acknowledged commit survives power loss.
  if (int rc = exec(w, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"); rc != SQLITE_OK) {
    return fail(open_error(w, "cannot set synchronous/foreign_keys", rc));
  }
  std::int64_t foreign_keys = 0;
  if (int rc = query_int(w, "PRAGMA foreign_keys", foreign_keys); rc != SQLITE_OK) {
    return fail(open_error(w, "cannot read foreign_keys", rc));
  }
  if (foreign_keys != 1) return fail(unavailable(path_, "libsqlite3 cannot enforce foreign keys"));

  if (Status migrated = sqlite::migrate(w, path_); !migrated) return migrated;

  const std::pair<Stmt*, const char*> writer_statements[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&insert_transition_, sql().insert_transition.c_str()},
      {&count_vms_, "SELECT count(*) FROM vms"},
      {&max_op_id_, "SELECT max(id) FROM operations"},
      {&max_transition_id_, "SELECT max(id) FROM transitions"},
      {&load_vms_, sql().load_vms.c_str()},
      {&upsert_host_, sql().upsert_host.c_str()},
      {&delete_host_, "DELETE FROM hosts WHERE name = ?1"},
      {&upsert_group_, sql().upsert_group.c_str()},
      {&delete_group_, "DELETE FROM server_groups WHERE id = ?1"},
      {&load_groups_, sql().load_groups.c_str()},
  };
  for (const auto& [stmt, sql] : writer_statements) {
    if (int rc = prepare(w, sql, *stmt); rc != SQLITE_OK) {
      return fail(open_error(w, fmt::format("cannot prepare \"{}\"", sql), rc));
    }
  }
  std::string failed_sql;
  if (int rc = upsert_vm_.prepare(w, failed_sql); rc != SQLITE_OK) {
    return fail(open_error(w, fmt::format("cannot prepare \"{}\"", failed_sql), rc));
  }
  if (int rc = upsert_operation_.prepare(w, failed_sql); rc != SQLITE_OK) {
    return fail(open_error(w, fmt::format("cannot prepare \"{}\"", failed_sql), rc));
  }

  // The reader never writes (query_only), so it needs no synchronous or foreign_keys.
  Result<Db> reader = connect(SQLITE_OPEN_READWRITE, kReaderCacheKib);
  if (!reader) return fail(std::move(reader.error()));
  reader_ = std::move(*reader);
  sqlite3* r = reader_.get();
  if (int rc = exec(r, "PRAGMA query_only = ON"); rc != SQLITE_OK) {
    return fail(open_error(r, "cannot set query_only", rc));
  }
  const std::pair<Stmt*, const char*> reader_statements[] = {
      {&history_, sql().history.c_str()},
      {&operation_, sql().operation.c_str()},
      {&count_transitions_, "SELECT count(*) FROM transitions"},
      {&load_hosts_, sql().load_hosts.c_str()},
      {&integrity_check_, "PRAGMA integrity_check"},
  };
  for (const auto& [stmt, sql] : reader_statements) {
    if (int rc = prepare(r, sql, *stmt); rc != SQLITE_OK) {
      return fail(open_error(r, fmt::format("cannot prepare \"{}\"", sql), rc));
    }
  }
  if (Status s = records_.prepare(w, r); !s) return s;
  if (Status s = outbox_.prepare(w, r); !s) return s;
  return resources_.prepare(w);
}

// ---- Writes -------------------------------------------------------------------------------

Status SqliteStore::commit(const Batch& batch) {
  if (batch.empty()) return {};
  std::lock_guard lock(write_mu_);
  {
    StmtUse use(begin_);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      Error e = error(writer_.get(), "commit: begin", rc);
      if (auto failed = rollback()) e.message += "; " + *failed;
      return fail(std::move(e));
    }
  }
  Status written = write_batch(batch);
  if (written) {
    StmtUse use(commit_);
    // A deferred foreign key fails here, as does the fsync of the WAL.
    const int rc = use.step();
    if (rc == SQLITE_DONE) return {};
    written = fail(error(writer_.get(), "commit", rc));
  }
  if (auto failed = rollback()) written.error().message += "; " + *failed;
  return written;
}

std::optional<std::string> SqliteStore::rollback() {
  // Some errors (a full disk, an I/O error) have already rolled the transaction back.
  if (sqlite3_get_autocommit(writer_.get()) != 0) return std::nullopt;
  StmtUse use(rollback_);
  if (int rc = use.step(); rc != SQLITE_DONE) {
    return fmt::format("rollback failed too: {}", sqlite::describe(writer_.get(), rc));
  }
  return std::nullopt;
}

template <typename In, typename Out, typename What>
Status SqliteStore::write_row(const Stmt& stmt, const sqlite::RowCodec<In, Out>& codec,
                              const In& row, What what) {
  StmtUse use(stmt);
  sqlite::bind_row(use, codec, row);
  if (int rc = use.step(); rc != SQLITE_DONE) {
    return fail(error(writer_.get(), "commit: " + what(), rc));
  }
  return {};
}

template <typename In, typename Out, typename What>
Status SqliteStore::write_row(const sqlite::Upsert<In, Out>& upsert, const In& row, What what) {
  if (int rc = upsert.write(row); rc != SQLITE_DONE) {
    return fail(error(writer_.get(), "commit: " + what(), rc));
  }
  return {};
}

Status SqliteStore::write_batch(const Batch& batch) {
  auto write_operation = [&](const sqlite::OperationRef& op) {
    return write_row(upsert_operation_, op,
                     [&] { return fmt::format("operation {} of vm {}", op.meta.id, op.vm_id); });
  };
  // Each operation once, in its newest version: the engine lists a version at every step,
  // and a VM's current operation, written with the VM below, is newer than any listed. So the
  // listed rows are read newest first, and an operation already seen is skipped.
  std::unordered_set<OpId> written;
  for (const Vm* vm : batch.vms) {
    if (vm != nullptr && vm->record.op) written.insert(vm->op.id);
  }
  for (auto row = batch.operations.rbegin(); row != batch.operations.rend(); ++row) {
    if (!written.insert(row->meta.id).second) continue;
    if (Status s = write_operation({row->vm_id, row->op, row->meta}); !s) return s;
  }
  for (const Vm* vm : batch.vms) {
    if (vm == nullptr)
      return fail(Error::internal("sqlite store: commit: a batch holds a null vm"));
    Status s = write_row(upsert_vm_, *vm, [&] { return fmt::format("vm {}", vm->id); });
    if (!s) return s;
    if (vm->record.op) {
      if (s = write_operation({vm->id, *vm->record.op, vm->op}); !s) return s;
    }
  }
  for (const TransitionRow& t : batch.transitions) {
    Status s = write_row(insert_transition_, sqlite::transition_codec(), t, [&] {
      return fmt::format("transition of vm {} (operation {})", t.vm_id, t.op_id);
    });
    if (!s) return s;
  }
  for (const std::string& name : batch.deleted_hosts) {
    StmtUse use(delete_host_);
    use.bind(name);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(error(writer_.get(), fmt::format("commit: delete host {}", name), rc));
    }
  }
  for (const HostRow& host : batch.hosts) {
    Status s = write_row(upsert_host_, sqlite::host_codec(), host,
                         [&] { return fmt::format("host {}", host.name); });
    if (!s) return s;
  }
  for (GroupId id : batch.deleted_groups) {
    StmtUse use(delete_group_);
    use.bind(id);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(error(writer_.get(), fmt::format("commit: delete server group {}", id), rc));
    }
  }
  for (const ServerGroupRow& group : batch.groups) {
    Status s = write_row(upsert_group_, sqlite::group_codec(), group,
                         [&] { return fmt::format("server group {}", group.id); });
    if (!s) return s;
  }
  if (Status s = records_.write(writer_.get(), batch); !s) return s;
  if (Status s = outbox_.write(writer_.get(), batch); !s) return s;
  return resources_.write(writer_.get(), batch);
}

// ---- Reads --------------------------------------------------------------------------------

Result<Loaded> SqliteStore::load() {
  // The writer connection: load() runs on the engine thread, before its first commit.
  std::lock_guard lock(write_mu_);
  sqlite3* w = writer_.get();
  Loaded out;
  {
    StmtUse use(count_vms_);
    if (int rc = use.step(); rc != SQLITE_ROW) return fail(error(w, "load: count vms", rc));
    // Exact, so 100,000 VMs do not leave a vector with room for 131,072.
    out.vms.reserve(static_cast<std::size_t>(sqlite3_column_int64(count_vms_.get(), 0)));
  }
  {
    StmtUse use(max_op_id_);
    if (int rc = use.step(); rc != SQLITE_ROW) return fail(error(w, "load: max operation id", rc));
    out.max_op_id = sqlite3_column_int64(max_op_id_.get(), 0);  // NULL (no rows) reads as 0
  }
  {
    StmtUse use(max_transition_id_);
    if (int rc = use.step(); rc != SQLITE_ROW) {
      return fail(error(w, "load: max transition id", rc));
    }
    out.max_transition_id = sqlite3_column_int64(max_transition_id_.get(), 0);
  }
  StmtUse use(load_vms_);
  int rc = SQLITE_OK;
  while ((rc = use.step()) == SQLITE_ROW) {
    Vm& vm = out.vms.emplace_back();
    RowReader r(use.get());
    sqlite::read_row(r, sqlite::vm_codec(), vm);
    if (vm.record.op) {  // op_id was not NULL
      if (r.null()) {
        return fail(corrupt("load", fmt::format("vm {} refers to operation {}, which is not stored",
                                                vm.id, vm.op.id)));
      }
      OperationRow op;
      sqlite::read_row(r, sqlite::operation_codec(), op);
      *vm.record.op = op.op;
      vm.op = std::move(op.meta);
      out.max_op_id = std::max(out.max_op_id, vm.op.id);
    }
    if (r.problem()) return fail(corrupt("load", fmt::format("vm {}: {}", vm.id, *r.problem())));
  }
  if (rc != SQLITE_DONE) return fail(error(w, "load: vms", rc));
  if (!out.vms.empty()) out.max_vm_id = out.vms.back().id;
  StmtUse groups(load_groups_);
  while ((rc = groups.step()) == SQLITE_ROW) {
    ServerGroupRow& group = out.groups.emplace_back();
    RowReader r(groups.get());
    sqlite::read_row(r, sqlite::group_codec(), group);
    if (r.problem()) {
      return fail(corrupt("load", fmt::format("server group {}: {}", group.id, *r.problem())));
    }
  }
  if (rc != SQLITE_DONE) return fail(error(w, "load: server groups", rc));
  if (Status records = records_.load(w, out); !records) return fail(std::move(records.error()));
  if (Status resources = resources_.load(w, out); !resources) {
    return fail(std::move(resources.error()));
  }
  if (Status outbox = outbox_.load(w, out); !outbox) return fail(std::move(outbox.error()));
  return out;
}

Result<std::vector<TransitionRow>> SqliteStore::history(VmId vm, std::int64_t after_id, int limit) {
  if (limit < 0) {
    return fail(Error::invalid_argument(fmt::format("history: limit {} is negative", limit)));
  }
  std::vector<TransitionRow> out;
  if (limit == 0) return out;  // SQLite would read LIMIT 0 the same; skip the lock
  out.reserve(static_cast<std::size_t>(std::min(limit, 1024)));
  std::lock_guard lock(read_mu_);
  StmtUse use(history_);
  use.bind(vm).bind(after_id).bind(std::int64_t{limit});
  int rc = SQLITE_OK;
  while ((rc = use.step()) == SQLITE_ROW) {
    TransitionRow& t = out.emplace_back();
    RowReader r(use.get());
    sqlite::read_row(r, sqlite::transition_codec(), t);
    if (r.problem()) {
      return fail(corrupt("history", fmt::format("transition {}: {}", t.id, *r.problem())));
    }
  }
  if (rc != SQLITE_DONE) {
    return fail(error(reader_.get(), fmt::format("history of vm {}", vm), rc));
  }
  return out;
}

Result<std::optional<OperationRow>> SqliteStore::operation(OpId id) {
  std::lock_guard lock(read_mu_);
  StmtUse use(operation_);
  use.bind(id);
  const int rc = use.step();
  if (rc == SQLITE_DONE) return std::optional<OperationRow>();
  if (rc != SQLITE_ROW) return fail(error(reader_.get(), fmt::format("operation {}", id), rc));
  OperationRow row;
  RowReader r(use.get());
  sqlite::read_row(r, sqlite::operation_codec(), row);
  if (r.problem()) return fail(corrupt(fmt::format("operation {}", id), *r.problem()));
  return std::optional<OperationRow>(std::move(row));
}

Result<std::int64_t> SqliteStore::count_transitions() {
  std::lock_guard lock(read_mu_);
  StmtUse use(count_transitions_);
  if (int rc = use.step(); rc != SQLITE_ROW) {
    return fail(error(reader_.get(), "count transitions", rc));
  }
  return sqlite3_column_int64(count_transitions_.get(), 0);
}

Result<std::vector<HostRow>> SqliteStore::load_hosts() {
  std::vector<HostRow> out;
  std::lock_guard lock(read_mu_);
  StmtUse use(load_hosts_);
  int rc = SQLITE_OK;
  while ((rc = use.step()) == SQLITE_ROW) {
    HostRow& host = out.emplace_back();
    RowReader r(use.get());
    sqlite::read_row(r, sqlite::host_codec(), host);
    if (r.problem()) {
      return fail(corrupt("hosts", fmt::format("host {}: {}", host.name, *r.problem())));
    }
  }
  if (rc != SQLITE_DONE) return fail(error(reader_.get(), "hosts", rc));
  return out;
}

Result<std::string> SqliteStore::integrity_check() {
  std::lock_guard lock(read_mu_);
  StmtUse use(integrity_check_);
  std::string out;
  int rc = SQLITE_OK;
  while ((rc = use.step()) == SQLITE_ROW) {
    if (!out.empty()) out += '\n';
    out += RowReader(use.get()).text();
  }
  if (rc != SQLITE_DONE) return fail(error(reader_.get(), "integrity_check", rc));
  return out;
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  auto store = std::make_unique<SqliteStore>(path);
  if (Status opened = store->open(); !opened) return fail(std::move(opened.error()));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace corral::store
