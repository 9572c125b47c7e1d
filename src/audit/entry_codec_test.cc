// The audit entry's encoding for the store's outbox: every field comes back, whatever the
// text holds; anything else is refused, never thrown.
#include "audit/entry_codec.h"

#include <gtest/gtest.h>

namespace corral::audit {
namespace {

Entry full_entry() {
  Entry e;
  e.at = 1'700'000'000'123;
  e.request_id = "req-\"quoted\"";
  e.user_id = 42;
  e.user = "ann";
  e.project_id = 7;
  e.project = "web\nteam";
  e.source = "::1";
  e.method = "POST";
  e.path = "/v1/vms/3/actions";
  e.route = "/v1/vms/{id}/actions";
  e.vm = 3;
  e.verb = "os-stop";
  e.vocabulary = "nova";
  e.status = 202;
  e.outcome = Outcome::kAccepted;
  e.message = "ünïcode";
  return e;
}

TEST(AuditEntryCodecTest, EveryFieldComesBack) {
  const Entry e = full_entry();
  Result<Entry> back = decode_entry(encode_entry(e));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, e);
}

TEST(AuditEntryCodecTest, TheLogsIdIsNotCarried) {
  Entry e = full_entry();
  e.id = 99;
  Result<Entry> back = decode_entry(encode_entry(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, 0);
}

TEST(AuditEntryCodecTest, OtherTextsAreRefused) {
  const std::string good = encode_entry(full_entry());
  const std::string cases[] = {
      "",
      "not json",
      "[1,2]",
      R"({"v":2})",
      good.substr(0, good.size() / 2),
      R"({"v":1,"at":"soon"})",
  };
  for (const std::string& text : cases) {
    Result<Entry> decoded = decode_entry(text);
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument) << text;
  }
  // Version 2 arrays with a field missing, of the wrong type, one too many, or an unknown
  // outcome (9, and 257, which a byte would wrap to a known one).
  const std::string arrays[] = {
      R"([2,1,"r",0,"u",0,"p","s","GET","/x","/x",0,"get","corral",200,1])",
      R"([2,1,"r",0,"u",0,"p","s","GET","/x","/x","0","get","corral",200,1,""])",
      R"([2,1,"r",0,"u",0,"p","s","GET","/x","/x",0,"get","corral",200,1,"",7])",
      R"([2,1,"r",0,"u",0,"p","s","GET","/x","/x",0,"get","corral",200,9,""])",
      R"([2,1,"r",0,"u",0,"p","s","GET","/x","/x",0,"get","corral",200,257,""])",
  };
  for (const std::string& text : arrays) EXPECT_FALSE(decode_entry(text)) << text;
  EXPECT_TRUE(
      decode_entry(R"([2,1,"r",0,"u",0,"p","s","GET","/x","/x",0,"get","corral",200,1,""])"));
}

// What a build writing version 1 (an object by name) left in an outbox is still read.
TEST(AuditEntryCodecTest, VersionOneObjectsAreRead) {
  const Entry e = full_entry();
  const std::string v1 =
      R"({"v":1,"at":1700000000123,"request_id":"req-\"quoted\"","user_id":42,"user":"ann",)"
      R"("project_id":7,"project":"web\nteam","source":"::1","method":"POST",)"
      R"("path":"/v1/vms/3/actions","route":"/v1/vms/{id}/actions","vm":3,"verb":"os-stop",)"
      R"("vocabulary":"nova","status":202,"outcome":1,"message":"ünïcode"})";
  Result<Entry> back = decode_entry(v1);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, e);
  EXPECT_FALSE(decode_entry(R"({"v":1,"at":1})"));
}

// The positional form is what is stored: it starts with the version.
TEST(AuditEntryCodecTest, EncodesVersionTwoArrays) {
  EXPECT_EQ(encode_entry(full_entry()).rfind("[2,1700000000123,", 0), 0U);
}

}  // namespace
}  // namespace corral::audit
