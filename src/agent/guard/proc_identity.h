// A process named by pid and start time, and stopping it without ever hitting another one.
//
// Contract: start_time() reads field 22 of /proc/<pid>/stat (clock ticks after boot), which
// with the pid names one process for the life of the machine. kill_verified() opens a pidfd
// first, then checks the start time, then signals through the pidfd: a pid reused between the
// check and the signal cannot be hit, because the pidfd refers to the process it was opened
// on. Returns true if the process was signalled, false if it is gone or is another process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace corral::agent::guard {

std::optional<std::uint64_t> start_time(pid_t pid);
bool kill_verified(pid_t pid, std::uint64_t start_time);

}  // namespace corral::agent::guard
