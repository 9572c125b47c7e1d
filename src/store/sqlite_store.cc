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
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/sqlite_schema.h"
#include "store/store.h"

namespace corral::store {
namespace {

using lifecycle::Action;
using lifecycle::OpStatus;
using lifecycle::Phase;
using lifecycle::Power;
using lifecycle::State;

constexpr int kBusyTimeoutMs = 5000;
// Page cache per connection, in KiB. The engine keeps every VM in memory, so SQLite's cache
// only needs the pages one batch touches (index interior pages, the tail of transitions);
// the OS page cache holds the rest. Small on purpose: RSS per VM is a budget.
constexpr int kWriterCacheKib = 8192;
constexpr int kReaderCacheKib = 2048;

struct Migration {
  int version;
  const char* sql;
};

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

constexpr const char* kUpsertVmSql =
    "INSERT INTO vms(id, name, image, vcpus, memory_mib, desired_image, desired_vcpus, "
    "desired_memory_mib, model_error, state, power, resched, host, pending_reason, op_id, "
    "created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
    "?14, ?15, ?16, ?17) "
    // An upsert, not INSERT OR REPLACE: REPLACE deletes and re-inserts the row, which rewrites
    // every index entry and makes SQLite look for history rows referencing the deleted VM.
    "ON CONFLICT(id) DO UPDATE SET name = excluded.name, image = excluded.image, "
    "vcpus = excluded.vcpus, memory_mib = excluded.memory_mib, "
    "desired_image = excluded.desired_image, desired_vcpus = excluded.desired_vcpus, "
    "desired_memory_mib = excluded.desired_memory_mib, model_error = excluded.model_error, "
    "state = excluded.state, power = excluded.power, resched = excluded.resched, "
    "host = excluded.host, pending_reason = excluded.pending_reason, op_id = excluded.op_id, "
    "created_at = excluded.created_at, updated_at = excluded.updated_at";

constexpr const char* kUpsertOperationSql =
    "INSERT INTO operations(id, vm_id, action, origin, step, status, during, params, actor, "
    "request_id, started_at, deadline, finished_at, error, attempt) VALUES(?1, ?2, ?3, ?4, ?5, "
    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
    "ON CONFLICT(id) DO UPDATE SET vm_id = excluded.vm_id, action = excluded.action, "
    "origin = excluded.origin, step = excluded.step, status = excluded.status, "
    "during = excluded.during, params = excluded.params, actor = excluded.actor, "
    "request_id = excluded.request_id, started_at = excluded.started_at, "
    "deadline = excluded.deadline, finished_at = excluded.finished_at, "
    "error = excluded.error, attempt = excluded.attempt";

constexpr const char* kInsertTransitionSql =
    "INSERT INTO transitions(vm_id, op_id, from_state, to_state, action, phase, status, actor, "
    "request_id, at, reason, id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

constexpr const char* kLoadVmsSql =
    "SELECT v.id, v.name, v.image, v.vcpus, v.memory_mib, v.desired_image, v.desired_vcpus, "
    "v.desired_memory_mib, v.model_error, v.state, v.power, v.resched, v.host, "
    "v.pending_reason, v.op_id, v.created_at, v.updated_at, "
    // The operation's columns in read_operation()'s order.
    "o.id, o.action, o.origin, o.step, o.status, o.during, o.params, o.actor, o.request_id, "
    "o.started_at, o.deadline, o.finished_at, o.error, o.attempt "
    "FROM vms AS v LEFT JOIN operations AS o ON o.id = v.op_id ORDER BY v.id";

constexpr const char* kOperationSql =
    "SELECT id, vm_id, action, origin, step, status, during, params, actor, request_id, "
    "started_at, deadline, finished_at, error, attempt FROM operations WHERE id = ?1";

constexpr const char* kHistorySql =
    "SELECT id, vm_id, op_id, from_state, to_state, action, phase, status, actor, request_id, "
    "at, reason FROM transitions WHERE vm_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";

// ---- SQLite handles ---------------------------------------------------------------------

struct CloseDb {
  // close_v2: if a statement is somehow still alive, the close completes when it is finalized.
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

struct FinalizeStmt {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

// One use of a prepared statement: binds parameters in order, steps, and resets the statement
// when the use ends, however it ends. A statement left un-reset keeps its read snapshot (the
// WAL cannot be checkpointed past it) and makes ROLLBACK fail.
class StmtUse {
 public:
  explicit StmtUse(const Stmt& stmt) : stmt_(stmt.get()) {}
  ~StmtUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;

