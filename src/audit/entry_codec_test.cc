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
  std::string bad_outcome = good;
  const std::size_t at = bad_outcome.find("\"outcome\":1");
  ASSERT_NE(at, std::string::npos) << good;
  bad_outcome.replace(at, 11, "\"outcome\":9");
  EXPECT_FALSE(decode_entry(bad_outcome));
}

}  // namespace
}  // namespace corral::audit
