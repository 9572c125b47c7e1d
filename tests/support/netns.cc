#include "support/netns.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace corral::testing {

int run_command(const std::vector<std::string>& argv) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDOUT_FILENO);
      ::close(null_fd);
    }
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (pid < 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::unique_ptr<Netns> Netns::create(const std::string& tag) {
  const std::string name = "corral-t" + std::to_string(::getpid()) + "-" + tag;
  if (run_command({"ip", "netns", "add", name}) != 0) {
    ADD_FAILURE() << "ip netns add " << name << " failed (root and iproute2 needed)";
    return nullptr;
  }
  std::unique_ptr<Netns> ns(new Netns(name));
  if (run_command({"ip", "-n", name, "link", "set", "lo", "up"}) != 0) {
    ADD_FAILURE() << "cannot set lo up in " << name;
    return nullptr;
  }
  return ns;
}

Netns::~Netns() {
  // Removing the namespace removes the links inside it (both veth ends die with either side).
  if (run_command({"ip", "netns", "del", name_}) != 0) {
    ADD_FAILURE() << "ip netns del " << name_ << " failed";
  }
}

std::vector<std::string> Netns::exec_prefix() const { return {"ip", "netns", "exec", name_}; }

std::unique_ptr<Netns::Entered> Netns::enter() const {
  const int original = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  const std::string path = "/run/netns/" + name_;
  const int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (original < 0 || target < 0 || ::setns(target, CLONE_NEWNET) != 0) {
    ADD_FAILURE() << "cannot enter " << name_;
    if (target >= 0) ::close(target);
    if (original >= 0) ::close(original);
    return nullptr;
  }
  ::close(target);
  return std::make_unique<Entered>(original);
}

Netns::Entered::~Entered() {
  if (::setns(original_fd_, CLONE_NEWNET) != 0) ADD_FAILURE() << "cannot leave the namespace";
  ::close(original_fd_);
}

bool make_veth(const Netns& a, const Netns& b, const std::string& tag, const std::string& subnet,
               VethLink& out) {
  // Interface names are at most 15 bytes; the namespaces keep them apart, so short is fine.
  out = {a.name(), "v" + tag + "a", subnet + ".1", b.name(), "v" + tag + "b", subnet + ".2"};
  const bool ok =
      run_command({"ip", "link", "add", out.a_dev, "netns", out.a_ns, "type", "veth", "peer",
                   "name", out.b_dev, "netns", out.b_ns}) == 0 &&
      run_command({"ip", "-n", out.a_ns, "addr", "add", out.a_ip + "/24", "dev", out.a_dev}) ==
          0 &&
      run_command({"ip", "-n", out.b_ns, "addr", "add", out.b_ip + "/24", "dev", out.b_dev}) ==
          0 &&
      set_link(out.a_ns, out.a_dev, true) && set_link(out.b_ns, out.b_dev, true);
  if (!ok) ADD_FAILURE() << "cannot make veth " << out.a_dev << "/" << out.b_dev;
  return ok;
}

bool set_link(const std::string& ns, const std::string& dev, bool up) {
  return run_command({"ip", "-n", ns, "link", "set", "dev", dev, up ? "up" : "down"}) == 0;
}

}  // namespace corral::testing