  StmtUse& bind(std::int64_t value) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_, next_, value);
    ++next_;
    return *this;
  }
  // The text is not copied: it must outlive the step (the caller's batch does).
  StmtUse& bind(std::string_view value) {
    if (rc_ == SQLITE_OK) {
      rc_ =
          sqlite3_bind_text64(stmt_, next_, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    ++next_;
    return *this;
  }
  StmtUse& bind_null() {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_null(stmt_, next_);
    ++next_;
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE, or an error code (a failed bind included).
  int step() { return rc_ != SQLITE_OK ? rc_ : sqlite3_step(stmt_); }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
  int next_ = 1;
  int rc_ = SQLITE_OK;
};

template <typename E>
std::int64_t num(E value) {
  return static_cast<std::int64_t>(std::to_underlying(value));
}

bool known(State s) {
  return std::ranges::find(lifecycle::kAllStates, s) != lifecycle::kAllStates.end();
}
bool known(Action a) {
  return std::ranges::find(lifecycle::kAllActions, a) != lifecycle::kAllActions.end();
}
bool known(Phase p) {
  return std::ranges::find(lifecycle::kAllPhases, p) != lifecycle::kAllPhases.end();
}
bool known(Power p) {
  switch (p) {
    case Power::kNoState:
    case Power::kRunning:
    case Power::kPaused:
    case Power::kShutdown:
    case Power::kCrashed:
    case Power::kSuspended:
      return true;
  }
  return false;
}
bool known(OpStatus s) {
  switch (s) {
    case OpStatus::kRunning:
    case OpStatus::kSucceeded:
    case OpStatus::kFailed:
    case OpStatus::kCanceled:
      return true;
  }
  return false;
}

// Reads the columns of the current row left to right, checking that numbers fit their C++
// types and enum columns hold a known stable number. The first bad value is kept in
// problem(): a row that does not decode is a corrupt row, reported, never half-used.
class RowReader {
 public:
  explicit RowReader(sqlite3_stmt* stmt) : stmt_(stmt) {}

  bool null() const { return sqlite3_column_type(stmt_, col_) == SQLITE_NULL; }
  void skip(int n = 1) { col_ += n; }
  std::int64_t i64() { return sqlite3_column_int64(stmt_, col_++); }
  std::string text() {
    const unsigned char* p = sqlite3_column_text(stmt_, col_);
    const int n = sqlite3_column_bytes(stmt_, col_);
    ++col_;
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
  }
  template <std::integral T>
  T integer() {
    const int col = col_;
    const std::int64_t n = i64();
    if (std::cmp_less(n, std::numeric_limits<T>::min()) ||
        std::cmp_greater(n, std::numeric_limits<T>::max())) {
      note(col, n);
      return T{};
    }
    return static_cast<T>(n);
  }
  bool boolean() { return i64() != 0; }
  template <typename E>
  E enumerator() {
    static_assert(std::is_enum_v<E>);
    const int col = col_;
    const std::int64_t n = i64();
    using U = std::underlying_type_t<E>;
    if (std::cmp_greater_equal(n, std::numeric_limits<U>::min()) &&
        std::cmp_less_equal(n, std::numeric_limits<U>::max()) &&
        known(static_cast<E>(static_cast<U>(n)))) {
      return static_cast<E>(static_cast<U>(n));
    }
    note(col, n);
    return E{};
  }

  const std::optional<std::string>& problem() const { return problem_; }

 private:
  void note(int col, std::int64_t n) {
    if (problem_) return;
    const char* name = sqlite3_column_name(stmt_, col);
    problem_ = fmt::format("column {} holds {}, which is out of range", name ? name : "?", n);
  }

  sqlite3_stmt* stmt_;
  int col_ = 0;
  std::optional<std::string> problem_;
};

// The 13 columns action ... attempt of an operations row, in table order.
void read_operation(RowReader& r, lifecycle::Operation& op, OpMeta& meta) {
  op.action = r.enumerator<Action>();
  op.origin = r.enumerator<State>();
  op.step = r.integer<std::uint8_t>();
  op.status = r.enumerator<OpStatus>();
  op.during = r.boolean();
  meta.params = params_from_json_text(r.text());
  meta.actor = r.text();
  meta.request_id = r.text();
  meta.started_at = r.i64();
  meta.deadline = r.i64();
  meta.finished_at = r.i64();
  meta.error = r.text();
  meta.attempt = r.integer<std::uint32_t>();
}

// Which failures are the environment's (retry later, HTTP 503) and which are bugs or damage.
ErrorCode code_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
      return ErrorCode::kUnavailable;
    default:  // constraint, corrupt, misuse ...: not something a retry fixes
      return ErrorCode::kInternal;
  }
}

std::string describe(sqlite3* db, int rc) {
  // errmsg names the detail ("FOREIGN KEY constraint failed", "disk I/O error") when it is
  // about this rc; a failed bind or open may not have set it.
  const char* msg =
      db != nullptr && sqlite3_extended_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return fmt::format("{} (sqlite error {})", msg, rc);
}

Error sqlite_error(sqlite3* db, const std::string& path, std::string_view what, int rc) {
  return Error{
      code_for(rc), fmt::format("sqlite store {}: {}: {}", path, what, describe(db, rc)), {}, {}};
}

Error unavailable(const std::string& path, std::string_view what) {
  return Error{ErrorCode::kUnavailable, fmt::format("sqlite store {}: {}", path, what), {}, {}};
}

// ---- Open-time helpers (constant SQL only, no values) -----------------------------------

int exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

int prepare(sqlite3* db, const char* sql, Stmt& out) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  out.reset(raw);
  return rc;
}

// The first column of the first row of a one-off query (a pragma), as an integer or text.
int query_int(sqlite3* db, const char* sql, std::int64_t& out) {
  Stmt stmt;
  if (int rc = prepare(db, sql, stmt); rc != SQLITE_OK) return rc;
  StmtUse use(stmt);
  const int rc = use.step();
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_EMPTY : rc;
  out = sqlite3_column_int64(stmt.get(), 0);
  return SQLITE_OK;
}
int query_text(sqlite3* db, const char* sql, std::string& out) {
  Stmt stmt;
  if (int rc = prepare(db, sql, stmt); rc != SQLITE_OK) return rc;
  StmtUse use(stmt);
  const int rc = use.step();
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_EMPTY : rc;
  out = RowReader(stmt.get()).text();
  return SQLITE_OK;
}

// ---- The store ----------------------------------------------------------------------------

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}

