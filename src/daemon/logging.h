// Logging set-up of a Corral process: the level its --log-level flag names.
#pragma once

#include <string_view>

#include "common/result.h"

namespace corral::daemon {

// Sets the process's log level from "debug", "info", "warn" (or "warning") or "error";
// kInvalidArgument naming the choices otherwise.
[[nodiscard]] Status set_up_logging(std::string_view level);

}  // namespace corral::daemon
