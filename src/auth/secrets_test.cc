// Passwords verify only against their own hash, salted (two hashes of one password differ);
// tokens are long, random, shaped, and their digest is SHA-256.
#include "auth/secrets.h"

#include <gtest/gtest.h>

#include <set>

namespace corral::auth {
namespace {

TEST(SecretsTest, APasswordVerifiesOnlyAgainstItsOwnSaltedArgon2idHash) {
  Result<std::string> a = hash_password("correct horse", kCheapForTests);
  Result<std::string> b = hash_password("correct horse", kCheapForTests);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->starts_with("$argon2id$")) << *a;
  EXPECT_NE(*a, *b) << "each hash has its own salt";
  EXPECT_TRUE(verify_password(*a, "correct horse"));
  EXPECT_TRUE(verify_password(*b, "correct horse"));
  EXPECT_FALSE(verify_password(*a, "correct horsE"));
  EXPECT_FALSE(verify_password(*a, ""));
  EXPECT_FALSE(verify_password("", "correct horse"));
  EXPECT_FALSE(verify_password("$argon2id$garbage", "correct horse"));
}

TEST(SecretsTest, PasswordsOutsideTheRulesAreRefusedWithTheRule) {
  struct Case {
    std::string password;
    std::string says;
  };
  const Case cases[] = {
      {"short", "at least 8"},
      {std::string(kMaxPasswordLength + 1, 'x'), "at most"},
      {std::string("with\0nul", 8), "NUL"},
  };
  for (const Case& c : cases) {
    Result<std::string> h = hash_password(c.password, kCheapForTests);
    ASSERT_FALSE(h) << c.says;
    EXPECT_EQ(h.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(h.error().message.find(c.says), std::string::npos) << h.error().message;
  }
  EXPECT_TRUE(hash_password(std::string(kMinPasswordLength, 'x'), kCheapForTests));
}

TEST(SecretsTest, TokensAreRandomShapedAndStoredAsTheirSha256) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string t = new_token();
    EXPECT_TRUE(token_shaped(t)) << t;
    EXPECT_EQ(t.size(), kTokenLength);
    EXPECT_TRUE(seen.insert(t).second) << "a token repeated";
  }
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string t = new_token();
  EXPECT_EQ(token_digest(t).size(), 64U);
  EXPECT_EQ(token_digest(t).find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(SecretsTest, AnythingButATokensShapeIsNotAToken) {
  const std::string good = new_token();
  for (const std::string& bad :
       {std::string(), std::string("crl_"), good.substr(1), good + "A", "xyz_" + good.substr(4),
        good.substr(0, 10) + "+" + good.substr(11), good.substr(0, 10) + "=" + good.substr(11)}) {
    EXPECT_FALSE(token_shaped(bad)) << bad;
  }
}

TEST(SecretsTest, GeneratedPasswordsAreLongAndDiffer) {
  const std::string a = new_password();
  EXPECT_EQ(a.size(), 24U);
  EXPECT_NE(a, new_password());
  EXPECT_TRUE(hash_password(a, kCheapForTests));
}

}  // namespace
}  // namespace corral::auth
