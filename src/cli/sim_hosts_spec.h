// What `corral agent --driver sim --sim-hosts N` is told: the simulated hosts' names and the
// failures to rehearse on them (--sim-fail, and the lines of <data-dir>/sim-control).
//
// Contract: pure parsing, no I/O. sim_host_name(prefix, i, n) is PREFIX-0001 .. (at least
// four digits, more when n needs them), so names sort in creation order. A failure spec is
// "host=NAME,mode=kill|cut|restore[,after=DURATION]" (DURATION: 500ms, 10s, 2m; default 0);
// a control line is "MODE NAME" (after 0). Anything else is kInvalidArgument saying why.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace corral::cli {

enum class SimFailMode : std::uint8_t {
  kKill,     // the host dies: its agent stops and its simulated VMs are gone
  kCut,      // its network is cut: the agent lives, dials no more, and fences at the lease
  kRestore,  // a cut host dials again; a killed one boots again, empty, with its identity
};

struct SimFailure {
  std::string host;
  SimFailMode mode = SimFailMode::kKill;
  std::int64_t after_ms = 0;  // from the start of the process
};

std::string sim_host_name(std::string_view prefix, int index, int count);

[[nodiscard]] Result<SimFailure> parse_sim_failure(std::string_view spec);
[[nodiscard]] Result<SimFailure> parse_sim_control_line(std::string_view line);
std::string_view sim_fail_mode_name(SimFailMode mode);

}  // namespace corral::cli
