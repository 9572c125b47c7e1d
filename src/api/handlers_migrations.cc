// GET /v1/vms/{id}/migrations: a VM's migration records, as Nova's
// GET /servers/{id}/migrations lists them (every one, finished ones included), oldest first.
// GET /v1/migrations: every VM's, newest first, paged (Nova's GET /os-migrations; admin).
#include <cstdint>
#include <string>
#include <vector>

#include "api/handlers.h"
#include "api/queries.h"
#include "api/record_json.h"

namespace corral::api::internal {

HandlerResult vm_migrations(Context& ctx, Call& call) {
  // As every /v1/vms/{id} route: a malformed id names nothing, 404 as an unknown one (or one
  // of another project).
  auto vm = visible_vm(ctx, call, call.args[0]);
  if (!vm) return std::unexpected(std::move(vm.error()));
  Result<std::vector<store::MigrationRow>> rows = ctx.engine.migrations(vm->id);
  if (!rows) return failure(std::move(rows.error()));
  nlohmann::json migrations = nlohmann::json::array();
  for (const store::MigrationRow& row : *rows) migrations.push_back(migration_json(row));
  return Reply{200, {{"migrations", std::move(migrations)}}};
}

HandlerResult list_migrations(Context& ctx, Call& call) {
  Result<MigrationsQuery> query = parse_migrations_query(call.req.params);
  if (!query) return failure(std::move(query.error()));
  const std::int64_t before = query->before > 0 ? query->before : INT64_MAX;
  Result<std::vector<store::MigrationRow>> rows =
      ctx.engine.recent_migrations(before, query->limit);
  if (!rows) return failure(std::move(rows.error()));
  nlohmann::json migrations = nlohmann::json::array();
  for (const store::MigrationRow& row : *rows) migrations.push_back(migration_json(row));
  // A full page may have more below it; a short one is the last.
  const nlohmann::json next =
      static_cast<int>(rows->size()) == query->limit ? nlohmann::json(rows->back().id) : nullptr;
  return Reply{200, {{"migrations", std::move(migrations)}, {"next_before", next}}};
}

}  // namespace corral::api::internal