  Status open();

  Result<Loaded> load() override;
  Status commit(const Batch& batch) override;
  Result<std::vector<TransitionRow>> history(VmId vm, std::int64_t after_id, int limit) override;
  Result<std::optional<OperationRow>> operation(OpId id) override;
  Result<std::int64_t> count_transitions() override;
  Result<std::string> integrity_check() override;

 private:
  Error error(sqlite3* db, std::string_view what, int rc) const {
    return sqlite_error(db, path_, what, rc);
  }
  // Everything that fails while opening is the environment's: kUnavailable.
  Error open_error(sqlite3* db, std::string_view what, int rc) const {
    Error e = error(db, what, rc);
    e.code = ErrorCode::kUnavailable;
    return e;
  }
  Result<Db> connect(int flags, int cache_kib);
  Status migrate();

  Status write_batch(const Batch& batch);
  Status upsert_vm(const Vm& vm);
  Status upsert_operation(VmId vm_id, const lifecycle::Operation& op, const OpMeta& meta);
  Status insert_transition(const TransitionRow& t);
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
  Stmt upsert_vm_;
  Stmt upsert_operation_;
  Stmt insert_transition_;
  Stmt count_vms_;
  Stmt max_op_id_;
  Stmt max_transition_id_;
  Stmt load_vms_;

  std::mutex read_mu_;
  Db reader_;
  Stmt history_;
  Stmt operation_;
  Stmt count_transitions_;
  Stmt integrity_check_;
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

  if (Status migrated = migrate(); !migrated) return migrated;

