// TransferHostile callers and hostile sources: every refusal is a clear error and changes nothing —
// no byte served, no file created or changed on either agent.
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

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

struct Served {
  grpc::Status status;
  int messages = 0;  // ReadMessages the caller got (0: not even a header)
};

class TransferHostile : public testing::TransferFixture {
 protected:
  void SetUp() override {
    TransferFixture::SetUp();
    for (std::int64_t vm : {12, 13}) {
      write_file(vm_path("node-a", vm) / "disk.qcow2", test_bytes(100'000, 1));
      write_file(vm_path("node-a", vm) / "memory.state", test_bytes(1000, 2));
    }
    write_file(vm_path("node-a", 12) / "qemu.pid", "4242\n");
    ticket_ = allow_a_to_b(12);
  }

  // A caller that speaks the protocol directly (not through pull()), as `caller`.
  Served read_as(const wire::AgentIdentity& caller, const v1::FileRequest& request) {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("node-a");
    auto channel =
        grpc::CreateCustomChannel(address("node-a"), channel_credentials(caller, "node-a"), args);
    auto stub = v1::TransferService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    auto reader = stub->Read(&context, request);
    Served served;
    for (v1::ReadMessage message; reader->Read(&message);) ++served.messages;
    served.status = reader->Finish();
    return served;
  }

  v1::FileRequest request(std::int64_t vm, std::int64_t op, std::string secret, std::string name) {
    v1::FileRequest r;
    r.mutable_ticket()->set_vm(vm);
    r.mutable_ticket()->set_op(op);
    r.mutable_ticket()->set_secret(std::move(secret));
    r.set_name(std::move(name));
    return r;
  }

  // Everything on both agents, to compare before and after.
  std::map<std::string, std::string> snapshot() {
    std::map<std::string, std::string> files;
    for (const char* host : {"node-a", "node-b"}) {
      if (!fs::exists(data_dir(host))) continue;
      for (const auto& entry : fs::recursive_directory_iterator(data_dir(host))) {
        files[entry.path().string()] = entry.is_regular_file() ? read_file(entry.path()) : "";
      }
    }
    return files;
  }

  Ticket ticket_;
};

TEST_F(TransferHostile, CallersWithoutTheRightTicketNameOrCertificateGetNothing) {
  const std::string secret = ticket_.secret;
  std::string wrong = secret;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  struct Case {
    const char* what;
    std::string caller;
    v1::FileRequest request;
    grpc::StatusCode code;
    const char* message;
  };
  const Case cases[] = {
      {"the ticket's own call (control)", "node-b", request(12, 5, secret, "disk.qcow2"),
       grpc::StatusCode::OK, ""},
      {"another VM with a valid ticket's secret", "node-b", request(13, 5, secret, "disk.qcow2"),
       grpc::StatusCode::PERMISSION_DENIED, "no transfer ticket for VM 13 operation 5"},
      {"another operation", "node-b", request(12, 6, secret, "disk.qcow2"),
       grpc::StatusCode::PERMISSION_DENIED, "no transfer ticket for VM 12 operation 6"},
      {"a wrong secret", "node-b", request(12, 5, wrong, "disk.qcow2"),
       grpc::StatusCode::PERMISSION_DENIED, "wrong transfer ticket secret"},
      {"no secret", "node-b", request(12, 5, "", "disk.qcow2"), grpc::StatusCode::PERMISSION_DENIED,
       "wrong transfer ticket secret"},
      {"another agent of the cluster with the real ticket", "node-c",
       request(12, 5, secret, "disk.qcow2"), grpc::StatusCode::PERMISSION_DENIED,
       "is for host \"node-b\", not \"node-c\""},
      {"a parent-directory name", "node-b", request(12, 5, secret, "../13/disk.qcow2"),
       grpc::StatusCode::INVALID_ARGUMENT, "is not a file a migration moves"},
      {"an absolute name", "node-b", request(12, 5, secret, "/etc/passwd"),
       grpc::StatusCode::INVALID_ARGUMENT, "is not a file a migration moves"},
      {"a file of the VM not on the list", "node-b", request(12, 5, secret, "qemu.pid"),
       grpc::StatusCode::INVALID_ARGUMENT, "is not a file a migration moves"},
      {"no name", "node-b", request(12, 5, secret, ""), grpc::StatusCode::INVALID_ARGUMENT,
       "is not a file a migration moves"},
  };
  const auto before = snapshot();
  for (const Case& c : cases) {
    const Served served = read_as(ids_.at(c.caller), c.request);
    EXPECT_EQ(served.status.error_code(), c.code)
        << c.what << ": " << served.status.error_message();
    EXPECT_NE(served.status.error_message().find(c.message), std::string::npos)
        << c.what << ": " << served.status.error_message();
    if (c.code != grpc::StatusCode::OK) {
      EXPECT_EQ(served.messages, 0) << c.what;
      EXPECT_EQ(served.status.error_message().find(secret), std::string::npos) << c.what;
    }
  }
  EXPECT_EQ(snapshot(), before);
}

TEST_F(TransferHostile, ExpiredRevokedAndRefusedTicketsCreateNothingOnTheTarget) {
  const Ticket short_lived = allow_a_to_b(12, 7, 1000);
  const Ticket revoked = allow_a_to_b(12, 8);
  servers_.at("node-a")->revoke(12, 8);
  clock_.advance(1001);
  Ticket wrong_secret = ticket_;
  wrong_secret.secret = std::string(64, 'f');
  Ticket other_vm = ticket_;
  other_vm.vm = 13;
  struct Case {
    const char* what;
    Ticket ticket;
    ErrorCode code;
    const char* message;
  };
  const Case cases[] = {
      {"expired", short_lived, ErrorCode::kInvalidArgument, "has expired"},
      {"revoked", revoked, ErrorCode::kInvalidArgument, "no transfer ticket for VM 12"},
      {"wrong secret", wrong_secret, ErrorCode::kInvalidArgument, "wrong transfer ticket secret"},
      {"another VM", other_vm, ErrorCode::kInvalidArgument, "no transfer ticket for VM 13"},
  };
  const auto before = snapshot();
  for (const Case& c : cases) {
    Result<TransferReport> got = pull(pull_options(c.ticket, {"disk.qcow2", "memory.state"}));
    ASSERT_FALSE(got) << c.what;
    EXPECT_EQ(got.error().code, c.code) << c.what << ": " << got.error().message;
    EXPECT_NE(got.error().message.find(c.message), std::string::npos)
        << c.what << ": " << got.error().message;
  }
  EXPECT_EQ(snapshot(), before);
  EXPECT_FALSE(fs::exists(vm_path("node-b", 12)));
  EXPECT_FALSE(fs::exists(vm_path("node-b", 13)));
}

TEST_F(TransferHostile, ARequestThatCannotBeRightFailsBeforeAnyConnection) {
  struct Case {
    const char* what;
    std::vector<std::string> files;
    std::string target_host;
    const char* message;
  };
  const Case cases[] = {
      {"a parent-directory name",
       {"disk.qcow2", "../13/disk.qcow2"},
       "node-b",
       "not a file a migration moves"},
      {"a file not on the list", {"qemu.pid"}, "node-b", "not a file a migration moves"},
      {"a ticket for another target", {"disk.qcow2"}, "node-c", "is for host \"node-c\""},
  };
  for (const Case& c : cases) {
    Ticket ticket = ticket_;
    ticket.target_host = c.target_host;
    PullOptions options = pull_options(ticket_, c.files);
    options.ticket = ticket;
    options.source_address = "127.0.0.1:1";  // nothing listens: reaching it would fail otherwise
    Result<TransferReport> got = pull(options);
    ASSERT_FALSE(got) << c.what;
    EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument) << c.what;
    EXPECT_NE(got.error().message.find(c.message), std::string::npos)
        << c.what << ": " << got.error().message;
  }
  EXPECT_FALSE(fs::exists(vm_path("node-b", 12)));
}

TEST_F(TransferHostile, CertificatesOfAnotherClusterOrAnotherHostFailTheHandshake) {
  Result<cluster::CertificateAuthority> other =
      cluster::CertificateAuthority::load_or_create(tmp_.path() / "other-ca", clock_);
  ASSERT_TRUE(other);
  wire::AgentIdentity forged = testing::identity_of(*other, "node-b");
  forged.ca_pem = ids_.at("node-b").ca_pem;  // it trusts the real cluster

  // A caller of another cluster: refused in the handshake, before any handler.
  const Served served = read_as(forged, request(12, 5, ticket_.secret, "disk.qcow2"));
  EXPECT_EQ(served.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << served.status.error_message();
  EXPECT_EQ(served.messages, 0);

  // Sources the target must not trust: one of another cluster claiming to be node-a, and a
  // real agent of the cluster that is not the ticket's source.
  ids_["node-a"] = testing::identity_of(*other, "node-a");
  ids_.at("node-a").ca_pem = ca_->cert_pem();
  start_server("node-a");
  start_server("node-c");
  struct Case {
    const char* what;
    std::string address;
    const char* message;
  };
  const Case cases[] = {
      {"another cluster's node-a", address("node-a"), "this cluster did not issue"},
      {"node-c answering for node-a", address("node-c"), "is \"node-c\", not \"node-a\""},
  };
  for (const Case& c : cases) {
    PullOptions options = pull_options(ticket_, {"disk.qcow2"});
    options.source_address = c.address;
    Result<TransferReport> got = pull(options);
    ASSERT_FALSE(got) << c.what;
    EXPECT_EQ(got.error().code, ErrorCode::kUnavailable) << c.what << ": " << got.error().message;
    EXPECT_NE(got.error().message.find(c.message), std::string::npos)
        << c.what << ": " << got.error().message;
  }
  EXPECT_FALSE(fs::exists(vm_path("node-b", 12)));
}

TEST_F(TransferHostile, TheSourceServesNoSymlinkAndRegistersOnlyItsOwnTickets) {
  fs::remove(vm_path("node-a", 12) / "memory.state");
  fs::create_symlink(vm_path("node-a", 13) / "memory.state",
                     vm_path("node-a", 12) / "memory.state");
  const Served served = read_as(ids_.at("node-b"), request(12, 5, ticket_.secret, "memory.state"));
  EXPECT_NE(served.status.error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(served.messages, 0);

  Ticket for_b{12, 9, "node-b", "node-c", ticket_.secret};
  Status refused = servers_.at("node-a")->allow(for_b, 60'000);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("this agent is \"node-a\""), std::string::npos)
      << refused.error().message;
}

}  // namespace
}  // namespace corral::transfer
