// Test helper: every record the model can reach from a new VM, by any user or system action
// and any phase outcome (success, failure with the origin unknown or intact, cancel).
#pragma once

#include <string>
#include <vector>

#include "lifecycle/model.h"

namespace corral::lifecycle::testing {

struct Reached {
  VmRecord record;
  std::string path;  // how it was reached, for failure messages
};

const std::vector<Reached>& reachable_records();

std::string describe(const VmRecord& record);

}  // namespace corral::lifecycle::testing
