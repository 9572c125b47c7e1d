// Pulling a VM's files from one agent to another over real gRPC and mutual TLS, both agents in
// this process on 127.0.0.1 with certificates from a temporary cluster CA.
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "transfer/files.h"
#include "transfer/test_support.h"
#include "transfer/tls.h"
#include "wire/transfer.grpc.pb.h"

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
  // Larger than what HTTP/2 flow control lets the source send ahead of the target's reads, so
  // the source is still sending when a test breaks the call.
  void use_large_disk() {
    disk_ = test_bytes(32 * kMiB, 3);
    write_file(vm_path("node-a", 12) / "disk.qcow2", disk_);
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

struct stat stat_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

TEST_F(Transfer, ARerunFindsTheFilesInPlaceAndMovesNothing) {
  const Ticket ticket = allow_a_to_b(12);
  ASSERT_TRUE(pull(pull_options(ticket, {"disk.qcow2", "memory.state"})));
  const fs::path disk = vm_path("node-b", 12) / "disk.qcow2";
  const struct stat before = stat_of(disk);
  Result<TransferReport> again = pull(pull_options(ticket, {"disk.qcow2", "memory.state"}));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->bytes, 0U);
  for (const FileReport& file : again->files) EXPECT_TRUE(file.already_present) << file.name;
  EXPECT_EQ(again->files[0].sha256, sha_of(disk_));
  EXPECT_EQ(stat_of(disk).st_ino, before.st_ino) << "the file was written again";
  EXPECT_EQ(read_file(disk), disk_);
}

TEST_F(Transfer, ACancelledPullLeavesOnlyAPartAndTheNextOneResumesIt) {
  const Ticket ticket = allow_a_to_b(12);
  PullOptions options = pull_options(ticket, {"disk.qcow2"});
  options.progress = [](const Progress& p) { return p.done < 2 * kMiB; };
  Result<TransferReport> cancelled = pull(options);
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, ErrorCode::kUnavailable) << cancelled.error().message;
  const fs::path dir = vm_path("node-b", 12);
  EXPECT_EQ(names_in(dir), std::set<std::string>{".disk.qcow2.part"});
  EXPECT_EQ(fs::file_size(dir / ".disk.qcow2.part"), 2 * kMiB);

  Result<TransferReport> resumed = pull(pull_options(ticket, {"disk.qcow2"}));
  ASSERT_TRUE(resumed) << resumed.error().message;
  EXPECT_EQ(resumed->files[0].resumed_from, 2 * kMiB);
  EXPECT_EQ(resumed->files[0].received, disk_.size() - 2 * kMiB);
  EXPECT_EQ(read_file(dir / "disk.qcow2"), disk_);
  EXPECT_EQ(names_in(dir), std::set<std::string>{"disk.qcow2"});
}

// What an earlier attempt or another writer left on the target, and what the pull must make of
// it: the source's file under the final name, every time.
TEST_F(Transfer, WhateverTheTargetHoldsTheResultIsTheSourcesFile) {
  struct Case {
    const char* what;
    const char* file;  // written before the pull, in the target's VM dir
    std::string bytes;
    std::uint64_t resumed_from;
  };
  const Case cases[] = {
      {"a torn part (not a prefix of the source)", ".disk.qcow2.part", test_bytes(kMiB + 1000, 9),
       0},
      {"a part longer than the source", ".disk.qcow2.part", test_bytes(6 * kMiB, 1), 0},
      {"a true prefix", ".disk.qcow2.part", disk_.substr(0, 3 * kMiB + 17), 3 * kMiB + 17},
      {"a complete part not yet renamed", ".disk.qcow2.part", disk_, disk_.size()},
      {"another file under the final name", "disk.qcow2", test_bytes(disk_.size(), 7), 0},
      {"a truncated file under the final name", "disk.qcow2", disk_.substr(0, kMiB), 0},
  };
  std::int64_t op = 100;
  for (const Case& c : cases) {
    fs::remove_all(vm_path("node-b", 12));
    write_file(vm_path("node-b", 12) / c.file, c.bytes);
    const Ticket ticket = allow_a_to_b(12, ++op);
    Result<TransferReport> report = pull(pull_options(ticket, {"disk.qcow2"}));
    ASSERT_TRUE(report) << c.what << ": " << report.error().message;
    EXPECT_EQ(read_file(vm_path("node-b", 12) / "disk.qcow2"), disk_) << c.what;
    EXPECT_FALSE(report->files[0].already_present) << c.what;
    EXPECT_EQ(report->files[0].resumed_from, c.resumed_from) << c.what;
    EXPECT_EQ(names_in(vm_path("node-b", 12)), std::set<std::string>{"disk.qcow2"}) << c.what;
  }
}

