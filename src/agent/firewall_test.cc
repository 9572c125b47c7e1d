// HostFirewallWorker alone: answers, coalescing, a bad job, and a phase's apply_latest().
#include "agent/firewall.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace corral::agent {
namespace {

using namespace std::chrono_literals;

v1::HostFirewall job(std::uint64_t generation, std::string ip = "10.77.0.2") {
  v1::HostFirewall j;
  j.set_generation(generation);
  v1::NicFirewall* nic = j.add_nics();
  nic->set_vm(4);
  nic->set_nic(0);
  nic->set_mac("02:00:0a:4d:00:02");
  nic->set_ip(std::move(ip));
  v1::FirewallRule* rule = nic->add_rules();
  rule->set_direction(v1::FirewallRule::DIRECTION_INGRESS);
  rule->set_protocol(v1::FirewallRule::PROTOCOL_TCP);
  rule->set_ports("22");
  return j;
}

// (generation, error) of every FirewallResult in the outbox, in order.
std::vector<std::pair<std::uint64_t, std::string>> answers(Outbox& outbox) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (const v1::AgentMessage& m : outbox.take_all()) {
    if (m.has_firewall_result()) {
      out.emplace_back(m.firewall_result().generation(), m.firewall_result().error());
    }
  }
  return out;
}

bool eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return done();
}

// An apply function that records the taps' first rule ports by job and can be held shut.
class Gate {
 public:
  Status apply(const std::vector<net::NicFirewall>& nics) {
    std::unique_lock lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    applied_.push_back(nics.size());
    return {};
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int entered() {
    std::lock_guard lock(mu_);
    return entered_;
  }
  std::size_t applied() {
    std::lock_guard lock(mu_);
    return applied_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int entered_ = 0;
  std::vector<std::size_t> applied_;
};

TEST(HostFirewallWorker, WithoutTapsEveryJobIsAnsweredAppliedAtOnce) {
  Outbox outbox;
  HostFirewallWorker worker(nullptr);
  worker.start(&outbox);
  worker.submit(job(3));
  worker.submit(job(4, "not an address"));  // nothing is applied, so nothing is checked
  EXPECT_EQ(answers(outbox),
            (std::vector<std::pair<std::uint64_t, std::string>>{{3, ""}, {4, ""}}));
  EXPECT_EQ(worker.applied_generation(), 4U);
  EXPECT_TRUE(worker.apply_latest());
}

TEST(HostFirewallWorker, ANewerJobReplacesOneNotStartedAndEachStartedOneIsAnswered) {
  Outbox outbox;
  Gate gate;
  HostFirewallWorker worker([&](const std::vector<net::NicFirewall>& n) { return gate.apply(n); });
  worker.start(&outbox);
  worker.submit(job(1));
  ASSERT_TRUE(eventually([&] { return gate.entered() == 1; }));  // 1 is in hand
  worker.submit(job(2));
  worker.submit(job(3));  // 2 never starts
  gate.open();
  ASSERT_TRUE(eventually([&] { return worker.applied_generation() == 3; }));
  std::vector<std::pair<std::uint64_t, std::string>> got;
  ASSERT_TRUE(eventually([&] {
    for (auto& a : answers(outbox)) got.push_back(a);
    return got.size() >= 2;
  }));
  EXPECT_EQ(got, (std::vector<std::pair<std::uint64_t, std::string>>{{1, ""}, {3, ""}}));
  EXPECT_EQ(gate.applied(), 2U);
  worker.stop();
}

TEST(HostFirewallWorker, AJobThatDoesNotConvertIsAnsweredWithWhyAndAppliesNothing) {
  Outbox outbox;
  int calls = 0;
  HostFirewallWorker worker([&](const std::vector<net::NicFirewall>&) -> Status {
    ++calls;
    return {};
  });
  worker.start(&outbox);
  worker.submit(job(5, "10.77.0"));
  std::vector<std::pair<std::uint64_t, std::string>> got;
  ASSERT_TRUE(eventually([&] {
    for (auto& a : answers(outbox)) got.push_back(a);
    return !got.empty();
  }));
  worker.stop();
  EXPECT_EQ(got[0].first, 5U);
  EXPECT_NE(got[0].second.find("agent: VM 4 NIC 0"), std::string::npos) << got[0].second;
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(worker.applied_generation(), 0U);
}

// A phase about to open a tap waits for the job in hand, then applies the newest itself; the
// worker applies nothing older after it, and each job is answered once.
TEST(HostFirewallWorker, ApplyLatestAppliesTheNewestJobBeforeATap) {
  Outbox outbox;
  Gate gate;
  HostFirewallWorker worker([&](const std::vector<net::NicFirewall>& n) { return gate.apply(n); });
  worker.start(&outbox);
  worker.submit(job(1));
  ASSERT_TRUE(eventually([&] { return gate.entered() == 1; }));
  worker.submit(job(2));
  std::future<Status> phase = std::async(std::launch::async, [&] { return worker.apply_latest(); });
  EXPECT_EQ(phase.wait_for(50ms), std::future_status::timeout);  // waits for job 1
  gate.open();
  ASSERT_TRUE(phase.get());
  EXPECT_EQ(worker.applied_generation(), 2U);
  std::vector<std::pair<std::uint64_t, std::string>> got;
  ASSERT_TRUE(eventually([&] {
    for (auto& a : answers(outbox)) got.push_back(a);
    return got.size() >= 2;
  }));
  std::this_thread::sleep_for(20ms);
  for (auto& a : answers(outbox)) got.push_back(a);
  worker.stop();
  EXPECT_GE(gate.applied(), 2U);  // 1 by the worker; 2 by the phase (and maybe the worker)
  EXPECT_EQ(worker.applied_generation(), 2U);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0].first + got[1].first, 3U);  // each answered once (in either order)
}

}  // namespace
}  // namespace corral::agent
