// Pulling a VM's files from one agent to another over real gRPC and mutual TLS, both agents in
// this process on 127.0.0.1 with certificates from a temporary cluster CA.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "transfer/files.h"
#include "transfer/test_support.h"

namespace corral::transfer {
namespace {

namespace fs = std::filesystem;
using testing::names_in;
using testing::read_file;
using testing::test_bytes;
using testing::write_file;

constexpr std::size_t kMiB = 1 << 20;

class Transfer : public testing::TransferFixture {
 protected:
  void SetUp() override {
    TransferFixture::SetUp();
    // 5 MiB + a tail with 2 MiB of zeros inside (a hole on the target), and a small state file.
    disk_ = test_bytes(5 * kMiB + 12345, 1, kMiB, 3 * kMiB);
    memory_ = test_bytes(300'000, 2);
    write_file(vm_path("node-a", 12) / "disk.qcow2", disk_);
    write_file(vm_path("node-a", 12) / "memory.state", memory_);
  }
  std::string sha_of(const std::string& bytes) {
    Sha256 hash;
    hash.update(bytes);
    return hash.hex();
  }
  std::string disk_;
  std::string memory_;
};

TEST_F(Transfer, MovesBothFilesVerifiedAndLeavesNoPartFiles) {
  const Ticket ticket = allow_a_to_b(12);
  Result<TransferReport> report = pull(pull_options(ticket, {"disk.qcow2", "memory.state"}));
  ASSERT_TRUE(report) << report.error().message;
  const fs::path dir = vm_path("node-b", 12);
  EXPECT_EQ(read_file(dir / "disk.qcow2"), disk_);
  EXPECT_EQ(read_file(dir / "memory.state"), memory_);
  EXPECT_EQ(names_in(dir), (std::set<std::string>{"disk.qcow2", "memory.state"}));
  ASSERT_EQ(report->files.size(), 2U);
  EXPECT_EQ(report->files[0].sha256, sha_of(disk_));
  EXPECT_EQ(report->files[0].size, disk_.size());
  EXPECT_EQ(report->files[0].received, disk_.size());
  EXPECT_FALSE(report->files[0].already_present);
  EXPECT_EQ(report->files[1].sha256, sha_of(memory_));
  EXPECT_EQ(report->bytes, disk_.size() + memory_.size());
  EXPECT_GT(report->seconds, 0);
  // The 2 MiB of zeros were not written: the target's file has a hole there.
  struct stat st {};
  ASSERT_EQ(::stat((dir / "disk.qcow2").c_str(), &st), 0);
  EXPECT_LE(static_cast<std::uint64_t>(st.st_blocks) * 512, disk_.size() - kMiB);
}

}  // namespace
}  // namespace corral::transfer
