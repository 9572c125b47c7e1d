#include "support/server_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace corral::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string corral_binary() {
  if (const char* env = std::getenv("CORRAL_BINARY"); env != nullptr && *env != '\0') return env;
  return CORRAL_BINARY;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

namespace {

std::string make_temp_dir() {
  std::string templ = (fs::temp_directory_path() / "corral-test-XXXXXX").string();
  char* made = ::mkdtemp(templ.data());
  return made != nullptr ? std::string(made) : std::string();
}

// fork + execv with stdout/stderr to `log_path`; no shell.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd >= 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

}  // namespace

ServerProcess::ServerProcess(std::vector<std::string> args, std::string data_dir)
    : args_(std::move(args)), data_dir_(std::move(data_dir)) {
  if (data_dir_.empty()) {
    data_dir_ = make_temp_dir();
    own_data_dir_ = true;
  }
  log_path_ = data_dir_ + "/server.log";
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) kill();
  if (own_data_dir_ && std::getenv("CORRAL_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    fs::remove_all(data_dir_, ignored);
  }
}

bool ServerProcess::start() {
  // free_port() releases the port it found, so a test running beside this one may take it
  // first: then this server cannot bind and the other answers /healthz on it. A start counts
  // only when this process says it listens there; one that lost its port starts again on
  // another.
  for (int attempt = 1;; ++attempt) {
    const StartOutcome outcome = start_once();
    if (outcome != StartOutcome::kPortTaken || attempt == 3) {
      return outcome == StartOutcome::kStarted;
    }
  }
}

ServerProcess::StartOutcome ServerProcess::start_once() {
  port_ = free_port();
  url_ = std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  register_token_file(url_, data_dir_ + "/var/admin.token");
  std::vector<std::string> argv = {corral_binary(), "server",
                                   "--listen",      "127.0.0.1:" + std::to_string(port_),
                                   "--data-dir",    data_dir_ + "/var"};
  // Plain HTTP unless asked: the tests' own httplib::Clients speak http:// (use_tls() tests
  // HTTPS itself).
  if (!tls_ && std::find(args_.begin(), args_.end(), "--plain-http") == args_.end()) {
    argv.emplace_back("--plain-http");
  }
  // The sim unless a test asks for another driver (the server's own default is qemu).
  if (std::find(args_.begin(), args_.end(), "--driver") == args_.end()) {
    argv.insert(argv.end(), {"--driver", "sim"});
  }
  // Any free cluster ports, so parallel tests never collide on 8781/8782 (the bound ones are
  // in <data-dir>/cluster/ports.json: agent_address(), join_address()).
  for (const char* flag : {"--agent-listen", "--join-listen"}) {
    if (std::find(args_.begin(), args_.end(), flag) == args_.end()) {
      argv.insert(argv.end(), {flag, "127.0.0.1:0"});
    }
  }
  argv.insert(argv.end(), args_.begin(), args_.end());
  const std::size_t log_before = log().size();
  const std::string listening = "listening on " + url_ + " ";
  const auto t0 = std::chrono::steady_clock::now();
  pid_ = spawn(argv, log_path_);
  // Generous: a first start may build the guest image on a loaded machine.
  for (const auto until = t0 + 120s; std::chrono::steady_clock::now() < until;) {
    // A new client each time: an https one loads the CA once, and the server writes it first.
    std::unique_ptr<httplib::Client> c = plain_client();
    c->set_connection_timeout(0, 200'000);
    if (auto r = c->Get("/healthz");
        r && r->status == 200 && log().find(listening, log_before) != std::string::npos) {
      last_start_ms_ =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      return StartOutcome::kStarted;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      // It exited: how goes in its log, which the caller shows.
      std::ofstream(log_path_, std::ios::app)
          << "[test] the server exited before answering /healthz: "
          << (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                  : "exit status " + std::to_string(WEXITSTATUS(status)))
          << "\n";
      const bool port_taken = log().find("already in use", log_before) != std::string::npos;
      return port_taken ? StartOutcome::kPortTaken : StartOutcome::kFailed;
    }
    std::this_thread::sleep_for(20ms);
  }
  std::ofstream(log_path_, std::ios::app) << "[test] the server did not answer /healthz in 120 s\n";
  return StartOutcome::kFailed;
}

int ServerProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 1000; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(10ms);
  }
  kill();
  return -1;
}

void ServerProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return true;
  for (const auto until = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < until;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      std::fprintf(stderr, "[ server ] pid %d ended: %s\n", static_cast<int>(pid_),
                   WIFSIGNALED(status) ? ("signal " + std::to_string(WTERMSIG(status))).c_str()
                                       : ("exit " + std::to_string(WEXITSTATUS(status))).c_str());
      pid_ = -1;
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

std::string ServerProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ServerProcess::admin_token() const {
  std::ifstream in(data_dir_ + "/var/admin.token");
  std::string token;
  std::getline(in, token);
  return token;
}

std::unique_ptr<httplib::Client> ServerProcess::plain_client() const {
  auto c = std::make_unique<httplib::Client>(url_);
  if (tls_) {
    c->enable_server_certificate_verification(true);
    c->set_ca_cert_path(ca_cert_path());
  }
  return c;
}

std::unique_ptr<httplib::Client> ServerProcess::client() const {
  std::unique_ptr<httplib::Client> c = plain_client();
  // The server's local admin credential: tests act as the cloud's admin unless they log in.
  if (const std::string token = admin_token(); !token.empty() && !no_token_) {
    c->set_bearer_token_auth(token);
  }
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);  // small requests must not wait for delayed ACKs (Nagle)
  c->set_read_timeout(30, 0);
  return c;
}

std::string ServerProcess::cluster_address(const char* which) const {
  std::ifstream in(data_dir_ + "/var/cluster/ports.json");
  if (!in) return "";
  const nlohmann::json ports = nlohmann::json::parse(in, nullptr, false);
  if (!ports.is_object() || !ports.contains(which) || !ports[which].is_string()) return "";
  return ports[which].get<std::string>();
}

namespace {
std::mutex g_token_files_mu;
std::map<std::string, std::string>& token_files() {
  static std::map<std::string, std::string> files;
  return files;
}
}  // namespace

void register_token_file(const std::string& url, const std::string& path) {
  std::lock_guard lock(g_token_files_mu);
  token_files()[url] = path;
}

std::string token_for_url(const std::string& url) {
  std::string path;
  {
    std::lock_guard lock(g_token_files_mu);
    const auto it = token_files().find(url);
    if (it == token_files().end()) return "";
    path = it->second;
  }
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  return token;
}

CliResult run_cli(const std::vector<std::string>& args, const std::string& server_url) {
  return run_cli_with_input(args, server_url, "", std::chrono::hours(1));
}

namespace {

// Runs `argv` (looked up in PATH), stdin from `in_path` (none if empty), stdout to `out_fd` and
// stderr to `err_fd`, `env` added in order; waits up to `timeout`, then kills it. Returns the
// exit code (128 + the signal for a killed one).
int spawn_and_wait(const std::vector<std::string>& argv, const CliEnv& env,
                   const std::string& in_path, int out_fd, int err_fd,
                   std::chrono::milliseconds timeout) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!in_path.empty()) ::dup2(::open(in_path.c_str(), O_RDONLY), STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> c_args;
    for (const std::string& a : argv) c_args.push_back(const_cast<char*>(a.c_str()));
    c_args.push_back(nullptr);
    ::execvp(c_args[0], c_args.data());
    ::_exit(127);
  }
  int status = 0;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

ProgramResult run_program(const std::vector<std::string>& argv, const CliEnv& env,
                          std::chrono::milliseconds timeout) {
  std::string out_path = (fs::temp_directory_path() / "corral-run-XXXXXX").string();
  const int out_fd = ::mkstemp(out_path.data());
  const std::string err_path = out_path + "-err";
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ProgramResult result;
  result.exit_code = spawn_and_wait(argv, env, "", out_fd, err_fd, timeout);
  ::close(out_fd);
  ::close(err_fd);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  fs::remove(out_path);
  fs::remove(err_path);
  return result;
}

CliResult run_cli_with_input(const std::vector<std::string>& args, const std::string& server_url,
                             const std::string& input, std::chrono::milliseconds timeout,
                             const CliEnv& env) {
  std::string templ = (fs::temp_directory_path() / "corral-cli-XXXXXX").string();
  const int out_fd = ::mkstemp(templ.data());
  const std::string in_path = templ + "-in";
  std::ofstream(in_path, std::ios::binary) << input;
  std::vector<std::string> argv = {corral_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  CliEnv all = {{"CORRAL_URL", server_url}};
  // As the machine's operator: the server's local admin credential (cli/credentials.h), and
  // never a login saved in the HOME of whoever runs the tests.
  if (const std::string token = token_for_url(server_url);
      ::getenv("CORRAL_TOKEN") == nullptr && !token.empty()) {
    all.emplace_back("CORRAL_TOKEN", token);
  }
  all.insert(all.end(), env.begin(), env.end());
  const int exit_code = spawn_and_wait(argv, all, in_path, out_fd, out_fd, timeout);
  ::close(out_fd);
  CliResult result;
  result.exit_code = exit_code;
  result.out = slurp(templ);
  fs::remove(templ);
  fs::remove(in_path);
  return result;
}

}  // namespace corral::testing
