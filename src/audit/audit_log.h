// The audit log: who asked for what, from where, and what came of it — Nova's instance
// actions (GET /servers/{id}/os-instance-actions) for every route, refusals included.
//
// Contract:
// - Entries live in their own SQLite database (<data dir>/audit.db, WAL): the API writes one
//   per audited request, and a second writer on the store's database would make the engine's
//   commits wait on SQLite's lock.
// - record() returns once the entry is committed: an acknowledged request's entry survives a
//   SIGKILL of the server. Entries of concurrent requests share one commit (one writer thread
//   drains the queue into one transaction), so a burst costs a commit per batch, not per
//   request.
// - record_later() does not wait (refusals: a flood of bad requests must not hold threads);
//   past `max_pending` queued entries it drops the entry and counts it (dropped()).
// - Entries of accepted VM changes do not wait for a commit here: the engine commits them in
//   the store's audit outbox with the change, and they are copied in afterwards
//   (copy_from_outbox); a SIGKILL before the copy is made good by copying what is left at
//   the next start (the server reads the outbox after copied()).
// - list() reads newest-last by id; ids only grow.
// - Outcome numbers are persisted: stable, never reused.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace corral::audit {

enum class Outcome : std::uint8_t {
  kAccepted = 1,  // 2xx: done or accepted (202)
  kRefused = 2,   // 4xx: bad input, not found, wrong state, no permission, over quota, limited
  kFailed = 3,    // 5xx
};
bool outcome_known(Outcome o);
std::string_view outcome_name(Outcome o);
Outcome outcome_of_status(int http_status);

struct Entry {
  std::int64_t id = 0;  // given by the log
  Millis at = 0;
  std::string request_id;
  std::int64_t user_id = 0;  // 0: no caller (a refused or public request)
  std::string user;
  std::int64_t project_id = 0;
  std::string project;
  std::string source;  // the client's address
  std::string method;
  std::string path;
  std::string route;    // the route's pattern ("/v1/vms/{id}/actions"); empty: no route
  std::int64_t vm = 0;  // the VM the request named or made; 0: none
  std::string verb;     // in the caller's vocabulary ("stop", "os-stop", "deallocate")
  std::string vocabulary;
  int status = 0;  // HTTP
  Outcome outcome = Outcome::kAccepted;
  std::string message;  // the error's message for a refusal or failure
  friend bool operator==(const Entry&, const Entry&) = default;
};

struct Query {
  std::optional<std::int64_t> vm;
  std::optional<std::int64_t> project;
  std::optional<std::string> user;
  std::optional<Outcome> outcome;
  Millis since = 0;        // entries at or after
  std::int64_t after = 0;  // entries with a larger id
  int limit = 100;
};

struct AuditOptions {
  std::size_t max_pending = 100'000;
};

class AuditLog {
 public:
  // Opens (creating) the database at `path` and starts the writer.
  [[nodiscard]] static Result<std::unique_ptr<AuditLog>> open(const std::string& path,
                                                              AuditOptions options = {});
  virtual ~AuditLog() = default;
  // Commits `entry`, waiting for it. Errors: the store's (the caller logs them: the request
  // itself already happened).
  [[nodiscard]] virtual Status record(Entry entry) = 0;
  virtual void record_later(Entry entry) = 0;
  // Entries the engine committed in the store's audit outbox (store.h, AuditOutboxRow; the
  // body is entry_codec.h's), in id order: queued without waiting and never dropped (they
  // are durable there already). Each batch's entries and the highest outbox id among them
  // are committed together, so copied() never passes an entry that is not here; an entry
  // that does not decode is logged and skipped. The row's vm_id and `at` (when non-zero)
  // replace the entry's VM when it has none, and its time.
  virtual void copy_from_outbox(std::vector<store::AuditOutboxRow> rows) = 0;
  // The highest outbox id whose entry is committed here (0: none yet).
  virtual std::int64_t copied() const = 0;
  [[nodiscard]] virtual Result<std::vector<Entry>> list(const Query& query) const = 0;
  virtual std::uint64_t dropped() const = 0;
  // Commits what is queued and stops the writer; record() after it fails.
  virtual void stop() = 0;
};

}  // namespace corral::audit