TEST_F(Transfer, ASourceThatDiesMidFileLeavesNoFinalFileAndARestartedOneFinishesIt) {
  use_large_disk();
  const Ticket ticket = allow_a_to_b(12);
  PullOptions options = pull_options(ticket, {"disk.qcow2", "memory.state"});
  options.progress = [this](const Progress& p) {
    if (p.done >= kMiB) servers_.at("node-a")->shutdown();  // in-flight calls end at once
    return true;
  };
  Result<TransferReport> broken = pull(options);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ErrorCode::kUnavailable) << broken.error().message;
  EXPECT_NE(broken.error().message.find("kept for a later attempt"), std::string::npos)
      << broken.error().message;
  const fs::path dir = vm_path("node-b", 12);
  EXPECT_FALSE(fs::exists(dir / "disk.qcow2"));
  EXPECT_FALSE(fs::exists(dir / "memory.state"));

  // The source agent comes back (new port, its tickets given again by the controller).
  start_server("node-a");
  ASSERT_TRUE(servers_.at("node-a")->allow(ticket, 60'000));
  Result<TransferReport> finished = pull(pull_options(ticket, {"disk.qcow2", "memory.state"}));
  ASSERT_TRUE(finished) << finished.error().message;
  EXPECT_GE(finished->files[0].resumed_from, kMiB);
  EXPECT_EQ(read_file(dir / "disk.qcow2"), disk_);
  EXPECT_EQ(read_file(dir / "memory.state"), memory_);
}

TEST_F(Transfer, ASecondPullIntoTheSameVmWhileOneRunsIsAConflict) {
  const Ticket ticket = allow_a_to_b(12);
  PullOptions options = pull_options(ticket, {"disk.qcow2"});
  std::optional<Result<TransferReport>> second;
  options.progress = [&](const Progress&) {
    if (!second) second = pull(pull_options(ticket, {"disk.qcow2"}));
    return true;
  };
  Result<TransferReport> first = pull(options);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second.has_value());
  ASSERT_FALSE(*second);
  EXPECT_EQ(second->error().code, ErrorCode::kConflict) << second->error().message;
  EXPECT_EQ(read_file(vm_path("node-b", 12) / "disk.qcow2"), disk_);
  // Once the first is over, the same call goes through (and finds the file in place).
  Result<TransferReport> after = pull(pull_options(ticket, {"disk.qcow2"}));
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_TRUE(after->files[0].already_present);
}

TEST_F(Transfer, RevokingTheTicketEndsAReadInFlightAndRefusesTheNext) {
  use_large_disk();
  const Ticket ticket = allow_a_to_b(12);
  PullOptions options = pull_options(ticket, {"disk.qcow2"});
  options.progress = [this](const Progress& p) {
    if (p.done >= kMiB) servers_.at("node-a")->revoke(12, 5);
    return true;
  };
  Result<TransferReport> cut = pull(options);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, ErrorCode::kUnavailable) << cut.error().message;
  EXPECT_FALSE(fs::exists(vm_path("node-b", 12) / "disk.qcow2"));
  Result<TransferReport> again = pull(pull_options(ticket, {"disk.qcow2"}));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("no transfer ticket"), std::string::npos)
      << again.error().message;
  EXPECT_FALSE(fs::exists(vm_path("node-b", 12) / "disk.qcow2"));
}

// A source that sends the header of a file and then nothing, its connection up (a hung disk):
// not our server, a stand-in for one that hangs, to test the target's stall limit.
class HangingSource final : public v1::TransferService::Service {
  grpc::Status Read(grpc::ServerContext* context, const v1::FileRequest* /*request*/,
                    grpc::ServerWriter<v1::ReadMessage>* writer) override {
    v1::ReadMessage header;
    header.mutable_header()->set_size(kMiB);
    writer->Write(header);
    while (!context->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return grpc::Status::CANCELLED;
  }
};

TEST_F(Transfer, AHungSourceIsCutAfterTheStallLimitAndAStopEndsThePullAtOnce) {
  HangingSource hanging;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", server_credentials(ids_.at("node-a")), &port);
  builder.RegisterService(&hanging);
  const std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_TRUE(server);
  const Ticket ticket = allow_a_to_b(12);
  PullOptions options = pull_options(ticket, {"disk.qcow2"});
  options.source_address = "127.0.0.1:" + std::to_string(port);
  options.stall_timeout = std::chrono::milliseconds(300);
  Result<TransferReport> stalled = pull(options);
  ASSERT_FALSE(stalled);
  EXPECT_EQ(stalled.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(stalled.error().message.find("the source sent nothing for 300 ms"), std::string::npos)
      << stalled.error().message;

  std::stop_source stop;
  options.stall_timeout = std::chrono::minutes(10);
  options.stop = stop.get_token();
  std::jthread stopper([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop.request_stop();
  });
  Result<TransferReport> stopped = pull(options);
  ASSERT_FALSE(stopped);
  EXPECT_NE(stopped.error().message.find("the transfer was stopped"), std::string::npos)
      << stopped.error().message;
  EXPECT_FALSE(fs::exists(vm_path("node-b", 12) / "disk.qcow2"));
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace corral::transfer
