#include "agent/guard/proc_identity.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace corral::agent::guard {
namespace {

// glibc 2.36 has no wrappers for these; the syscall numbers are in the kernel headers.
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<std::string> read_stat(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  if (!in) return fail(Error::not_found(fmt::format("no process {}", pid)));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().empty()) return fail(Error::not_found(fmt::format("no process {}", pid)));
  return text.str();
}

Result<KillOutcome> check_identity(const ProcessIdentity& who) {
  auto now = identify_process(who.pid);
  if (!now) {
    if (now.error().code == ErrorCode::kNotFound) return KillOutcome::kGone;
    return fail(now.error());
  }
  return now->start_time == who.start_time ? KillOutcome::kKilled : KillOutcome::kReused;
}

}  // namespace

Result<std::uint64_t> parse_stat_start_time(std::string_view stat_line) {
  const auto close = stat_line.rfind(')');
  if (close == std::string_view::npos) return fail(Error::invalid_argument("no ')' in stat"));
  // After ") " comes field 3 (state); start_time is field 22, i.e. the 20th from here.
  std::string_view rest = stat_line.substr(close + 1);
  int field = 2;
  std::size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    if (pos >= rest.size()) break;
    const auto end = rest.find(' ', pos);
    const auto token = rest.substr(pos, end == std::string_view::npos ? rest.npos : end - pos);
    ++field;
    if (field == 22) {
      std::uint64_t value = 0;
      const auto* last = token.data() + token.size();
      // A trailing newline only appears when start_time is the last field (never, but cheap).
      while (last > token.data() && (last[-1] == '\n')) --last;
      const auto [ptr, ec] = std::from_chars(token.data(), last, value);
      if (ec != std::errc{} || ptr != last) {
        return fail(Error::invalid_argument("start_time is not a number"));
      }
      return value;
    }
    if (end == std::string_view::npos) break;
    pos = end;
  }
  return fail(Error::invalid_argument("stat line has fewer than 22 fields"));
}

Result<ProcessIdentity> identify_process(pid_t pid) {
  if (pid <= 0) return fail(Error::invalid_argument("pid must be positive"));
  auto line = read_stat(pid);
  if (!line) return fail(line.error());
  auto start = parse_stat_start_time(*line);
  if (!start)
    return fail(Error::internal(fmt::format("/proc/{}/stat: {}", pid, start.error().message)));
  return ProcessIdentity{pid, *start};
}

std::string_view kill_outcome_name(KillOutcome outcome) {
  switch (outcome) {
    case KillOutcome::kKilled:
      return "killed";
    case KillOutcome::kGone:
      return "gone";
    case KillOutcome::kReused:
      return "pid_reused";
  }
  return "unknown";
}

Result<KillOutcome> kill_identified(const ProcessIdentity& who) {
  if (who.pid <= 0) return fail(Error::invalid_argument("pid must be positive"));
  const int raw = pidfd_open(who.pid);
  if (raw < 0 && errno == ESRCH) return KillOutcome::kGone;
  if (raw < 0 && errno != ENOSYS) {
    return fail(Error::internal(fmt::format("pidfd_open({}): {}", who.pid, std::strerror(errno))));
  }
  const Fd pidfd(raw);
  // The pidfd names whichever process held the pid when it was opened. If /proc shows the
  // wanted start time after that, the pidfd names the wanted process: a process holding the
  // pid later would have started later. Signalling through the pidfd then cannot hit a
  // successor (a dead target gives ESRCH).
  auto same = check_identity(who);
  if (!same || *same != KillOutcome::kKilled) return same;
  const int rc =
      pidfd.get() >= 0 ? pidfd_send_signal(pidfd.get(), SIGKILL) : ::kill(who.pid, SIGKILL);
  if (rc == 0) return KillOutcome::kKilled;
  if (errno == ESRCH) return KillOutcome::kGone;
  return fail(Error::internal(fmt::format("SIGKILL {}: {}", who.pid, std::strerror(errno))));
}

}  // namespace corral::agent::guard
