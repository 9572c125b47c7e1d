// The test guest on a network (issue 13, the guest's part): one real QEMU (TCG, 128 MiB)
// with a virtio NIC on a tap, in a namespace of this test's own, where a bridge carries the
// gateway address and dnsmasq serves DHCP in static mode. The VM's initrd is the image's plus
// the per-VM archive (driver/qemu/guest_data.h) holding a freshly made ssh key and a
// hostname. Proves: the guest gets its address (ping answers) and dropbear lets the key's
// owner in (ssh prints the hostname from the per-VM data).
//
// Everything it starts is recorded by PID and ended by that PID; the namespace (and the
// bridge and tap in it) goes with the Netns object.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "driver/qemu/guest_data.h"
#include "driver/qemu/posix.h"
#include "support/netns.h"

namespace corral::driver::qemu {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using corral::testing::Netns;
using corral::testing::run_command;

constexpr const char* kGateway = "10.77.0.1";
constexpr const char* kGuestIp = "10.77.0.10";
constexpr const char* kGuestMac = "02:00:0a:4d:00:0a";  // 02:00 + the IPv4 bytes
constexpr const char* kHostname = "guest-net-test";

// Starts argv (no shell) with stdout and stderr to `log`; its PID, or -1.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) ::dup2(in, STDIN_FILENO);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

void end(pid_t& pid, int sig) {
  if (pid <= 0) return;
  ::kill(pid, sig);
  ::waitpid(pid, nullptr, 0);
  pid = -1;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class QemuGuestNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "corral-gnet-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
  }
  void TearDown() override {
    end(qemu_, SIGKILL);
    end(dnsmasq_, SIGTERM);
    if (HasFailure()) {
      std::cerr << "--- serial.log\n"
                << slurp(dir_ + "/serial.log") << "--- dnsmasq.log\n"
                << slurp(dir_ + "/dnsmasq.log") << "---\n";
    }
    ns_.reset();
    fs::remove_all(dir_);
  }

  // argv run inside the test namespace.
  std::vector<std::string> in_ns(std::vector<std::string> argv) const {
    std::vector<std::string> full = ns_->exec_prefix();
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
  }

  std::string dir_;
  std::unique_ptr<Netns> ns_;
  pid_t dnsmasq_ = -1;
  pid_t qemu_ = -1;
};

TEST_F(QemuGuestNetTest, GuestGetsItsAddressAndLetsTheKeyIn) {
  ns_ = Netns::create("gnet");
  ASSERT_TRUE(ns_);
  const std::string& ns = ns_->name();
  const std::string tap = "t1n0";
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"ip", "-n", ns, "link", "add", "br0", "type", "bridge"},
           {"ip", "-n", ns, "addr", "add", std::string(kGateway) + "/24", "dev", "br0"},
           {"ip", "-n", ns, "link", "set", "br0", "up"},
           {"ip", "-n", ns, "tuntap", "add", tap, "mode", "tap"},
           {"ip", "-n", ns, "link", "set", tap, "master", "br0"},
           {"ip", "-n", ns, "link", "set", tap, "up"},
       }) {
    ASSERT_EQ(run_command(argv), 0) << argv[3] << " " << argv[4] << " in " << ns;
  }

  // DHCP in Neutron's static mode: only the hosts file's MACs get an address.
  {
    std::ofstream hosts(dir_ + "/hosts");
    hosts << kGuestMac << "," << kGuestIp << "\n";
  }
  dnsmasq_ =
      spawn(in_ns({"dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--port=0",
                   "--user=root", "--interface=br0", "--bind-interfaces", "--except-interface=lo",
                   "--dhcp-range=10.77.0.0,static,255.255.255.0,86400s",
                   "--dhcp-hostsfile=" + dir_ + "/hosts", "--dhcp-leasefile=" + dir_ + "/leases",
                   "--pid-file=" + dir_ + "/dnsmasq.pid", "--dhcp-authoritative",
                   std::string("--dhcp-option=option:router,") + kGateway, "--log-dhcp",
                   "--log-facility=-"}),
            dir_ + "/dnsmasq.log");
  ASSERT_GT(dnsmasq_, 0);

  const std::string key = dir_ + "/id_ed25519";
  ASSERT_EQ(
      run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "corral-test", "-f", key}),
      0);
  std::string pub = slurp(key + ".pub");
  while (!pub.empty() && (pub.back() == '\n' || pub.back() == '\r')) pub.pop_back();
  const std::string initrd = dir_ + "/initrd.img";
  Status written = write_vm_initrd(std::string(CORRAL_GUEST_DIR) + "/initrd.img",
                                   GuestData{kHostname, {pub}, ""}, initrd);
  ASSERT_TRUE(written) << written.error().message;

  const auto started = Clock::now();
  qemu_ = spawn(in_ns({"qemu-system-x86_64",
                       "-machine",
                       "pc",
                       "-accel",
                       "tcg",
                       "-m",
                       "128",
                       "-nodefaults",
                       "-no-user-config",
                       "-display",
                       "none",
                       "-serial",
                       "file:" + dir_ + "/serial.log",
                       "-kernel",
                       std::string(CORRAL_GUEST_DIR) + "/vmlinuz",
                       "-initrd",
                       initrd,
                       "-append",
                       "console=ttyS0 quiet panic=-1",
                       "-netdev",
                       "tap,id=n0,ifname=" + tap + ",script=no,downscript=no",
                       "-device",
                       std::string("virtio-net-pci,netdev=n0,mac=") + kGuestMac}),
                dir_ + "/qemu.log");
  ASSERT_GT(qemu_, 0);
  const auto deadline = started + 25s;
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - started).count(); };

  bool pinged = false;
  while (!pinged && Clock::now() < deadline) {
    ASSERT_EQ(::waitpid(qemu_, nullptr, WNOHANG), 0) << "qemu ended:\n"
                                                     << slurp(dir_ + "/qemu.log");
    // busybox's ping: busybox-static is installed for the guest anyway, iputils-ping is not.
    pinged = run_command(in_ns({"busybox", "ping", "-c", "1", "-W", "1", kGuestIp})) == 0;
  }
  ASSERT_TRUE(pinged) << kGuestIp << " did not answer ping within 25 s";
  std::cout << "ping answered " << seconds() << " s after qemu started\n";

  std::string hostname;
  int code = -1;
  while (Clock::now() < deadline) {
    // LogLevel=ERROR: ssh's "Permanently added" notice would join the output.
    Result<CommandResult> ssh = qemu::run_command(
        in_ns({"ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o",
               "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o",
               "ConnectTimeout=5", std::string("root@") + kGuestIp, "cat", "/etc/corral/hostname"}),
        10s);
    code = ssh ? ssh->exit_code : -1;
    hostname = ssh ? ssh->output : std::string();
    if (code == 0) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(code, 0) << "ssh root@" << kGuestIp << " failed";
  EXPECT_EQ(hostname, std::string(kHostname) + "\n");
  std::cout << "ssh answered " << seconds() << " s after qemu started\n";
}

}  // namespace
}  // namespace corral::driver::qemu
