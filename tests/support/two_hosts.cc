#include "support/two_hosts.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <thread>

#include "support/qemu_support.h"

namespace corral::testing {

using namespace std::chrono_literals;

TwoHosts::~TwoHosts() { cleanup(); }

void TwoHosts::cleanup() {
  for (const std::string& dir : {dir1_, dir2_}) {
    if (!dir.empty()) kill_qemu_processes(dir);
  }
  h1_.reset();
  h2_.reset();
  retired_.clear();  // the first processes own the data dirs: they go last
  cluster_.reset();
  inside_.reset();
  std::error_code ec;
  if (!shared_.empty()) std::filesystem::remove_all(shared_, ec);
}

AgentOptions TwoHosts::options_for(const std::string& host, bool shared_storage) const {
  const bool first = host == "h1";
  AgentOptions options = cluster_->agent_options(first ? link1_.a_ip : link2_.a_ip);
  options.prefix = (first ? *ns1_ : *ns2_).exec_prefix();
  options.extra = {"--migration-address", first ? mig_.a_ip : mig_.b_ip};
  if (shared_storage) options.extra.insert(options.extra.end(), {"--shared-dir", shared_.string()});
  options.extra.insert(options.extra.end(), agent_args_.begin(), agent_args_.end());
  return options;
}

bool TwoHosts::start(bool shared_storage, std::vector<std::string> agent_args,
                     std::vector<std::string> server_args) {
  shared_storage_ = shared_storage;
  agent_args_ = std::move(agent_args);
  ctl_ = Netns::create("mctl");
  ns1_ = Netns::create("m1");
  ns2_ = Netns::create("m2");
  if (!ctl_ || !ns1_ || !ns2_) return false;
  if (!make_veth(*ctl_, *ns1_, "1", "10.214.1", link1_) ||
      !make_veth(*ctl_, *ns2_, "2", "10.214.2", link2_) ||
      !make_veth(*ns1_, *ns2_, "m", "10.214.3", mig_)) {
    return false;
  }
  inside_ = ctl_->enter();
  shared_ = std::filesystem::temp_directory_path() / ("corral-shared-" + std::to_string(getpid()));
  std::filesystem::create_directories(shared_);
  server_args.insert(server_args.begin(), {"--host-failure-policy", "none"});
  cluster_ = std::make_unique<Cluster>(ClusterOptions{
      .driver = "qemu", .listen_host = "0.0.0.0", .server_args = std::move(server_args)});
  if (!cluster_->start()) return false;
  h1_ = cluster_->join("h1", options_for("h1", shared_storage));
  h2_ = cluster_->join("h2", options_for("h2", shared_storage));
  if (!h1_ || !h2_) return false;
  dir1_ = h1_->data_dir();
  dir2_ = h2_->data_dir();
  return true;
}

bool TwoHosts::restart_agents(bool shared_storage) {
  shared_storage_ = shared_storage;
  h1_->stop();
  h2_->stop();
  retire(std::move(h1_));
  retire(std::move(h2_));
  h1_ = std::make_unique<AgentProcess>(options_for("h1", shared_storage), dir1_);
  h2_ = std::make_unique<AgentProcess>(options_for("h2", shared_storage), dir2_);
  if (!h1_->start() || !h2_->start()) return false;
  return cluster_->wait_connected("h1") && cluster_->wait_connected("h2");
}

void TwoHosts::retire(std::unique_ptr<AgentProcess> agent) {
  if (agent) retired_.push_back(std::move(agent));
}

void TwoHosts::kill_agent(const std::string& host) { agent(host).kill(); }

bool TwoHosts::strike(const std::string& party, const std::string& source,
                      const std::string& target) {
  if (party == "controller") {
    cluster_->kill_controller();
    return cluster_->start();
  }
  if (party == "link") {
    if (!set_link(mig_.a_ns, mig_.a_dev, false)) return false;
    std::this_thread::sleep_for(3s);
    return set_link(mig_.a_ns, mig_.a_dev, true);
  }
  const std::string victim = party == "source" ? source : target;
  kill_agent(victim);
  const bool back = start_agent(victim);
  EXPECT_TRUE(back) << "the " << party << " agent did not come back";
  return back;
}

bool TwoHosts::start_agent(const std::string& host) {
  auto& slot = host == "h1" ? h1_ : h2_;
  retire(std::move(slot));
  slot = std::make_unique<AgentProcess>(options_for(host, shared_storage_),
                                        host == "h1" ? dir1_ : dir2_);
  return slot->start() && cluster_->wait_connected(host);
}

std::int64_t TwoHosts::counting_guest(const std::string& name) {
  const std::int64_t id = cluster_->create(name);
  EXPECT_TRUE(cluster_->wait_vm(id, "RUNNING", 90s)) << cluster_->vm(id).dump();
  EXPECT_TRUE(wait_console(api(), id, "corral-guest: ready", 90s));
  bool ticking = false;
  for (int attempt = 0; attempt < 3 && !ticking; ++attempt) {  // typed before the shell read
    EXPECT_EQ(
        api()
            .post("/v1/vms/" + std::to_string(id) + "/console",
                  {{"input", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done &\n"}})
            .status,
        202);
    ticking = wait_console(api(), id, "tick 3", 20s);
  }
  EXPECT_TRUE(ticking) << "the guest's shell never ran the counter";
  return id;
}

std::pair<long, long> TwoHosts::ticks(std::int64_t id) {
  const ApiResult log = api().get("/v1/vms/" + std::to_string(id) + "/console/log");
  if (log.status != 200 || !log.body.contains("log")) return {0, 0};
  const std::string text = log.body["log"].get<std::string>();
  static const std::regex kTick("tick ([0-9]+)");
  long low = 0;
  long high = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kTick);
       it != std::sregex_iterator(); ++it) {
    const long n = std::stol((*it)[1].str());
    low = low == 0 ? n : std::min(low, n);
    high = std::max(high, n);
  }
  return {low, high};
}

bool TwoHosts::idle_in(std::int64_t id, const std::string& state) {
  const auto vm = cluster_->vm(id);
  const auto op = vm.value("operation", nlohmann::json());
  return vm.value("state", std::string()) == state &&
         (op.is_null() || op.value("status", std::string()) != "running");
}

std::set<std::int64_t> TwoHosts::vms_under(const std::string& host) {
  std::set<std::int64_t> out;
  for (const auto& [vm, pid] : qemu_processes(agent(host).data_dir())) out.insert(vm);
  return out;
}

std::filesystem::path TwoHosts::vm_dir(const std::string& host, std::int64_t id) {
  return std::filesystem::path(agent(host).data_dir()) / "var" / "vms" / std::to_string(id);
}

std::filesystem::path TwoHosts::disk_of(const std::string& host, std::int64_t id) {
  return vm_dir(host, id) / "disk.qcow2";
}

std::string sha256_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 20);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    EVP_DigestUpdate(ctx, buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace corral::testing
