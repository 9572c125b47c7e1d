// AgentTransfer (transfer_files.h): two agents' transfer pieces on the loopback, each with its
// own data dir and a certificate of one test CA. What the agent adds over src/transfer: the
// grant that may arrive after the pull started, a source that goes away and comes back (on a
// new port, granted again), the bandwidth, and a phase that is no longer wanted.
#include "agent/transfer_files.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "cluster/pki.h"
#include "cluster/test_dir.h"
#include "transfer/test_support.h"
#include "transfer/ticket.h"

namespace corral::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using transfer::testing::identity_of;
using transfer::testing::read_file;
using transfer::testing::test_bytes;
using transfer::testing::write_file;

constexpr std::int64_t kVm = 7;
constexpr std::int64_t kOp = 3;

class AgentTransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<cluster::CertificateAuthority> ca =
        cluster::CertificateAuthority::load_or_create(tmp_.path() / "ca", clock_);
    ASSERT_TRUE(ca) << ca.error().message;
    ca_.emplace(std::move(*ca));
    source_ = start("node-a");
    target_ = start("node-b");
    disk_ = test_bytes(3 << 20, 11);
    write_file(tmp_.path() / "node-a" / "vms" / std::to_string(kVm) / "disk.qcow2", disk_);
  }

  std::unique_ptr<AgentTransfer> start(const std::string& host, double bandwidth = 0) {
    TransferSettings settings;
    settings.data_dir = tmp_.path() / host;
    settings.retry_window = 20s;
    settings.bandwidth_mib_s = bandwidth;
    auto out = std::make_unique<AgentTransfer>(settings, clock_);
    EXPECT_TRUE(out->start(identity_of(*ca_, host)));
    return out;
  }

  transfer::Ticket ticket(const std::string& secret) const {
    return {kVm, kOp, "node-a", "node-b", secret};
  }

  driver::FetchRequest request(const std::string& secret) const {
    driver::FetchRequest r;
    r.vm = kVm;
    r.op = kOp;
    r.source_host = "node-a";
    r.source = {source_->address(), secret};
    r.files = {"disk.qcow2"};
    return r;
  }

  fs::path received() const {
    return tmp_.path() / "node-b" / "vms" / std::to_string(kVm) / "disk.qcow2";
  }

  cluster::testing::TempDir tmp_;
  FakeClock clock_{SystemClock().now_ms()};  // TLS checks certificates against real time
  std::optional<cluster::CertificateAuthority> ca_;
  std::unique_ptr<AgentTransfer> source_;
  std::unique_ptr<AgentTransfer> target_;
  std::string disk_;
};

TEST_F(AgentTransferTest, AddressIsTheListenHostAndTheBoundPort) {
  EXPECT_TRUE(source_->address().starts_with("127.0.0.1:")) << source_->address();
  EXPECT_NE(source_->address(), "127.0.0.1:0");
  AgentTransfer idle(TransferSettings{}, clock_);
  EXPECT_EQ(idle.address(), "");
  EXPECT_FALSE(idle.grant(ticket("x"), 1000));
}

TEST_F(AgentTransferTest, AGrantThatArrivesAfterThePullStartedIsWaitedFor) {
  const std::string secret = *transfer::new_secret();
  auto fetched =
      std::async(std::launch::async, [&] { return target_->fetcher()(request(secret)); });
  std::this_thread::sleep_for(700ms);
  ASSERT_TRUE(source_->grant(ticket(secret), 60'000));
  Result<std::vector<driver::FetchedFile>> files = fetched.get();
  ASSERT_TRUE(files) << files.error().message;
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].size, disk_.size());
  EXPECT_EQ(read_file(received()), disk_);
}

TEST_F(AgentTransferTest, ASourceRestartedOnANewPortIsFollowedWhenGrantedAgain) {
  // A slow pull (1 MiB/s), its source stopped mid-way: the fetch waits; a newer request (what
  // the controller's re-dispatch sends, with the new address and secret) resumes the file.
  target_ = start("node-b", 1.0);
  const std::string first = *transfer::new_secret();
  ASSERT_TRUE(source_->grant(ticket(first), 60'000));
  std::atomic<bool> newer{false};
  driver::FetchRequest slow = request(first);
  slow.progress = [&](std::uint64_t, std::uint64_t) { return !newer.load(); };
  auto fetched = std::async(std::launch::async, [&] { return target_->fetcher()(slow); });
  std::this_thread::sleep_for(1200ms);
  source_->stop();
  source_ = start("node-a");
  newer = true;
  Result<std::vector<driver::FetchedFile>> old = fetched.get();
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message.find("cancelled"), std::string::npos) << old.error().message;

  const std::string second = *transfer::new_secret();
  ASSERT_TRUE(source_->grant(ticket(second), 60'000));
  Result<std::vector<driver::FetchedFile>> files = target_->fetcher()(request(second));
  ASSERT_TRUE(files) << files.error().message;
  EXPECT_LT((*files)[0].received, disk_.size()) << "the part kept was not resumed";
  EXPECT_EQ(read_file(received()), disk_);
}

TEST_F(AgentTransferTest, TheBandwidthHoldsThePull) {
  target_ = start("node-b", 2.0);
  const std::string secret = *transfer::new_secret();
  ASSERT_TRUE(source_->grant(ticket(secret), 60'000));
  const auto began = std::chrono::steady_clock::now();
  Result<std::vector<driver::FetchedFile>> files = target_->fetcher()(request(secret));
  ASSERT_TRUE(files) << files.error().message;
  // 3 MiB at 2 MiB/s: the first chunk is free, the other two take a second.
  EXPECT_GE(std::chrono::steady_clock::now() - began, 900ms);
  EXPECT_EQ(read_file(received()), disk_);
}

TEST_F(AgentTransferTest, AGrantForAnotherSourceOrAWrongSecretIsRefused) {
  EXPECT_FALSE(source_->grant({kVm, kOp, "node-c", "node-b", *transfer::new_secret()}, 1000));
  ASSERT_TRUE(source_->grant(ticket(*transfer::new_secret()), 60'000));
  Result<std::vector<driver::FetchedFile>> files =
      target_->fetcher()(request(*transfer::new_secret()));
  ASSERT_FALSE(files);
  EXPECT_EQ(files.error().code, ErrorCode::kInvalidArgument) << files.error().message;
  EXPECT_FALSE(fs::exists(received()));
}

}  // namespace
}  // namespace corral::agent
