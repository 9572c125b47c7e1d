#include "cluster/join_tokens.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "cluster/files.h"
#include "cluster/test_dir.h"

namespace corral::cluster {
namespace {

using testing::TempDir;

const std::string kCa = "sha256:" + std::string(64, 'a');

struct Fixture {
  TempDir tmp;
  FakeClock clock;
  FileJoinTokenStore store{tmp.path() / "join-tokens.json"};
  JoinTokens tokens{store, clock, kCa};
};

TEST(JoinTokens, ATokenNamesItsHostAndCaAndIsSpentOnce) {
  Fixture f;
  Result<std::string> token = f.tokens.issue("node-1");
  ASSERT_TRUE(token) << token.error().message;
  Result<ParsedJoinToken> parsed = parse_join_token(*token);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->host, "node-1");
  EXPECT_EQ(parsed->ca_fingerprint, kCa);

  EXPECT_EQ(f.tokens.redeem(*token), "node-1");
  Result<std::string> again = f.tokens.redeem(*token);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already used"), std::string::npos);
}

TEST(JoinTokens, OnlyTheSecretsHashIsStoredInAPrivateFile) {
  Fixture f;
  Result<std::string> token = f.tokens.issue("node-1");
  ASSERT_TRUE(token);
  const std::string file = *read_file(f.tmp.path() / "join-tokens.json");
  EXPECT_EQ(file.find(parse_join_token(*token)->secret), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat((f.tmp.path() / "join-tokens.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  ASSERT_EQ(f.store.list()->size(), 1U);
}

TEST(JoinTokens, TokensSurviveARestartOfTheController) {
  Fixture f;
  Result<std::string> token = f.tokens.issue("node-1");
  ASSERT_TRUE(token);
  FileJoinTokenStore reopened(f.tmp.path() / "join-tokens.json");
  JoinTokens after(reopened, f.clock, kCa);
  EXPECT_EQ(after.redeem(*token), "node-1");
}

TEST(JoinTokens, BadTokensAreRefusedWithTheReasonAndAWrongOneSpendsNothing) {
  Fixture f;
  const std::string good = *f.tokens.issue("node-1");
  ParsedJoinToken p = *parse_join_token(good);
  const std::string fp = p.ca_fingerprint.substr(7);
  auto make = [&](const std::string& host, const std::string& secret, const std::string& ca) {
    return "cjt1:" + host + ":" + p.id + ":" + secret + ":" + ca;
  };
  struct Case {
    const char* what;
    std::string token;
    const char* message;
  };
  const Case cases[] = {
      {"empty", "", "malformed"},
      {"cut", good.substr(0, good.size() - 3), "malformed"},
      {"not a token", "hello:world", "malformed"},
      {"other version", "cjt2" + good.substr(4), "malformed"},
      {"wrong secret", make("node-1", std::string(64, '0'), fp), "unknown or already used"},
      {"other cluster", make("node-1", p.secret, std::string(64, 'b')), "another cluster"},
      {"other host", make("node-2", p.secret, fp), "bound to host \"node-1\""},
  };
  for (const Case& c : cases) {
    Result<std::string> host = f.tokens.redeem(c.token);
    ASSERT_FALSE(host) << c.what;
    EXPECT_NE(host.error().message.find(c.message), std::string::npos)
        << c.what << ": " << host.error().message;
    EXPECT_TRUE(host.error().message.starts_with("join token refused: ")) << c.what;
  }
  EXPECT_EQ(f.tokens.redeem(good), "node-1") << "a refused attempt spent the token";
}

TEST(JoinTokens, AnExpiredTokenIsRefusedAndDropped) {
  Fixture f;
  const std::string token = *f.tokens.issue("node-1", 60'000);
  f.clock.advance(60'000);
  Result<std::string> host = f.tokens.redeem(token);
  ASSERT_FALSE(host);
  EXPECT_NE(host.error().message.find("expired at"), std::string::npos) << host.error().message;
  EXPECT_TRUE(f.store.list()->empty());
}

TEST(JoinTokens, IssuingPrunesExpiredTokensAndDefaultsToOneHour) {
  Fixture f;
  ASSERT_TRUE(f.tokens.issue("old", 1000));
  f.clock.advance(1000);
  ASSERT_TRUE(f.tokens.issue("new"));
  std::vector<JoinTokenRecord> records = *f.store.list();
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].host, "new");
  EXPECT_EQ(records[0].expires_at - records[0].created_at, 3600'000);
}

TEST(JoinTokens, TwoTokensAreDifferentAndABadHostGetsNone) {
  Fixture f;
  EXPECT_NE(*f.tokens.issue("node-1"), *f.tokens.issue("node-1"));
  EXPECT_FALSE(f.tokens.issue("a:b"));
  EXPECT_FALSE(f.tokens.issue(""));
  EXPECT_FALSE(f.tokens.issue("n", 0));
}

}  // namespace
}  // namespace corral::cluster
