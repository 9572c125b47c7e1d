// Reads several commands share: every page of the VM list, and the verdict of `vm wait`.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/failure.h"
#include "cli/request.h"
#include "lifecycle/types.h"

namespace corral::cli {

// GET /v1/vms page after page, following next_marker until it is null.
[[nodiscard]] CliResult<std::vector<nlohmann::json>> fetch_all_vms(const Client& client,
                                                                   const ListArgs& args);

// Whether `vm wait --for target` is over for this VM: nullopt to keep polling; otherwise
// an empty string when the target is reached, or why it never will be (the VM reached DONE
// or FAILED first).
std::optional<std::string> wait_verdict(const nlohmann::json& vm, lifecycle::State target);

}  // namespace corral::cli
