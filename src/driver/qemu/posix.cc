#include "driver/qemu/posix.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX names it here

namespace corral::driver::qemu {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  // posix_spawn takes char* const[] but does not modify the strings.
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

Error spawn_error(const std::vector<std::string>& argv, int err) {
  return Error::internal("cannot start " + (argv.empty() ? std::string("?") : argv[0]) + ": " +
                         errno_text(err));
}

// Waits for `pid` up to `timeout`; kills it after that. Returns the exit code or -1.
int wait_child(pid_t pid, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  UniqueFd pidfd = open_pidfd(pid);
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (done < 0 && errno != EINTR) return -1;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    if (pidfd.valid()) {
      wait_readable(pidfd.get(), left);
    } else {
      ::usleep(2000);
    }
  }
}

}  // namespace

std::string read_tail(const std::string& path, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0));
  in.seekg(static_cast<std::streamoff>(size > max ? size - max : 0));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string errno_text(int err) { return std::generic_category().message(err); }

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout, const std::string& cwd) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail(spawn_error(argv, errno));
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = 0;
  std::vector<char*> args = c_argv(argv);
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail(spawn_error(argv, rc));
  write_end.reset();

  CommandResult result;
  const auto until = Clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0 || !wait_readable(read_end.get(), left)) break;
    const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<std::size_t>(n));
    if (result.output.size() > 65536) result.output.erase(0, result.output.size() - 65536);
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  result.exit_code = wait_child(pid, std::max(left, std::chrono::milliseconds(0)));
  return result;
}

Result<int> run_logged(const std::vector<std::string>& argv, const std::string& log_path,
                       std::chrono::milliseconds timeout) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0640);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // Its own session: a Ctrl-C at the server's terminal must not reach the VMs.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);  // the server blocks signals; QEMU must not
  pid_t pid = 0;
  std::vector<char*> args = c_argv(argv);
  const int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail(spawn_error(argv, rc));
  return wait_child(pid, timeout);
}

std::optional<pid_t> read_pidfile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return std::nullopt;
  return static_cast<pid_t>(pid);
}

bool process_alive(pid_t pid) {
  if (pid <= 1) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie is dead for our purposes.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const std::size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

std::string process_cmdline(pid_t pid) {
  // read(2), not an ifstream: a process that exits while it is read fails the read with
  // ESRCH, and libstdc++'s filebuf throws on that instead of ending the stream.
  std::string text;
  const std::string path = "/proc/" + std::to_string(pid) + "/cmdline";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  return text;
}

std::vector<pid_t> pids_mentioning(std::string_view comm_prefix, std::string_view text) {
  std::vector<pid_t> out;
  const pid_t self = ::getpid();
  std::error_code ec;
  for (const std::filesystem::directory_entry& entry :
       std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(name));
    if (pid == self) continue;
    std::ifstream comm_file(entry.path() / "comm");
    std::string comm;
    std::getline(comm_file, comm);
    if (!comm.starts_with(comm_prefix)) continue;
    if (process_cmdline(pid).find(text) != std::string::npos && process_alive(pid)) {
      out.push_back(pid);
    }
  }
  return out;
}

std::string comm_of(const std::string& binary) {
  return std::filesystem::path(binary).filename().string().substr(0, 15);
}

UniqueFd open_pidfd(pid_t pid) {
  return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

bool wait_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  const int ms = static_cast<int>(std::min<long long>(timeout.count(), 1 << 30));
  for (;;) {
    const int rc = ::poll(&p, 1, std::max(ms, 0));
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0;
  }
}

}  // namespace corral::driver::qemu
