#include "audit/audit_log.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "audit/entry_codec.h"
#include "common/log.h"
#include "store/sqlite_util.h"

namespace corral::audit {

bool outcome_known(Outcome o) {
  switch (o) {
    case Outcome::kAccepted:
    case Outcome::kRefused:
    case Outcome::kFailed:
      return true;
  }
  return false;
}

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kAccepted:
      return "accepted";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kFailed:
      return "failed";
  }
  return "unknown";
}

Outcome outcome_of_status(int http_status) {
  if (http_status >= 500) return Outcome::kFailed;
  if (http_status >= 400) return Outcome::kRefused;
  return Outcome::kAccepted;
}

namespace {

using store::sqlite::Db;
using store::sqlite::RowReader;
using store::sqlite::Stmt;
using store::sqlite::StmtUse;

constexpr int kBusyTimeoutMs = 5000;
constexpr std::size_t kMaxBatch = 4096;
// While nobody waits for the queued entries (copies from the outbox, refusals), they are
// committed at most this often, or once kLingerBatch are queued: a commit costs about as much
// as a few dozen entries, and these are durable already (the outbox) or need not be.
constexpr auto kLinger = std::chrono::milliseconds(50);
constexpr std::size_t kLingerBatch = 1024;

// Numbered migrations of audit.db (PRAGMA user_version): append, never edit.
constexpr const char* kMigrations[] = {
    // 1
    "CREATE TABLE entries ("
    " id INTEGER PRIMARY KEY, at INTEGER NOT NULL, request_id TEXT NOT NULL,"
    " user_id INTEGER NOT NULL, user TEXT NOT NULL, project_id INTEGER NOT NULL,"
    " project TEXT NOT NULL, source TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,"
    " route TEXT NOT NULL, vm INTEGER NOT NULL, verb TEXT NOT NULL, vocabulary TEXT NOT NULL,"
    " status INTEGER NOT NULL, outcome INTEGER NOT NULL, message TEXT NOT NULL);"
    "CREATE INDEX entries_vm ON entries (vm, id) WHERE vm != 0;"
    "CREATE INDEX entries_project ON entries (project_id, id);",
    // 2: how far the store's audit outbox is copied (audit_log.h, copy_from_outbox)
    "CREATE TABLE outbox_copied (one INTEGER PRIMARY KEY CHECK (one = 1), upto INTEGER NOT NULL);"
    "INSERT INTO outbox_copied (one, upto) VALUES (1, 0);",
};

constexpr const char* kSetCopied = "UPDATE outbox_copied SET upto = ?1 WHERE one = 1";

constexpr const char* kInsert =
    "INSERT INTO entries (at, request_id, user_id, user, project_id, project, source, method,"
    " path, route, vm, verb, vocabulary, status, outcome, message)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

constexpr const char* kSelect =
    "SELECT id, at, request_id, user_id, user, project_id, project, source, method, path, route,"
    " vm, verb, vocabulary, status, outcome, message FROM entries"
    " WHERE id > ?1 AND (?2 IS NULL OR vm = ?2) AND (?3 IS NULL OR project_id = ?3)"
    " AND (?4 IS NULL OR user = ?4) AND (?5 IS NULL OR outcome = ?5) AND at >= ?6 ORDER BY id "
    "LIMIT ?7";

struct Pending {
  Entry entry;
  std::optional<std::promise<Status>> done;  // set: a caller waits
  store::AuditOutboxRow outbox{};            // id set: `entry` is outbox.body, to decode
};

class SqliteAuditLog final : public AuditLog {
 public:
  SqliteAuditLog(std::string path, AuditOptions options)
      : path_(std::move(path)), options_(options) {}
  ~SqliteAuditLog() override { stop(); }

  Status open();
  Status record(Entry entry) override;
  void record_later(Entry entry) override;
  void copy_from_outbox(std::vector<store::AuditOutboxRow> rows) override;
  std::int64_t copied() const override { return copied_.load(); }
  Result<std::vector<Entry>> list(const Query& query) const override;
  std::uint64_t dropped() const override {
    std::lock_guard lock(mu_);
    return dropped_;
  }
  void stop() override;

 private:
  Result<Db> connect() const;
  // Whether entries that need no waiting, queued onto `before` others, must wake the writer:
  // it sleeps on an empty queue, and lingers until kLingerBatch (under mu_).
  bool wakes_writer(std::size_t before) const {
    return before == 0 || (before < kLingerBatch && queue_.size() >= kLingerBatch);
  }
  void write_loop();
  Status commit(std::deque<Pending>& batch);

  const std::string path_;
  const AuditOptions options_;
  Db writer_;
  Stmt insert_;
  Stmt set_copied_;
  std::atomic<std::int64_t> copied_{0};
  bool outbox_stuck_ = false;  // a batch with outbox entries failed (writer thread only)
  mutable std::mutex read_mu_;
  Db reader_;
  Stmt select_;

