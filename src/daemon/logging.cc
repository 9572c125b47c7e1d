#include "daemon/logging.h"

#include <optional>

#include "common/log.h"

namespace corral::daemon {

Status set_up_logging(std::string_view level) {
  const std::optional<LogLevel> parsed = parse_log_level(level);
  if (!parsed)
    return fail(Error::invalid_argument("--log-level must be debug, info, warn or error"));
  set_log_level(*parsed);
  return {};
}

}  // namespace corral::daemon
