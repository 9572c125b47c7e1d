// A process named by pid + start time, so that a pid the kernel has reused for another
// process is never signalled.
//
// Contract: start_time is field 22 of /proc/<pid>/stat (clock ticks since boot); it never
// changes for a process and two processes holding the same pid one after the other have
// different start times (the second started later). kill_identified() opens a pidfd first
// (pidfd_open, Linux >= 5.3), then checks the start time, then signals through the pidfd:
// once the pidfd is open it refers to that one process, so the check cannot race with pid
// reuse. Without pidfd support (ENOSYS) it falls back to check-then-kill(2), which leaves
// a tiny window between check and signal.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace corral::agent::guard {

struct ProcessIdentity {
  pid_t pid = 0;
  std::uint64_t start_time = 0;
  bool operator==(const ProcessIdentity&) const = default;
};

// Field 22 of a /proc/<pid>/stat line. The command name (field 2) may hold spaces and ')'
// so fields are counted after the last ')'.
Result<std::uint64_t> parse_stat_start_time(std::string_view stat_line);

// The identity of a live (or zombie) process; kNotFound when there is no such pid.
Result<ProcessIdentity> identify_process(pid_t pid);

enum class KillOutcome {
  kKilled,  // SIGKILL delivered to the identified process
  kGone,    // no process with that pid any more (it already exited)
  kReused,  // the pid belongs to another process now (different start time): left alone
};
std::string_view kill_outcome_name(KillOutcome outcome);

// Sends SIGKILL to `who` if and only if it is still the same process. Errors: EPERM and
// other unexpected failures (kInternal).
Result<KillOutcome> kill_identified(const ProcessIdentity& who);

}  // namespace corral::agent::guard
