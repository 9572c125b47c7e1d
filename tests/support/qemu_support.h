// Helpers for tests against real QEMU: a server with the qemu driver whose VMs are killed
// when the test ends, the QEMU processes under a data dir, and the CLI fed with input.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/recipes.h"
#include "support/server_process.h"

namespace corral::testing {

// QEMU processes whose command line names <data_dir>/.../vms/<id>/, by VM id (as `ps`
// shows them; a VM listed twice would be a VM running twice, so ids map to every pid).
std::multimap<std::int64_t, pid_t> qemu_processes(const std::string& data_dir);
// The VMs with a QEMU process; a test failure for each VM that has more than one.
std::set<std::int64_t> vms_with_process(const std::string& data_dir);
// SIGKILLs every one of them and waits until they are gone.
void kill_qemu_processes(const std::string& data_dir);

// A `corral server --driver qemu --accel tcg` on a temporary data dir; the VMs' QEMU
// processes are killed when it goes.
class QemuServer {
 public:
  // With `prebuilt_guest`, the data dir starts with the image `tiny` the build made (else
  // the server builds it on its first start, as `make run` does).
  explicit QemuServer(std::vector<std::string> extra_args = {}, bool prebuilt_guest = true);
  ~QemuServer();
  QemuServer(const QemuServer&) = delete;
  QemuServer& operator=(const QemuServer&) = delete;

  ServerProcess& process() { return *server_; }
  // Removes the namespaces and DHCP servers the server's networks made on this machine (by the
  // names its cluster CA gives them, net/fabric.h), after the server and its VMs are gone.
  // Called by the destructor; a failure is a test failure.
  void teardown_networks();
  const std::string& data_dir() const { return server_->data_dir(); }
  std::string vms_dir() const { return server_->data_dir() + "/var/vms"; }

 private:
  std::unique_ptr<ServerProcess> server_;
};

// POST /v1/vms with image `image`, 128 MiB; returns the id (0 and a test failure if refused).
std::int64_t create_vm(Api& api, const std::string& name, const std::string& image = "tiny");
// POST an action; returns the HTTP status.
int act(Api& api, std::int64_t id, const std::string& action,
        const nlohmann::json& extra = nlohmann::json::object());
// Waits until the VM is idle in `state`; returns its JSON (null and a test failure if not
// within the timeout).
nlohmann::json wait_state(Api& api, std::int64_t id, const std::string& state,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));
// Waits until the console log contains `text`.
bool wait_console(Api& api, std::int64_t id, const std::string& text,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));
// The VM's transitions, oldest first.
nlohmann::json history(Api& api, std::int64_t id);

}  // namespace corral::testing