  const std::pair<Stmt*, const char*> writer_statements[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&upsert_vm_, kUpsertVmSql},
      {&upsert_operation_, kUpsertOperationSql},
      {&insert_transition_, kInsertTransitionSql},
      {&count_vms_, "SELECT count(*) FROM vms"},
      {&max_op_id_, "SELECT max(id) FROM operations"},
      {&max_transition_id_, "SELECT max(id) FROM transitions"},
      {&load_vms_, kLoadVmsSql},
  };
  for (const auto& [stmt, sql] : writer_statements) {
    if (int rc = prepare(w, sql, *stmt); rc != SQLITE_OK) {
      return fail(open_error(w, fmt::format("cannot prepare \"{}\"", sql), rc));
    }
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
      {&history_, kHistorySql},
      {&operation_, kOperationSql},
      {&count_transitions_, "SELECT count(*) FROM transitions"},
      {&integrity_check_, "PRAGMA integrity_check"},
  };
  for (const auto& [stmt, sql] : reader_statements) {
    if (int rc = prepare(r, sql, *stmt); rc != SQLITE_OK) {
      return fail(open_error(r, fmt::format("cannot prepare \"{}\"", sql), rc));
    }
  }
  return {};
}

Status SqliteStore::migrate() {
  sqlite3* w = writer_.get();
  // IMMEDIATE, and the version read again inside: two processes opening a new file at once
  // apply each migration once.
  if (int rc = exec(w, "BEGIN IMMEDIATE"); rc != SQLITE_OK) {
    return fail(open_error(w, "migrate: begin", rc));
  }
  auto abort = [&](Error e) -> Status {
    exec(w, "ROLLBACK");
    return fail(std::move(e));
  };
  std::int64_t version = 0;
  if (int rc = query_int(w, "PRAGMA user_version", version); rc != SQLITE_OK) {
    return abort(open_error(w, "migrate: cannot read the schema version", rc));
  }
  if (version > kSqliteSchemaVersion) {
    return abort(unavailable(path_, fmt::format("database schema version {} is newer than this "
                                                "corral ({})",
                                                version, kSqliteSchemaVersion)));
  }
  if (version == kSqliteSchemaVersion) {
    exec(w, "ROLLBACK");  // nothing to do; nothing was written
    return {};
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= version) continue;
    if (int rc = exec(w, m.sql); rc != SQLITE_OK) {
      return abort(open_error(w, fmt::format("migration {}", m.version), rc));
    }
  }
  // PRAGMA takes no parameters; the number is our own constant, not data.
  const std::string set_version = fmt::format("PRAGMA user_version = {}", kSqliteSchemaVersion);
  if (int rc = exec(w, set_version.c_str()); rc != SQLITE_OK) {
    return abort(open_error(w, "migrate: cannot set user_version", rc));
  }
  if (int rc = exec(w, "COMMIT"); rc != SQLITE_OK) {
    return abort(open_error(w, "migrate: commit", rc));
  }
  return {};
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
    return fmt::format("rollback failed too: {}", describe(writer_.get(), rc));
  }
  return std::nullopt;
}

Status SqliteStore::write_batch(const Batch& batch) {
  // Explicit operation rows first: a VM's own current operation, written with the VM below,
  // is the newest version of that row and must win.
  for (const OperationRow& row : batch.operations) {
    if (Status s = upsert_operation(row.vm_id, row.op, row.meta); !s) return s;
  }
  for (const Vm* vm : batch.vms) {
    if (vm == nullptr)
      return fail(Error::internal("sqlite store: commit: a batch holds a null vm"));
    if (Status s = upsert_vm(*vm); !s) return s;
    if (vm->record.op) {
      if (Status s = upsert_operation(vm->id, *vm->record.op, vm->op); !s) return s;
    }
  }
  for (const TransitionRow& t : batch.transitions) {
    if (Status s = insert_transition(t); !s) return s;
  }
  return {};
}

Status SqliteStore::upsert_vm(const Vm& vm) {
  StmtUse use(upsert_vm_);
  use.bind(vm.id).bind(vm.name).bind(vm.model.image).bind(vm.model.vcpus).bind(vm.model.memory_mib);
  if (vm.desired) {
    use.bind(vm.desired->image).bind(vm.desired->vcpus).bind(vm.desired->memory_mib);
  } else {
    use.bind_null().bind_null().bind_null();
  }
  use.bind(vm.model_error)
      .bind(num(vm.record.state))
      .bind(num(vm.record.power))
      .bind(std::int64_t{vm.record.resched})
      .bind(vm.host)
      .bind(vm.pending_reason);
  if (vm.record.op) {
    use.bind(vm.op.id);
  } else {
    use.bind_null();
  }
  use.bind(vm.created_at).bind(vm.updated_at);
  if (int rc = use.step(); rc != SQLITE_DONE) {
    return fail(error(writer_.get(), fmt::format("commit: vm {}", vm.id), rc));
  }
  return {};
}

