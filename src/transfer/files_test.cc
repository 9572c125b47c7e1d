// The allow-list, the hash and the ticket registry, without a network.
#include "transfer/files.h"

#include <gtest/gtest.h>

#include "transfer/ticket.h"

namespace corral::transfer {
namespace {

TEST(TransferFiles, OnlyTheAllowListPasses) {
  struct Case {
    std::vector<std::string> names;
    bool ok;
  };
  const Case cases[] = {
      {{"disk.qcow2", "memory.state"}, true},
      {{"memory.state"}, true},
      {{}, true},
      {{"../13/disk.qcow2"}, false},
      {{"disk.qcow2", "../../etc/passwd"}, false},
      {{"qemu.pid"}, false},
      {{""}, false},
      {{"/disk.qcow2"}, false},
      {{"disk.qcow2", "disk.qcow2"}, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(check_file_names(c.names).has_value(), c.ok) << ::testing::PrintToString(c.names);
  }
}

TEST(TransferFiles, Sha256IsTheStandardOneAndZerosHashAsBytes) {
  Sha256 abc;
  abc.update(std::string_view("abc"));
  EXPECT_EQ(abc.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string zeros(100'000, '\0');
  Sha256 as_bytes;
  as_bytes.update(zeros);
  Sha256 as_count;
  as_count.update_zeros(zeros.size());
  EXPECT_EQ(as_bytes.hex(), as_count.hex());
}

TEST(TransferTickets, EachCheckRefusesWhatItGuards) {
  FakeClock clock;
  TicketRegistry registry(clock);
  const Ticket ticket{12, 5, "node-a", "node-b", std::string(64, 'a')};
  registry.allow(ticket, clock.now_ms() + 1000);
  struct Case {
    const char* what;
    std::int64_t vm;
    std::int64_t op;
    std::string secret;
    std::string caller;
    std::optional<Refusal> refused;
  };
  const Case cases[] = {
      {"the ticket itself", 12, 5, std::string(64, 'a'), "node-b", std::nullopt},
      {"another VM", 13, 5, std::string(64, 'a'), "node-b", Refusal::kNoTicket},
      {"another operation", 12, 6, std::string(64, 'a'), "node-b", Refusal::kNoTicket},
      {"a wrong secret", 12, 5, std::string(63, 'a') + "b", "node-b", Refusal::kBadSecret},
      {"a short secret", 12, 5, "a", "node-b", Refusal::kBadSecret},
      {"another caller", 12, 5, std::string(64, 'a'), "node-c", Refusal::kWrongCaller},
      {"no verified caller", 12, 5, std::string(64, 'a'), "", Refusal::kWrongCaller},
  };
  for (const Case& c : cases) {
    const auto got = registry.check(c.vm, c.op, c.secret, c.caller);
    if (!c.refused) {
      EXPECT_TRUE(got.has_value()) << c.what << ": " << got.error().message;
      continue;
    }
    ASSERT_FALSE(got.has_value()) << c.what;
    EXPECT_EQ(got.error().why, *c.refused) << c.what << ": " << got.error().message;
    EXPECT_EQ(got.error().message.find(std::string(64, 'a')), std::string::npos) << c.what;
  }
  clock.advance(1000);
  const auto expired = registry.check(12, 5, std::string(64, 'a'), "node-b");
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().why, Refusal::kExpired);
  registry.revoke(12, 5);
  EXPECT_EQ(registry.check(12, 5, std::string(64, 'a'), "node-b").error().why, Refusal::kNoTicket);
}

TEST(TransferTickets, SecretsAreFreshAndLong) {
  const std::string one = *new_secret();
  EXPECT_EQ(one.size(), 64U);
  EXPECT_NE(one, *new_secret());
}

}  // namespace
}  // namespace corral::transfer
