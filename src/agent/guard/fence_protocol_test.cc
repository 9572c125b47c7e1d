#include "agent/guard/fence_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace corral::agent::guard {
namespace {

TEST(FenceProtocol, RequestsRoundTrip) {
  const Request requests[] = {
      RenewRequest{6000, {{"web-1", 4242, 81234}, {"db", 1, 0}}},
      RenewRequest{0, {}},
      ClearRequest{},
      StatusRequest{},
      ShutdownRequest{},
  };
  for (const auto& r : requests) {
    const auto line = encode_request(r);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto back = parse_request(line);
    ASSERT_TRUE(back) << line << ": " << back.error().message;
    EXPECT_EQ(*back, r) << line;
  }
}

TEST(FenceProtocol, RenewWireFormat) {
  auto r = parse_request(
      R"({"v":1,"op":"renew","lease_ms":6000,"vms":[{"vm":"web-1","pid":4242,"start_time":81234}],"extra":true})");
  ASSERT_TRUE(r) << r.error().message;
  const auto& renew = std::get<RenewRequest>(*r);
  EXPECT_EQ(renew.lease_ms, 6000);
  ASSERT_EQ(renew.vms.size(), 1U);
  EXPECT_EQ(renew.vms[0], (FencedVm{"web-1", 4242, 81234}));
}

TEST(FenceProtocol, RepliesRoundTrip) {
  GuardStatus st{77, true, 6000, 1234, {{"a", 5, 6}}, 3};
  GuardStatus idle{77, false, 0, std::nullopt, {}, 0};
  const Reply replies[] = {
      Reply{true, {}, std::nullopt},
      Reply{false, "bad things", std::nullopt},
      Reply{true, {}, st},
      Reply{true, {}, idle},
  };
  for (const auto& r : replies) {
    const auto line = encode_reply(r);
    auto back = parse_reply(line);
    ASSERT_TRUE(back) << line << ": " << back.error().message;
    EXPECT_EQ(*back, r) << line;
  }
}

TEST(FenceProtocol, ReplyWithInvalidUtf8DoesNotThrow) {
  const auto line = encode_reply(Reply{false, std::string("bad \xff\xfe byte"), std::nullopt});
  EXPECT_TRUE(parse_reply(line));
}

struct Hostile {
  const char* name;
  std::string line;
};

TEST(FenceProtocol, RejectsHostileRequests) {
  const Hostile cases[] = {
      {"empty", ""},
      {"not json", "renew please"},
      {"truncated", R"({"v":1,"op":"renew")"},
      {"array", "[1,2,3]"},
      {"string", R"("renew")"},
      {"null", "null"},
      {"no version", R"({"op":"status"})"},
      {"version 2", R"({"v":2,"op":"status"})"},
      {"version as string", R"({"v":"1","op":"status"})"},
      {"version float", R"({"v":1.0,"op":"status"})"},
      {"no op", R"({"v":1})"},
      {"op number", R"({"v":1,"op":3})"},
      {"unknown op", R"({"v":1,"op":"kill_everything"})"},
      {"renew no lease", R"({"v":1,"op":"renew","vms":[]})"},
      {"renew negative lease", R"({"v":1,"op":"renew","lease_ms":-1,"vms":[]})"},
      {"renew huge lease", R"({"v":1,"op":"renew","lease_ms":99999999999999,"vms":[]})"},
      {"renew lease > int64", R"({"v":1,"op":"renew","lease_ms":18446744073709551615,"vms":[]})"},
      {"renew lease float", R"({"v":1,"op":"renew","lease_ms":6000.5,"vms":[]})"},
      {"renew lease string", R"({"v":1,"op":"renew","lease_ms":"6000","vms":[]})"},
      {"renew no vms", R"({"v":1,"op":"renew","lease_ms":6000})"},
      {"renew vms object", R"({"v":1,"op":"renew","lease_ms":6000,"vms":{}})"},
      {"vm not object", R"({"v":1,"op":"renew","lease_ms":1,"vms":[5]})"},
      {"vm no id", R"({"v":1,"op":"renew","lease_ms":1,"vms":[{"pid":5,"start_time":1}]})"},
      {"vm empty id",
       R"({"v":1,"op":"renew","lease_ms":1,"vms":[{"vm":"","pid":5,"start_time":1}]})"},
      {"pid 0", R"({"v":1,"op":"renew","lease_ms":1,"vms":[{"vm":"a","pid":0,"start_time":1}]})"},
      {"pid -1 (kill(-1) = everything)",
       R"({"v":1,"op":"renew","lease_ms":1,"vms":[{"vm":"a","pid":-1,"start_time":1}]})"},
      {"pid too big",
       R"({"v":1,"op":"renew","lease_ms":1,"vms":[{"vm":"a","pid":4194305,"start_time":1}]})"},
      {"pid string",
       R"({"v":1,"op":"renew","lease_ms":1,"vms":[{"vm":"a","pid":"5","start_time":1}]})"},
      {"no start_time", R"({"v":1,"op":"renew","lease_ms":1,"vms":[{"vm":"a","pid":5}]})"},
      {"negative start_time",
       R"({"v":1,"op":"renew","lease_ms":1,"vms":[{"vm":"a","pid":5,"start_time":-3}]})"},
      {"nested deep", std::string(100000, '[') + std::string(100000, ']')},
      {"too long", std::string(kMaxLineBytes + 1, ' ')},
  };
  for (const auto& c : cases) {
    auto r = parse_request(c.line);
    EXPECT_FALSE(r) << c.name;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.name;
      EXPECT_FALSE(r.error().message.empty()) << c.name;
    }
  }
}

TEST(FenceProtocol, RejectsTooManyVmsAndLongIds) {
  std::string many = R"({"v":1,"op":"renew","lease_ms":1,"vms":[)";
  for (std::size_t i = 0; i <= kMaxVms; ++i) {
    many += std::string(i == 0 ? "" : ",") + R"({"vm":"a","pid":5,"start_time":1})";
  }
  many += "]}";
  EXPECT_FALSE(parse_request(many));
  const std::string long_id = std::string(R"({"v":1,"op":"renew","lease_ms":1,"vms":[{"vm":")") +
                              std::string(kMaxVmIdBytes + 1, 'x') +
                              R"(","pid":5,"start_time":1}]})";
  EXPECT_FALSE(parse_request(long_id));
}

TEST(FenceProtocol, RejectsMalformedReplies) {
  const Hostile cases[] = {
      {"no ok", R"({"v":1})"},
      {"ok string", R"({"v":1,"ok":"yes"})"},
      {"error without message", R"({"v":1,"ok":false})"},
      {"status not object", R"({"v":1,"ok":true,"status":[]})"},
      {"status missing fields", R"({"v":1,"ok":true,"status":{"pid":3}})"},
  };
  for (const auto& c : cases) EXPECT_FALSE(parse_reply(c.line)) << c.name;
}

}  // namespace
}  // namespace corral::agent::guard
