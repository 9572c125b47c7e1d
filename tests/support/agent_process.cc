#include "support/agent_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/guard/fence_guard_client.h"
#include "support/server_process.h"

namespace corral::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

AgentProcess::AgentProcess(AgentOptions options, std::string data_dir)
    : options_(std::move(options)), data_dir_(std::move(data_dir)) {
  if (data_dir_.empty()) {
    std::string templ = (fs::temp_directory_path() / "corral-agent-XXXXXX").string();
    if (::mkdtemp(templ.data()) != nullptr) data_dir_ = templ;
    own_data_dir_ = true;
  }
  log_path_ = data_dir_ + "/agent.log";
}

AgentProcess::~AgentProcess() {
  if (pid_ > 0) kill();
  if (own_data_dir_) {
    // The agent's fence guard outlives the agent on purpose (it enforces the lease of a dead
    // agent); the test that made this data dir stops the guard it spawned before removing it.
    if (auto guard = agent::guard::FenceGuardClient::connect(data_dir_ + "/var")) {
      (void)guard->shutdown();
    }
  }
  if (own_data_dir_ && std::getenv("CORRAL_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    fs::remove_all(data_dir_, ignored);
  }
}

bool AgentProcess::start(const std::string& token) {
  std::vector<std::string> argv = options_.prefix;
  argv.insert(argv.end(), {corral_binary(), "agent", "--controller", options_.controller,
                           "--join-address", options_.join_address, "--data-dir",
                           data_dir_ + "/var", "--driver", options_.driver});
  if (!token.empty()) argv.insert(argv.end(), {"--join", token});
  argv.insert(argv.end(), options_.extra.begin(), options_.extra.end());
  // `--api URL` (simulated hosts added through the API): the server's admin credential.
  std::string api_token;
  for (std::size_t i = 0; i + 1 < options_.extra.size(); ++i) {
    if (options_.extra[i] == "--api") api_token = token_for_url(options_.extra[i + 1]);
  }
  pid_ = ::fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    if (!api_token.empty()) ::setenv("CORRAL_TOKEN", api_token.c_str(), 1);
    const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return true;
}

int AgentProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const int status = wait_exit(20'000);
  if (status == -1) kill();
  return status;
}

void AgentProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int AgentProcess::wait_exit(int timeout_ms) {
  if (pid_ <= 0) return -1;
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
       std::chrono::steady_clock::now() < until;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(10ms);
  }
  return -1;
}

std::string AgentProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace corral::testing