  mutable std::mutex mu_;
  mutable std::condition_variable wake_;
  std::deque<Pending> queue_;
  std::size_t waiting_ = 0;  // entries in queue_ whose record() waits
  // Entries ever queued, and ever written or given up (taken_ counts them after the commit),
  // and list()s waiting for them: a read sees what was queued before it.
  std::uint64_t queued_ = 0;
  std::uint64_t taken_ = 0;
  mutable std::size_t readers_ = 0;
  mutable std::condition_variable taken_cv_;
  std::uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

Result<Db> SqliteAuditLog::connect() const {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(
      path_.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return fail(store::sqlite::open_error(db.get(), path_, "open", rc));
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  return db;
}

Status SqliteAuditLog::open() {
  Result<Db> writer = connect();
  if (!writer) return fail(writer.error());
  writer_ = std::move(*writer);
  sqlite3* db = writer_.get();
  // synchronous = NORMAL under WAL: a commit is in the OS once it returns, so it survives the
  // process's SIGKILL (the bar for an acknowledged request); the store's database pays FULL.
  if (int rc = store::sqlite::exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
      rc != SQLITE_OK) {
    return fail(store::sqlite::open_error(db, path_, "cannot set pragmas", rc));
  }
  std::int64_t version = 0;
  if (int rc = store::sqlite::query_int(db, "PRAGMA user_version", version); rc != SQLITE_OK) {
    return fail(store::sqlite::open_error(db, path_, "cannot read its version", rc));
  }
  const auto known = static_cast<std::int64_t>(std::size(kMigrations));
  if (version > known) {
    return fail(Error::internal(fmt::format(
        "audit log {} is at version {}, newer than this corral ({})", path_, version, known)));
  }
  for (std::int64_t v = version; v < known; ++v) {
    const std::string sql =
        fmt::format("BEGIN IMMEDIATE; {} PRAGMA user_version = {}; COMMIT", kMigrations[v], v + 1);
    if (int rc = store::sqlite::exec(db, sql.c_str()); rc != SQLITE_OK) {
      store::sqlite::exec(db, "ROLLBACK");
      return fail(store::sqlite::open_error(db, path_, fmt::format("migration {}", v + 1), rc));
    }
  }
  if (int rc = store::sqlite::prepare(db, kInsert, insert_); rc != SQLITE_OK) {
    return fail(store::sqlite::sqlite_error(db, path_, "prepare insert", rc));
  }
  if (int rc = store::sqlite::prepare(db, kSetCopied, set_copied_); rc != SQLITE_OK) {
    return fail(store::sqlite::sqlite_error(db, path_, "prepare outbox_copied", rc));
  }
  std::int64_t copied = 0;
  if (int rc = store::sqlite::query_int(db, "SELECT upto FROM outbox_copied WHERE one = 1", copied);
      rc != SQLITE_OK) {
    return fail(store::sqlite::open_error(db, path_, "cannot read outbox_copied", rc));
  }
  copied_ = copied;
  Result<Db> reader = connect();
  if (!reader) return fail(reader.error());
  reader_ = std::move(*reader);
  if (int rc = store::sqlite::prepare(reader_.get(), kSelect, select_); rc != SQLITE_OK) {
    return fail(store::sqlite::sqlite_error(reader_.get(), path_, "prepare select", rc));
  }
  thread_ = std::thread([this] { write_loop(); });
  return {};
}

Status SqliteAuditLog::record(Entry entry) {
  std::promise<Status> promise;
  std::future<Status> done = promise.get_future();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return fail(Error{ErrorCode::kUnavailable, "the audit log is stopping", {}, {}});
    queue_.push_back({std::move(entry), std::move(promise)});
    ++queued_;
    ++waiting_;
  }
  wake_.notify_one();
  return done.get();
}

void SqliteAuditLog::record_later(Entry entry) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.max_pending) {
      ++dropped_;
      return;
    }
    const std::size_t before = queue_.size();
    queue_.push_back({std::move(entry), std::nullopt});
    ++queued_;
    wake = wakes_writer(before);
  }
  if (wake) wake_.notify_one();
}

void SqliteAuditLog::copy_from_outbox(std::vector<store::AuditOutboxRow> rows) {
  if (rows.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    const std::size_t before = queue_.size();
    for (store::AuditOutboxRow& row : rows) {
      queue_.push_back({Entry{}, std::nullopt, std::move(row)});
      ++queued_;
    }
    wake = wakes_writer(before);
  }
  if (wake) wake_.notify_one();
}

void SqliteAuditLog::write_loop() {
  for (;;) {
    std::deque<Pending> batch;
    bool last = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      wake_.wait_for(lock, kLinger, [&] {
        return stopping_ || waiting_ > 0 || readers_ > 0 || queue_.size() >= kLingerBatch;
      });
      last = stopping_;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        if (queue_.front().done) --waiting_;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      last = last && queue_.empty();
    }
    if (!batch.empty()) {
      const Status written = commit(batch);
      if (!written) {
        outbox_stuck_ = outbox_stuck_ || std::ranges::any_of(batch, [](const Pending& p) {
                          return p.outbox.id != 0;
                        });
        log(LogLevel::kWarn, "audit",
            {{"msg", "entries not written"},
             {"count", std::to_string(batch.size())},
             {"error", written.error().message}});
      }
      for (Pending& p : batch) {
        if (p.done) p.done->set_value(written);
      }
      {
        std::lock_guard lock(mu_);
        taken_ += batch.size();
      }
      taken_cv_.notify_all();
    }
    if (last) return;
  }
}

