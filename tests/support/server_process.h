// A real `corral server` process for integration tests and benchmarks: a free loopback port,
// a temporary data dir, start / stop (SIGTERM) / kill (SIGKILL) / restart on the same data.
// It serves plain HTTP on 127.0.0.1 (--plain-http) unless use_tls() was called before start():
// then HTTPS, and url() and client() are https, verified against the data dir's cluster CA.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace corral::testing {

class ServerProcess {
 public:
  // `args` are extra `corral server` arguments (e.g. {"--sim-profile", "zero"}).
  explicit ServerProcess(std::vector<std::string> args = {}, std::string data_dir = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Serve HTTPS (the server's default) instead of plain HTTP; before start().
  void use_tls() { tls_ = true; }
  bool tls() const { return tls_; }
  // client() sends no token (for a server started with --no-auth); any time.
  void send_no_token() { no_token_ = true; }
  // Starts the server and waits until GET /healthz answers (or fails the test).
  bool start();
  // SIGTERM and wait; returns the exit status (0 for a clean shutdown).
  int stop();
  // SIGKILL and wait.
  void kill();
  // Waits up to `timeout` for the server to end by itself (a crash fault); true if it did.
  bool wait_exit(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  const std::string& url() const { return url_; }
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  // The server's own data dir (<data_dir()>/var) and the cluster CA's certificate in it, which
  // its HTTPS certificate is issued from.
  std::string server_data_dir() const { return data_dir_ + "/var"; }
  std::string ca_cert_path() const { return data_dir_ + "/var/cluster/ca.crt"; }
  // The cluster ports the running server bound ("HOST:PORT", from <data-dir>/cluster/
  // ports.json; "" before it wrote them).
  std::string agent_address() const { return cluster_address("agent"); }
  std::string join_address() const { return cluster_address("join"); }
  // Milliseconds the last start() took until /healthz answered.
  double last_start_ms() const { return last_start_ms_; }
  // The server's stderr so far.
  std::string log() const;

  // A client carrying the server's local admin credential (<data dir>/admin.token); an https
  // one verifies the server against ca_cert_path().
  std::unique_ptr<httplib::Client> client() const;
  std::unique_ptr<httplib::Client> plain_client() const;  // no token; TLS verified
  std::string admin_token() const;

 private:
  enum class StartOutcome : std::uint8_t { kStarted, kFailed, kPortTaken };
  StartOutcome start_once();
  std::string cluster_address(const char* which) const;
  std::vector<std::string> args_;
  std::string data_dir_;
  bool own_data_dir_ = false;
  bool tls_ = false;
  bool no_token_ = false;
  std::string log_path_;
  std::string url_;
  int port_ = 0;
  pid_t pid_ = -1;
  double last_start_ms_ = 0;
};

// The path of the corral binary under test.
std::string corral_binary();

// Runs the corral CLI with `args` (no shell), returns exit code and stdout+stderr.
struct CliResult {
  int exit_code = -1;
  std::string out;
};
CliResult run_cli(const std::vector<std::string>& args, const std::string& server_url);
// Environment variables set for one CLI run (besides CORRAL_URL and CORRAL_TOKEN).
using CliEnv = std::vector<std::pair<std::string, std::string>>;
// The same with `input` on its stdin and `env`; killed after `timeout`.
CliResult run_cli_with_input(const std::vector<std::string>& args, const std::string& server_url,
                             const std::string& input, std::chrono::milliseconds timeout,
                             const CliEnv& env = {});

// Runs any program (`argv[0]` looked up in PATH; no shell) with `env` added, its stdout and
// stderr kept apart; killed after `timeout`.
struct ProgramResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
ProgramResult run_program(const std::vector<std::string>& argv, const CliEnv& env,
                          std::chrono::milliseconds timeout);

// run_cli() sends the token in the file registered for its server URL (ServerProcess::start
// registers its admin.token) unless CORRAL_TOKEN is set.
void register_token_file(const std::string& url, const std::string& path);
std::string token_for_url(const std::string& url);

// A free TCP port on 127.0.0.1.
int free_port();

}  // namespace corral::testing
