// The audit entry as text: how an API request's entry rides the engine's batch in the store's
// audit outbox (store.h, AuditOutboxRow) until the audit log copies it into audit.db.
//
// Contract: decode(encode(e)) == e for every field but `id` (the log's). The encoding is JSON
// with a version ("v": 1); decode refuses another version or a malformed text with
// kInvalidArgument, never throws.
#pragma once

#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "common/result.h"

namespace corral::audit {

std::string encode_entry(const Entry& entry);
[[nodiscard]] Result<Entry> decode_entry(std::string_view text);

}  // namespace corral::audit
