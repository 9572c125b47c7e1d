// Tables of a VM's move records for `corral vm migrations` and `corral vm history`.
//
// Contract: pure functions of the API's JSON (docs/api.md); missing or null fields show "-",
// so a reply from an older server (no "stays") renders an empty table rather than failing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace corral::cli {

// ID OP TYPE STATUS SOURCE DEST CREATED UPDATED ERROR, from {"migrations": [...]}.
std::string migrations_table(const nlohmann::json& reply);

// SEQ HOST START END REASON ACTION, from a history reply's "stays" (OpenNebula's history).
std::string stays_table(const nlohmann::json& history);

}  // namespace corral::cli
