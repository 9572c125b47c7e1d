#include "net/dnsmasq.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include "net/links.h"
#include "net/netns.h"

namespace corral::net {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";

Error io_error(const std::string& what) {
  return Error{
      ErrorCode::kUnavailable, what + ": " + std::system_category().message(errno), {}, {}};
}

std::optional<pid_t> read_pid(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return std::nullopt;
  return static_cast<pid_t>(pid);
}

std::string cmdline_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Dnsmasq::Dnsmasq(std::string netns, std::string interface, Cidr cidr, std::string dir)
    : netns_(std::move(netns)),
      interface_(std::move(interface)),
      cidr_(cidr),
      dir_(std::move(dir)) {}

std::vector<std::string> Dnsmasq::argv() const {
  // --port=0: no DNS, DHCP only. static: only the hosts file's MACs get addresses (Neutron).
  return {
      kDnsmasq,
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--port=0",
      "--user=root",
      "--interface=" + interface_,
      "--bind-interfaces",
      "--except-interface=lo",
      "--dhcp-range=" + cidr_.network().to_string() + ",static," + cidr_.netmask_text() + ",86400s",
      "--dhcp-hostsfile=" + hosts_file(),
      "--dhcp-leasefile=" + lease_file(),
      "--pid-file=" + pid_file(),
      "--dhcp-authoritative",
      "--dhcp-option=option:router," + cidr_.gateway().to_string(),
      "--dhcp-option=option:mtu," + std::to_string(kNetworkMtu),
      "--log-dhcp",
      "--log-facility=" + log_file()};
}

std::optional<pid_t> Dnsmasq::running() const {
  const std::optional<pid_t> pid = read_pid(pid_file());
  if (!pid || ::kill(*pid, 0) != 0) return std::nullopt;
  const std::string cmdline = cmdline_of(*pid);
  const std::string ours = "--dhcp-hostsfile=" + hosts_file();
  if (cmdline.rfind(kDnsmasq, 0) != 0 || cmdline.find(ours) == std::string::npos) {
    return std::nullopt;
  }
  return pid;
}

Status Dnsmasq::apply(const std::vector<DhcpHost>& hosts) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    return fail(Error{ErrorCode::kUnavailable, "mkdir " + dir_ + ": " + ec.message(), {}, {}});
  const std::string temp = hosts_file() + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    for (const DhcpHost& h : hosts) {
      out << h.mac << ',' << h.ip;
      if (!h.hostname.empty()) out << ',' << h.hostname;
      out << '\n';
    }
    out.flush();
    if (!out) return fail(io_error("write " + temp));
  }
  if (::rename(temp.c_str(), hosts_file().c_str()) != 0) return fail(io_error("rename " + temp));
  if (const std::optional<pid_t> pid = running()) {
    std::string ours;
    for (const std::string& a : argv()) ours += a + '\0';
    if (cmdline_of(*pid) == ours) {
      if (::kill(*pid, SIGHUP) != 0) return fail(io_error("SIGHUP dnsmasq"));
      return {};
    }
    // Started with other options (by an older Corral, say one that gave no MTU): replaced, so
    // the network serves this version's options. Its leases stay in the lease file.
    end(*pid);
  }
  return start();
}

Status Dnsmasq::start() {
  const std::vector<std::string> args = argv();
  std::vector<char*> argv_c;
  argv_c.reserve(args.size() + 1);
  for (const std::string& a : args) argv_c.push_back(const_cast<char*>(a.c_str()));
  argv_c.push_back(nullptr);
  const int ns = ::open(netns_path(netns_).c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) return fail(io_error("open namespace " + netns_));
  const int log = ::open(log_file().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  // Only async-signal-safe calls between fork and exec: setns, dup2, execv.
  const pid_t child = ::fork();
  if (child == 0) {
    if (::setns(ns, CLONE_NEWNET) != 0) ::_exit(126);
    if (log >= 0) {
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
    }
    ::execv(kDnsmasq, argv_c.data());
    ::_exit(127);
  }
  ::close(ns);
  if (log >= 0) ::close(log);
  if (child < 0) return fail(io_error("fork"));
  // dnsmasq forks into the background once it is listening; the first process then exits.
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(log_file());
    std::stringstream text;
    text << in.rdbuf();
    std::string tail = text.str();
    if (tail.size() > 400) tail = tail.substr(tail.size() - 400);
    return fail(Error{ErrorCode::kUnavailable,
                      "dnsmasq on " + interface_ + " in " + netns_ + " did not start (status " +
                          std::to_string(status) + "): " + tail,
                      {},
                      {}});
  }
  // The pid file is written by the daemon itself; give it a moment.
  for (int i = 0; i < 200 && !running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!running()) {
    return fail(Error{ErrorCode::kUnavailable, "dnsmasq wrote no pid file " + pid_file(), {}, {}});
  }
  return {};
}

void Dnsmasq::end(pid_t pid) {
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 400 && ::kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
}

Status Dnsmasq::stop() {
  if (const std::optional<pid_t> pid = running()) end(*pid);
  std::error_code ec;
  fs::remove_all(dir_, ec);
  return {};
}

}  // namespace corral::net
