// Network namespaces for integration tests: every namespace and link a test makes is named
// after the test process (corral-t<pid>-<tag>), recorded, and removed by that name when the
// object goes — never by a pattern. The machine's own interfaces are never touched: veth
// pairs are created with both ends inside test namespaces.
//
// enter(): moves the calling thread (and the threads it starts later) into the namespace, so
// a single-threaded test can talk to a server that listens on that namespace's loopback; the
// destructor of the returned guard moves it back.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace corral::testing {

class Netns {
 public:
  // Creates corral-t<pid>-<tag> with its loopback up; nullptr (and a test failure) if `ip`
  // refuses (not root, no iproute2).
  static std::unique_ptr<Netns> create(const std::string& tag);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }
  // argv prefix that runs a command inside: {"ip", "netns", "exec", name}.
  std::vector<std::string> exec_prefix() const;

  class Entered {
   public:
    explicit Entered(int original_fd) : original_fd_(original_fd) {}
    ~Entered();
    Entered(const Entered&) = delete;
    Entered& operator=(const Entered&) = delete;

   private:
    int original_fd_;
  };
  [[nodiscard]] std::unique_ptr<Entered> enter() const;

 private:
  explicit Netns(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// A veth pair between two test namespaces, with an IPv4 /24 address on each end, up.
struct VethLink {
  std::string a_ns, a_dev, a_ip;
  std::string b_ns, b_dev, b_ip;
};
// `subnet` like "10.91.3": a gets .1, b gets .2. Returns false (and a test failure) if refused.
bool make_veth(const Netns& a, const Netns& b, const std::string& tag, const std::string& subnet,
               VethLink& out);
// Sets one end down or up (a cut link, and its repair).
bool set_link(const std::string& ns, const std::string& dev, bool up);

// Runs `argv` (no shell) and waits; the exit code (-1 if it could not run).
int run_command(const std::vector<std::string>& argv);

}  // namespace corral::testing
