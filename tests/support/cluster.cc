#include "support/cluster.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace corral::testing {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {
  std::string templ = (fs::temp_directory_path() / "corral-cluster-XXXXXX").string();
  if (::mkdtemp(templ.data()) != nullptr) data_dir_ = templ;
  agent_port_ = free_port();
  join_port_ = free_port();
  if (options_.driver == "qemu") install_test_guest(data_dir_);
}

Cluster::~Cluster() {
  api_.reset();
  server_.reset();
  if (!data_dir_.empty() && std::getenv("CORRAL_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    fs::remove_all(data_dir_, ignored);
  }
}

std::vector<std::string> Cluster::args() const {
  std::vector<std::string> args = {"--driver",
                                   options_.driver,
                                   "--agent-listen",
                                   options_.listen_host + ":" + std::to_string(agent_port_),
                                   "--join-listen",
                                   options_.listen_host + ":" + std::to_string(join_port_),
                                   "--heartbeat-interval",
                                   options_.heartbeat_interval,
                                   "--down-timeout",
                                   options_.down_timeout,
                                   "--lease",
                                   options_.lease};
  if (options_.driver == "sim") args.insert(args.end(), {"--sim-profile", "zero"});
  if (options_.driver == "qemu") args.insert(args.end(), {"--accel", "tcg"});
  args.insert(args.end(), options_.server_args.begin(), options_.server_args.end());
  return args;
}

bool Cluster::start() {
  api_.reset();
  server_ = std::make_unique<ServerProcess>(args(), data_dir_);
  if (!server_->start()) {
    ADD_FAILURE() << "the controller did not start:\n" << server_->log();
    return false;
  }
  api_ = std::make_unique<Api>(*server_);
  const auto hosts = api_->get("/v1/hosts");
  if (hosts.status != 200) {
    ADD_FAILURE() << "GET /v1/hosts: HTTP " << hosts.status << " " << hosts.body.dump() << "\n"
                  << server_->log();
    return false;
  }
  for (const auto& host : hosts.body["hosts"]) {
    if (!host.value("local", false)) continue;
    const auto name = host["name"].get<std::string>();
    if (host.value("state", std::string()) == "DISABLED") continue;
    const auto r = api_->post("/v1/hosts/" + name + "/action", {{"action", "disable"}});
    if (r.status != 200) {
      // Status 0 is no answer at all: the server's log says whether it died.
      const bool ended = server_->wait_exit(std::chrono::milliseconds(500));
      ADD_FAILURE() << "disable " << name << ": HTTP " << r.status << " " << r.body.dump()
                    << (ended ? " (the controller ended)" : "") << "\n"
                    << server_->log();
      return false;
    }
  }
  return true;
}

bool Cluster::restart(std::vector<std::string> server_args) {
  if (server_ && server_->running()) server_->stop();
  options_.server_args = std::move(server_args);
  return start();
}

void Cluster::kill_controller() {
  if (server_ && server_->running()) server_->kill();
}

AgentOptions Cluster::agent_options(const std::string& address) const {
  const std::string at = address.empty() ? options_.listen_host : address;
  AgentOptions o;
  o.controller = at + ":" + std::to_string(agent_port_);
  o.join_address = at + ":" + std::to_string(join_port_);
  o.driver = options_.driver;
  if (options_.driver == "sim") o.extra = {"--sim-profile", "zero"};
  if (options_.driver == "qemu") o.extra = {"--accel", "tcg"};
  return o;
}

std::string Cluster::add_host(const std::string& name, const json& extra) {
  json body = {{"name", name}};
  body.update(extra);
  const auto r = api_->post("/v1/hosts", body);
  EXPECT_EQ(r.status, 201) << r.body.dump();
  return r.body.value("join_token", std::string());
}

std::unique_ptr<AgentProcess> Cluster::join(const std::string& name, AgentOptions options) {
  const auto token = add_host(name);
  auto agent = std::make_unique<AgentProcess>(std::move(options));
  if (options_.driver == "qemu") install_test_guest(agent->data_dir());
  EXPECT_TRUE(agent->start(token));
  EXPECT_TRUE(wait_host(name, "MONITORED")) << host(name).dump() << "\n" << agent->log();
  return agent;
}

json Cluster::host(const std::string& name) { return api_->get("/v1/hosts/" + name).body; }

bool Cluster::wait_host(const std::string& name, const std::string& state,
                        std::chrono::milliseconds timeout) {
  return eventually([&] { return host(name).value("state", std::string()) == state; }, timeout);
}

bool Cluster::wait_connected(const std::string& name, std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        const json h = host(name);
        return h.value("connected", false) && h.value("state", std::string()) == "MONITORED";
      },
      timeout);
}

std::int64_t Cluster::create(const std::string& name, const json& extra) {
  json body = {{"name", name}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}};
  body.update(extra);
  const auto r = api_->post("/v1/vms", body);
  EXPECT_EQ(r.status / 100, 2) << r.body.dump();
  return r.body.contains("vm") ? r.body["vm"].value("id", std::int64_t{0}) : 0;
}

json Cluster::vm(std::int64_t id) { return api_->get("/v1/vms/" + std::to_string(id)).body; }

std::string Cluster::host_of(std::int64_t id) {
  const auto v = vm(id);
  return v.contains("host") && v["host"].is_string() ? v["host"].get<std::string>() : std::string();
}

bool Cluster::wait_vm(std::int64_t id, const std::string& state,
                      std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        const auto v = vm(id);
        if (v.value("state", std::string()) != state) return false;
        const json op = v.value("operation", json());
        return op.is_null() || op.value("status", std::string()) != "running";
      },
      timeout);
}

void install_test_guest(const std::string& data_dir) {
  const std::string tiny = data_dir + "/var/images/tiny";
  fs::create_directories(tiny);
  for (const char* file : {"vmlinuz", "initrd.img"}) {
    std::error_code ec;
    fs::copy_file(std::string(CORRAL_GUEST_DIR) + "/" + file, tiny + "/" + file,
                  fs::copy_options::overwrite_existing, ec);
    EXPECT_FALSE(ec) << ec.message();
  }
}

std::set<std::int64_t> vms_with_locked_disk(const std::string& data_dir) {
  // /proc/locks names a lock's file as MAJOR:MINOR:INODE (hex, hex, decimal).
  std::set<std::string> locked;
  std::ifstream locks("/proc/locks");
  for (std::string line; std::getline(locks, line);) {
    std::istringstream in(line);
    std::string n, kind, mode, access, pid, file;
    if (in >> n >> kind >> mode >> access >> pid >> file) locked.insert(file);
  }
  std::set<std::int64_t> out;
  std::error_code ec;
  for (const auto& vm : fs::directory_iterator(data_dir + "/var/vms", ec)) {
    const std::string id = vm.path().filename().string();
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) continue;
    for (const auto& file : fs::recursive_directory_iterator(vm.path(), ec)) {
      struct stat st {};
      if (!file.is_regular_file() || ::stat(file.path().c_str(), &st) != 0) continue;
      char key[64];
      std::snprintf(key, sizeof key, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                    static_cast<unsigned long>(st.st_ino));
      if (locked.contains(key)) out.insert(std::stoll(id));
    }
  }
  return out;
}

}  // namespace corral::testing
