#include "wire/protocol.h"

#include <gtest/gtest.h>

namespace corral::wire {
namespace {

TEST(ProtocolVersion, TheControllerAcceptsItsRangeAndRefusesTheRestSayingWhoToUpgrade) {
  struct Case {
    std::uint32_t agent;
    bool accepted;
    const char* advice;
  };
  const Case cases[] = {
      {kProtocolVersion, true, ""},
      {kMinProtocolVersion, true, ""},
      {0, false, "sent no protocol version"},
      {kProtocolVersion + 1, false, "upgrade the controller"},
      {kProtocolVersion + 100, false, "upgrade the controller"},
  };
  for (const Case& c : cases) {
    std::optional<v1::Refuse> refuse = check_protocol_version(c.agent);
    EXPECT_EQ(!refuse.has_value(), c.accepted) << c.agent;
    if (!refuse) continue;
    EXPECT_EQ(refuse->code(), v1::Refuse::CODE_INCOMPATIBLE_VERSION);
    EXPECT_NE(refuse->message().find(std::to_string(c.agent)), std::string::npos)
        << refuse->message();
    EXPECT_NE(refuse->message().find(c.advice), std::string::npos) << refuse->message();
    EXPECT_EQ(refuse->min_protocol_version(), kMinProtocolVersion);
    EXPECT_EQ(refuse->max_protocol_version(), kProtocolVersion);
  }
}

TEST(CheckHello, TheFirstMessageIsAHelloOfAnAcceptedVersionFromTheHostTheCertificateNames) {
  auto hello = [](std::uint32_t version, const std::string& host) {
    v1::AgentMessage m;
    m.mutable_hello()->set_protocol_version(version);
    m.mutable_hello()->set_host(host);
    return m;
  };
  v1::AgentMessage heartbeat;
  heartbeat.mutable_heartbeat()->set_seq(1);
  struct Case {
    const char* what;
    v1::AgentMessage first;
    std::string peer;
    std::optional<v1::Refuse::Code> refused;
  };
  const Case cases[] = {
      {"accepted", hello(kProtocolVersion, "node-1"), "node-1", std::nullopt},
      {"not a Hello", heartbeat, "node-1", v1::Refuse::CODE_HELLO_EXPECTED},
      {"version first, even without a certificate", hello(99, "node-1"), "",
       v1::Refuse::CODE_INCOMPATIBLE_VERSION},
      {"no certificate", hello(kProtocolVersion, "node-1"), "", v1::Refuse::CODE_IDENTITY_MISMATCH},
      {"another host", hello(kProtocolVersion, "node-2"), "node-1",
       v1::Refuse::CODE_IDENTITY_MISMATCH},
  };
  for (const Case& c : cases) {
    std::optional<v1::Refuse> refuse = check_hello(c.first, c.peer);
    ASSERT_EQ(refuse.has_value(), c.refused.has_value()) << c.what;
    if (!refuse) continue;
    EXPECT_EQ(refuse->code(), *c.refused) << c.what;
    EXPECT_FALSE(refuse->message().empty()) << c.what;
  }
}

}  // namespace
}  // namespace corral::wire
