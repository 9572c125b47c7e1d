// GET /v1/vms/{id}/migrations: a VM's migration records, as Nova's
// GET /servers/{id}/migrations lists them (every one, finished ones included), oldest first.
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

}  // namespace corral::api::internal
