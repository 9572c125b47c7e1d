// The audit entry as text: how an API request's entry rides the engine's batch in the store's
// audit outbox (store.h, AuditOutboxRow) until the audit log copies it into audit.db.
//
// Contract: decode(encode(e)) == e for every field but `id` (the log's). The encoding is a JSON
// array whose first element is the version (2), the fields after it by position; decode also
// reads version 1 (an object with "v": 1 and the fields by name), refuses any other version or
// a malformed text with kInvalidArgument, and never throws.
#pragma once

#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "common/result.h"

namespace corral::audit {

std::string encode_entry(const Entry& entry);
[[nodiscard]] Result<Entry> decode_entry(std::string_view text);

}  // namespace corral::audit
