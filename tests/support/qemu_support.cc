#include "support/qemu_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "cluster/pki.h"
#include "driver/qemu/posix.h"
#include "net/fabric.h"
#include "net/netns.h"

namespace corral::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::multimap<std::int64_t, pid_t> qemu_processes(const std::string& data_dir) {
  std::multimap<std::int64_t, pid_t> out;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(name));
    const std::string cmdline = driver::qemu::process_cmdline(pid);
    if (cmdline.find("qemu-system") == std::string::npos) continue;
    const std::string marker = data_dir + "/var/vms/";
    const std::size_t at = cmdline.find(marker);
    if (at == std::string::npos || !driver::qemu::process_alive(pid)) continue;
    const std::size_t digits = at + marker.size();
    const std::size_t end = cmdline.find('/', digits);
    if (end == std::string::npos) continue;
    out.emplace(std::stoll(cmdline.substr(digits, end - digits)), pid);
  }
  return out;
}

std::set<std::int64_t> vms_with_process(const std::string& data_dir) {
  std::set<std::int64_t> out;
  for (const auto& [id, pid] : qemu_processes(data_dir)) {
    EXPECT_TRUE(out.insert(id).second) << "VM " << id << " runs twice";
  }
  return out;
}

void kill_qemu_processes(const std::string& data_dir) {
  for (int round = 0; round < 100; ++round) {
    const auto pids = qemu_processes(data_dir);
    if (pids.empty()) return;
    for (const auto& [vm, pid] : pids) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(20ms);
  }
}

QemuServer::QemuServer(std::vector<std::string> extra_args, bool prebuilt_guest) {
  std::vector<std::string> args = {"--driver", "qemu", "--accel", "tcg"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  server_ = std::make_unique<ServerProcess>(std::move(args));
  if (prebuilt_guest) {
    const std::string tiny = server_->data_dir() + "/var/images/tiny";
    fs::create_directories(tiny);
    for (const char* file : {"vmlinuz", "initrd.img"}) {
      fs::copy_file(std::string(CORRAL_GUEST_DIR) + "/" + file, tiny + "/" + file);
    }
  }
}

QemuServer::~QemuServer() {
  if (server_->running()) server_->kill();
  kill_qemu_processes(server_->data_dir());
  teardown_networks();
}

void QemuServer::teardown_networks() {
  const std::string dir = server_->data_dir() + "/var";
  std::ifstream in(dir + "/cluster/ca.crt");
  if (!in) return;  // the server never started: it made nothing
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<std::string> fingerprint = cluster::fingerprint_of(pem);
  ASSERT_TRUE(fingerprint) << fingerprint.error().message;
  const net::FabricNames names = net::FabricNames::for_ca(*fingerprint);
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "local");
  Status h = net::HostNode(names, host).teardown();
  EXPECT_TRUE(h) << h.error().message;
  Status n = net::NetNode(names, dir + "/networks").teardown();
  EXPECT_TRUE(n) << n.error().message;
  for (const std::string& ns : {names.network_ns(), names.underlay_ns(), names.host_ns(host)}) {
    EXPECT_FALSE(net::netns_exists(ns)) << ns << " is left behind";
  }
}

std::int64_t create_vm(Api& api, const std::string& name, const std::string& image) {
  const ApiResult r =
      api.post("/v1/vms", {{"name", name}, {"image", image}, {"vcpus", 1}, {"memory_mib", 128}});
  EXPECT_EQ(r.status, 202) << r.body.dump();
  if (r.status != 202) return 0;
  return r.body["vm"]["id"].get<std::int64_t>();
}

int act(Api& api, std::int64_t id, const std::string& action, const nlohmann::json& extra) {
  nlohmann::json body = extra;
  body["action"] = action;
  const ApiResult r = api.post("/v1/vms/" + std::to_string(id) + "/actions", body);
  EXPECT_EQ(r.status, 202) << action << ": " << r.body.dump();
  return r.status;
}

nlohmann::json wait_state(Api& api, std::int64_t id, const std::string& state,
                          std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < until) {
    const ApiResult r = api.get("/v1/vms/" + std::to_string(id));
    if (r.status == 200) {
      last = r.body;
      const nlohmann::json& op = r.body["operation"];
      const bool idle = op.is_null() || op["status"] != "running";
      if (idle && r.body["state"] == state) return r.body;
    }
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "VM " << id << " not idle in " << state << " within " << timeout.count()
                << " ms: " << last.dump() << "\nhistory: " << history(api, id).dump();
  return nullptr;
}

bool wait_console(Api& api, std::int64_t id, const std::string& text,
                  std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    const ApiResult r = api.get("/v1/vms/" + std::to_string(id) + "/console/log");
    if (r.status == 200 && r.body["log"].get<std::string>().find(text) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

nlohmann::json history(Api& api, std::int64_t id) {
  const ApiResult r = api.get("/v1/vms/" + std::to_string(id) + "/history?limit=1000");
  return r.status == 200 ? r.body["transitions"] : nlohmann::json::array();
}

}  // namespace corral::testing
