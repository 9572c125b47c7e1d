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

}  // namespace
}  // namespace corral::wire
