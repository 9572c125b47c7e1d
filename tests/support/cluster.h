// A controller (`corral server`) with agents (`corral agent`), as integration tests drive it:
// hosts added through the API with one-time join tokens, agents started as real processes
// (optionally in their own network namespaces), and the waits a test needs (a host's state,
// a VM's state and host). The controller's own (local) host is disabled on start, so every
// VM goes to an agent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/agent_process.h"
#include "support/recipes.h"
#include "support/server_process.h"

namespace corral::testing {

// Polls `done` every 50 ms until it holds or `timeout` passes; the last answer.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout);

struct ClusterOptions {
  std::string driver = "sim";             // the controller's and the agents' driver
  std::string listen_host = "127.0.0.1";  // where the agent and join ports listen
  std::vector<std::string> server_args;   // more `corral server` arguments
  // Fast failure detection: seconds, as the server options take them.
  std::string heartbeat_interval = "0.3";
  std::string down_timeout = "2";
  std::string lease = "1.5";
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options = {});
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts the controller (the first time on a new data dir, later on the same one with the
  // same ports and `server_args` replaced when given) and disables its local host.
  bool start();
  bool restart(std::vector<std::string> server_args);
  void kill_controller();

  ServerProcess& server() { return *server_; }
  Api& api() { return *api_; }

  // What an agent needs to reach the controller from `address` (its side of a link; the
  // listen host when empty).
  AgentOptions agent_options(const std::string& address = {}) const;
  // `POST /v1/hosts`: the one-time join token ("" and a test failure if refused).
  std::string add_host(const std::string& name,
                       const nlohmann::json& extra = nlohmann::json::object());
  // Adds the host, starts its agent with `options` and waits until the host is MONITORED.
  std::unique_ptr<AgentProcess> join(const std::string& name, AgentOptions options);
  std::unique_ptr<AgentProcess> join(const std::string& name) {
    return join(name, agent_options());
  }

  nlohmann::json host(const std::string& name);
  // Its agent is connected and welcomed by the controller running now (after a restart the
  // stored state says MONITORED before the agent is back).
  bool wait_connected(const std::string& name,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool wait_host(const std::string& name, const std::string& state,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // POST /v1/vms (image tiny, 1 vCPU, 128 MiB); the id (0 and a test failure if refused).
  std::int64_t create(const std::string& name,
                      const nlohmann::json& extra = nlohmann::json::object());
  nlohmann::json vm(std::int64_t id);
  std::string host_of(std::int64_t id);
  // Idle in `state` (no operation running).
  bool wait_vm(std::int64_t id, const std::string& state,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));

  int agent_port() const { return agent_port_; }
  int join_port() const { return join_port_; }

 private:
  std::vector<std::string> args() const;

  ClusterOptions options_;
  int agent_port_ = 0;
  int join_port_ = 0;
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Api> api_;
};

// Copies the test guest (image `tiny`) into `<data_dir>/var/images/tiny`.
void install_test_guest(const std::string& data_dir);

// The VMs whose disk files under `<data_dir>/var/vms/<id>/` are locked (QEMU holds an OFD lock
// on every image it has open): a VM's disk locked under two hosts' data dirs is a VM open twice.
std::set<std::int64_t> vms_with_locked_disk(const std::string& data_dir);

}  // namespace corral::testing
