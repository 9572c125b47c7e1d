// A real `corral agent` process for integration tests: its own temporary data dir, optionally
// inside a test network namespace (Netns::exec_prefix()), started with a join token the first
// time and with the identity it stored afterwards; stop (SIGTERM), kill (SIGKILL) by the PID
// it recorded.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace corral::testing {

struct AgentOptions {
  std::string controller;    // HOST:PORT of the controller's agent port
  std::string join_address;  // HOST:PORT of its join port
  std::string driver = "sim";
  std::vector<std::string> prefix;  // e.g. {"ip", "netns", "exec", "corral-t123-h2"}
  std::vector<std::string> extra;   // more `corral agent` arguments
};

class AgentProcess {
 public:
  explicit AgentProcess(AgentOptions options, std::string data_dir = {});
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  // Starts it (with --join TOKEN when `token` is not empty); does not wait for the controller.
  bool start(const std::string& token = {});
  int stop();   // SIGTERM and wait: the exit status
  void kill();  // SIGKILL and wait
  // Waits for it to exit by itself (e.g. refused); its exit status, or -1 at the timeout.
  int wait_exit(int timeout_ms);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const;

 private:
  AgentOptions options_;
  std::string data_dir_;
  bool own_data_dir_ = false;
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace corral::testing
