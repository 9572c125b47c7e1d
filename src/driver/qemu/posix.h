// Small POSIX helpers for the qemu driver: an owning file descriptor, running a program
// from an argv (never through a shell), and watching a process that is not our child.
//
// Contract: nothing here builds a shell command line; every program is exec'd with its
// arguments as given. Functions return Result/Status; none throws.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace corral::driver::qemu {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  std::string output;  // stdout and stderr together, at most 64 KiB (the tail)
};

// Runs argv[0] (searched in PATH) with stdin from /dev/null, waits at most `timeout`
// (then SIGKILLs it). An error only when it could not be started; a non-zero exit is a
// CommandResult for the caller to judge.
[[nodiscard]] Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                                std::chrono::milliseconds timeout,
                                                const std::string& cwd = {});

// Like run_command, but stdout/stderr go to `log_path` (appended) and the call returns when
// the program exits: for launchers that daemonize (qemu -daemonize).
[[nodiscard]] Result<int> run_logged(const std::vector<std::string>& argv,
                                     const std::string& log_path,
                                     std::chrono::milliseconds timeout);

// The process's pid from a pidfile, if the file holds one.
std::optional<pid_t> read_pidfile(const std::string& path);
bool process_alive(pid_t pid);
// The process's command line, arguments joined by '\0' -> ' ' (empty if it is gone).
std::string process_cmdline(pid_t pid);
// The live processes named `comm_prefix`... (/proc/PID/comm) whose command line contains
// `text`; this process excluded. Only those processes' command lines are read: reading one
// takes the process's memory-map lock, which a busy process may hold.
std::vector<pid_t> pids_mentioning(std::string_view comm_prefix, std::string_view text);
// What the kernel calls a process of `binary` (comm: its file name, at most 15 characters).
std::string comm_of(const std::string& binary);
// A pidfd (Linux >= 5.3): readable once the process has exited. Invalid if it is gone.
UniqueFd open_pidfd(pid_t pid);
// Waits until the fd is readable or the timeout passes; true when readable.
bool wait_readable(int fd, std::chrono::milliseconds timeout);
// The last `max` bytes of a file (all of it if smaller; "" if unreadable), read from there
// on, not from the start.
std::string read_tail(const std::string& path, std::size_t max);
// errno's text (thread-safe, unlike strerror).
std::string errno_text(int err);
// Unix socket path limit (sun_path): longer paths cannot be bound or connected.
constexpr std::size_t kMaxSocketPath = 107;

}  // namespace corral::driver::qemu
