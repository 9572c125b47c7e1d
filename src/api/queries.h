// Query strings, path ids and request ids: the parts of a request that are not its body.
//
// Contract: pure functions. Unknown query parameters are refused (kInvalidArgument naming
// them), as unknown body fields are; numbers are plain decimal (no sign, no exponent).
// A path id is 1-18 decimal digits; anything else names nothing (the API answers 404, the
// same as for an unknown id). Query parameters that hold ids (marker, vm) are 400 when
// malformed: the resource exists, the parameter is wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "api/vm_writer.h"
#include "common/result.h"
#include "engine/engine.h"
#include "lifecycle/types.h"
#include "store/types.h"

namespace corral::api {

inline constexpr std::size_t kMaxListLimit = 1000;

using QueryParams = std::multimap<std::string, std::string>;  // = httplib::Params

// GET /v1/vms ?state= &name= &limit= &offset= &marker= (&ids=, below)
[[nodiscard]] Result<engine::ListQuery> parse_list_query(const QueryParams& query);

// GET /v1/vms ?ids=3,17,42: only these VMs (1 to kMaxListLimit ids, each a path id; sorted,
// without repeats); absent: empty. How a client that follows /v1/events reads the VMs that
// changed in one request.
[[nodiscard]] Result<std::vector<std::int64_t>> parse_ids_query(const QueryParams& query);

// ?views=nova,opennebula,azure,stratuslab (any of them, comma-separated) or views=none;
// absent: every view. An unknown name is kInvalidArgument naming the known ones.
[[nodiscard]] Result<ViewSet> parse_views_query(const QueryParams& query);

// GET /v1/vms/{id}/history ?after= &limit=
struct HistoryQuery {
  std::int64_t after = 0;
  int limit = 100;
};
[[nodiscard]] Result<HistoryQuery> parse_history_query(const QueryParams& query);

// GET /v1/migrations ?before= &limit=: records with ids below `before` (0: from the newest).
struct MigrationsQuery {
  std::int64_t before = 0;
  int limit = 100;
};
[[nodiscard]] Result<MigrationsQuery> parse_migrations_query(const QueryParams& query);

// DELETE /v1/vms/{id} ?hard=true|false -> terminate or terminate_hard.
[[nodiscard]] Result<lifecycle::Action> parse_delete_query(const QueryParams& query);

// GET /v1/events ?vm=ID: the VM to follow, 0 for every VM.
[[nodiscard]] Result<store::VmId> parse_events_query(const QueryParams& query);

// A path id: decimal, 1-18 digits; nullopt otherwise.
std::optional<std::int64_t> parse_id(std::string_view text);

// The X-Request-Id to use: the caller's if it is 1-128 of [A-Za-z0-9._:-], else a new
// "req-<16 hex>".
std::string request_id_for(std::string_view incoming);

}  // namespace corral::api