Status SqliteAuditLog::commit(std::deque<Pending>& batch) {
  sqlite3* db = writer_.get();
  if (int rc = store::sqlite::exec(db, "BEGIN IMMEDIATE"); rc != SQLITE_OK) {
    return fail(store::sqlite::sqlite_error(db, path_, "begin", rc));
  }
  std::int64_t copied = 0;
  for (Pending& p : batch) {
    if (p.outbox.id != 0) {
      copied = std::max(copied, p.outbox.id);
      Result<Entry> decoded = decode_entry(p.outbox.body);
      if (!decoded) {
        log(LogLevel::kWarn, "audit",
            {{"msg", "outbox entry skipped"},
             {"outbox_id", std::to_string(p.outbox.id)},
             {"error", decoded.error().message}});
        continue;
      }
      p.entry = std::move(*decoded);
      if (p.entry.vm == 0) p.entry.vm = p.outbox.vm_id;  // a create's VM: the engine's id
      // The time of the commit, as an entry recorded after its change says (the API built
      // this one before): never before the VM it made.
      if (p.outbox.at != 0) p.entry.at = p.outbox.at;
    }
    const Entry& e = p.entry;
    StmtUse use(insert_);
    use.bind(e.at)
        .bind(e.request_id)
        .bind(e.user_id)
        .bind(e.user)
        .bind(e.project_id)
        .bind(e.project)
        .bind(e.source)
        .bind(e.method)
        .bind(e.path)
        .bind(e.route)
        .bind(e.vm)
        .bind(e.verb)
        .bind(e.vocabulary)
        .bind(static_cast<std::int64_t>(e.status))
        .bind(store::sqlite::num(e.outcome))
        .bind(e.message);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      store::sqlite::exec(db, "ROLLBACK");
      return fail(store::sqlite::sqlite_error(db, path_, "insert", rc));
    }
  }
  // After a failed batch of outbox entries, how far they are copied is no longer known: it
  // stays where it was, and the next start copies again what is left in the outbox.
  if (outbox_stuck_) copied = 0;
  if (copied > 0) {
    StmtUse use(set_copied_);
    use.bind(copied);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      store::sqlite::exec(db, "ROLLBACK");
      return fail(store::sqlite::sqlite_error(db, path_, "outbox_copied", rc));
    }
  }
  if (int rc = store::sqlite::exec(db, "COMMIT"); rc != SQLITE_OK) {
    store::sqlite::exec(db, "ROLLBACK");
    return fail(store::sqlite::sqlite_error(db, path_, "commit", rc));
  }
  if (copied > 0) copied_ = copied;
  return {};
}

Result<std::vector<Entry>> SqliteAuditLog::list(const Query& query) const {
  {
    // A read sees every entry queued before it (a change's copy from the outbox included):
    // the writer stops lingering, and the read waits for what was queued to be written.
    std::unique_lock lock(mu_);
    const std::uint64_t target = queued_;
    if (taken_ < target && !stopping_) {
      ++readers_;
      wake_.notify_one();
      taken_cv_.wait(lock, [&] { return taken_ >= target || stopping_; });
      --readers_;
    }
  }
  std::lock_guard lock(read_mu_);
  StmtUse use(select_);
  use.bind(query.after);
  query.vm ? use.bind(*query.vm) : use.bind_null();
  query.project ? use.bind(*query.project) : use.bind_null();
  query.user ? use.bind(std::string_view(*query.user)) : use.bind_null();
  query.outcome ? use.bind(store::sqlite::num(*query.outcome)) : use.bind_null();
  use.bind(query.since);
  use.bind(static_cast<std::int64_t>(query.limit));
  std::vector<Entry> out;
  int rc = SQLITE_OK;
  while ((rc = use.step()) == SQLITE_ROW) {
    RowReader r(select_.get());
    Entry e;
    e.id = r.i64();
    e.at = r.i64();
    e.request_id = r.text();
    e.user_id = r.i64();
    e.user = r.text();
    e.project_id = r.i64();
    e.project = r.text();
    e.source = r.text();
    e.method = r.text();
    e.path = r.text();
    e.route = r.text();
    e.vm = r.i64();
    e.verb = r.text();
    e.vocabulary = r.text();
    e.status = r.integer<int>();
    e.outcome = r.enumerator<Outcome>(outcome_known);
    e.message = r.text();
    if (r.problem()) {
      return fail(Error::internal(
          fmt::format("audit log {}: entry {} is corrupt: {}", path_, e.id, *r.problem())));
    }
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return fail(store::sqlite::sqlite_error(reader_.get(), path_, "list", rc));
  return out;
}

void SqliteAuditLog::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path, AuditOptions options) {
  auto log = std::make_unique<SqliteAuditLog>(path, options);
  if (Status s = log->open(); !s) return fail(s.error());
  return std::unique_ptr<AuditLog>(std::move(log));
}

}  // namespace corral::audit