Status SqliteStore::upsert_operation(VmId vm_id, const lifecycle::Operation& op,
                                     const OpMeta& meta) {
  const std::string params = to_json_text(meta.params);  // bound SQLITE_STATIC: outlives step()
  StmtUse use(upsert_operation_);
  use.bind(meta.id)
      .bind(vm_id)
      .bind(num(op.action))
      .bind(num(op.origin))
      .bind(std::int64_t{op.step})
      .bind(num(op.status))
      .bind(std::int64_t{op.during})
      .bind(params)
      .bind(meta.actor)
      .bind(meta.request_id)
      .bind(meta.started_at)
      .bind(meta.deadline)
      .bind(meta.finished_at)
      .bind(meta.error)
      .bind(std::int64_t{meta.attempt});
  if (int rc = use.step(); rc != SQLITE_DONE) {
    return fail(
        error(writer_.get(), fmt::format("commit: operation {} of vm {}", meta.id, vm_id), rc));
  }
  return {};
}

Status SqliteStore::insert_transition(const TransitionRow& t) {
  StmtUse use(insert_transition_);
  use.bind(t.vm_id)
      .bind(t.op_id)
      .bind(num(t.from))
      .bind(num(t.to))
      .bind(num(t.action))
      .bind(num(t.phase))
      .bind(num(t.status))
      .bind(t.actor)
      .bind(t.request_id)
      .bind(t.at)
      .bind(t.reason);
  // The engine numbers transitions itself (the event stream carries the ids); 0 lets SQLite.
  if (t.id > 0) {
    use.bind(t.id);
  } else {
    use.bind_null();
  }
  if (int rc = use.step(); rc != SQLITE_DONE) {
    return fail(error(writer_.get(),
                      fmt::format("commit: transition of vm {} (operation {})", t.vm_id, t.op_id),
                      rc));
  }
  return {};
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
    vm.id = r.i64();
    vm.name = r.text();
    vm.model.image = r.text();
    vm.model.vcpus = r.integer<int>();
    vm.model.memory_mib = r.integer<int>();
    if (r.null()) {
      r.skip(3);  // desired_image, desired_vcpus, desired_memory_mib: no desired model
    } else {
      VmModel& desired = vm.desired.emplace();
      desired.image = r.text();
      desired.vcpus = r.integer<int>();
      desired.memory_mib = r.integer<int>();
    }
    vm.model_error = r.text();
    vm.record.state = r.enumerator<State>();
    vm.record.power = r.enumerator<Power>();
    vm.record.resched = r.boolean();
    vm.host = r.text();
    vm.pending_reason = r.text();
    const bool has_op = !r.null();
    const OpId op_id = r.i64();
    vm.created_at = r.i64();
    vm.updated_at = r.i64();
    if (has_op) {
      if (r.null()) {
        return fail(Error::internal(
            fmt::format("sqlite store {}: load: vm {} refers to operation {}, which is not stored",
                        path_, vm.id, op_id)));
      }
      vm.op.id = r.i64();
      read_operation(r, vm.record.op.emplace(), vm.op);
      out.max_op_id = std::max(out.max_op_id, op_id);
    }
    if (r.problem()) {
      return fail(Error::internal(
          fmt::format("sqlite store {}: load: vm {}: {}", path_, vm.id, *r.problem())));
    }
  }
  if (rc != SQLITE_DONE) return fail(error(w, "load: vms", rc));
  if (!out.vms.empty()) out.max_vm_id = out.vms.back().id;
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
    t.id = r.i64();
    t.vm_id = r.i64();
    t.op_id = r.i64();
    t.from = r.enumerator<State>();
    t.to = r.enumerator<State>();
    t.action = r.enumerator<Action>();
    t.phase = r.enumerator<Phase>();
    t.status = r.enumerator<OpStatus>();
    t.actor = r.text();
    t.request_id = r.text();
    t.at = r.i64();
    t.reason = r.text();
    if (r.problem()) {
      return fail(Error::internal(
          fmt::format("sqlite store {}: history: transition {}: {}", path_, t.id, *r.problem())));
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
  row.meta.id = r.i64();
  row.vm_id = r.i64();
  read_operation(r, row.op, row.meta);
  if (r.problem()) {
    return fail(
        Error::internal(fmt::format("sqlite store {}: operation {}: {}", path_, id, *r.problem())));
  }
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
