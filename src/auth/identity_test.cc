// Identity on a real SQLite file and a fake clock: the first admin, logins, the token checks
// in authenticate()'s order (each failure a 401 that says which), revocation on every event
// Keystone revokes on, roles read live, and that nothing secret reaches the file.
#include "auth/identity.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cluster/test_dir.h"

namespace corral::auth {
namespace {

constexpr Millis kHour = 3600 * 1000;

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    identity_.reset();
    Result<std::unique_ptr<IdentityStore>> store = open_identity_store(path());
    ASSERT_TRUE(store) << store.error().message;
    identity_ = std::make_unique<Identity>(std::move(*store), clock_,
                                           IdentityOptions{kCheapForTests, 10 * kHour, 48 * kHour});
    ASSERT_TRUE(identity_->load());
  }
  std::string path() const { return (dir_.path() / "corral.db").string(); }
  Identity& id() { return *identity_; }

  // The admin bootstrapped with `password`, and a user `name` with `role` on a new project.
  void bootstrap() {
    Result<std::optional<std::string>> made = id().bootstrap("admin", "admin-password");
    ASSERT_TRUE(made) << made.error().message;
  }
  User user_on(const std::string& name, const std::string& project, Role role) {
    std::optional<Project> p = id().find_project(project);
    if (!p) p = *id().create_project(project, "");
    Result<User> u = id().create_user(name, name + "-password");
    EXPECT_TRUE(u) << u.error().message;
    EXPECT_TRUE(id().grant(u->id, p->id, role));
    return *u;
  }
  std::string login(const std::string& name, const std::string& project = "") {
    Result<IssuedToken> t = id().login(name, name + "-password", project, 0, "test");
    EXPECT_TRUE(t) << t.error().message;
    return t ? t->token : std::string();
  }
  // The 401's message, or "" if the token authenticates.
  std::string refusal(const std::string& token) {
    Result<Principal> p = id().authenticate(token);
    if (p) return "";
    EXPECT_EQ(p.error().code, ErrorCode::kUnauthenticated) << p.error().message;
    return p.error().message;
  }

  cluster::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Identity> identity_;
};

TEST_F(IdentityTest, TheFirstStartMakesTheAdminProjectAndAnAdminWithAOneTimePassword) {
  Result<std::optional<std::string>> made = id().bootstrap("admin", std::nullopt);
  ASSERT_TRUE(made && made->has_value());
  const std::string password = **made;
  EXPECT_EQ(password.size(), 24U);
  // A second start (or the same one again) makes nothing and shows no password.
  Result<std::optional<std::string>> again = id().bootstrap("admin", std::nullopt);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
  ASSERT_EQ(id().projects().size(), 1U);
  EXPECT_EQ(id().projects()[0].id, kAdminProjectId);
  EXPECT_EQ(id().projects()[0].name, "admin");

  Result<IssuedToken> t = id().login("admin", password, "", 0, "cli");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->principal.cloud_admin());
  EXPECT_EQ(t->principal.project, kAdminProjectId);
  EXPECT_EQ(t->row.expires_at, clock_.now_ms() + 10 * kHour);
}

TEST_F(IdentityTest, AdminOfAnotherProjectIsNotTheCloudsAdmin) {
  bootstrap();
  user_on("alice", "research", Role::kAdmin);
  Result<Principal> alice = id().authenticate(login("alice"));
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->role, Role::kAdmin);
  EXPECT_FALSE(alice->cloud_admin()) << "Keystone bug 968696: admin on any project is not admin";
}

TEST_F(IdentityTest, AWrongPasswordAndAnUnknownUserGetTheSameAnswer) {
  bootstrap();
  user_on("alice", "research", Role::kMember);
  Result<IssuedToken> wrong = id().login("alice", "not-her-password", "", 0, "");
  Result<IssuedToken> nobody = id().login("mallory", "whatever-it-is", "", 0, "");
  ASSERT_FALSE(wrong);
  ASSERT_FALSE(nobody);
  EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(wrong.error().message, nobody.error().message);
  EXPECT_EQ(wrong.error().message, "wrong user name or password");
}

TEST_F(IdentityTest, ATokenIsScopedToOneProjectTheUserHoldsARoleOn) {
  bootstrap();
  const User alice = user_on("alice", "research", Role::kMember);
  ASSERT_TRUE(id().create_project("teaching", ""));
  // Only one project: it is the scope.
  EXPECT_EQ(id().authenticate(login("alice"))->project_name, "research");
  // A project she has no role on, named or not, existing or not: the same refusal.
  Result<IssuedToken> other = id().login("alice", "alice-password", "teaching", 0, "");
  Result<IssuedToken> none = id().login("alice", "alice-password", "no-such", 0, "");
  ASSERT_FALSE(other);
  ASSERT_FALSE(none);
  EXPECT_NE(other.error().message.find("no role on a project \"teaching\""), std::string::npos);
  // Two projects: she must name one.
  ASSERT_TRUE(id().grant(alice.id, id().find_project("teaching")->id, Role::kReader));
  Result<IssuedToken> ambiguous = id().login("alice", "alice-password", "", 0, "");
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().code, ErrorCode::kInvalidArgument);
  Result<Principal> teaching = id().authenticate(login("alice", "teaching"));
  ASSERT_TRUE(teaching);
  EXPECT_EQ(teaching->role, Role::kReader);
}

TEST_F(IdentityTest, TokensExpire) {
  bootstrap();
  user_on("alice", "research", Role::kMember);
  Result<IssuedToken> t = id().login("alice", "alice-password", "", 2 * kHour, "");
  ASSERT_TRUE(t);
  clock_.advance(2 * kHour - 1);
  EXPECT_EQ(refusal(t->token), "");
  clock_.advance(1);
  EXPECT_EQ(refusal(t->token), "the token expired; log in again");
  // Longer than the maximum: refused, not shortened.
  Result<IssuedToken> too_long = id().login("alice", "alice-password", "", 49 * kHour, "");
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(IdentityTest, EveryRevocationSaysWhy) {
  bootstrap();
  struct Case {
    std::string name;
    std::function<void(Identity&, const User&, const std::string& token)> event;
    std::string refusal;
  };
  const std::vector<Case> cases = {
      {"revoked",
       [](Identity& i, const User&, const std::string& token) {
         ASSERT_TRUE(i.revoke_token(i.authenticate(token)->token, "logged out"));
       },
       "the token was revoked: logged out"},
      {"password",
       [](Identity& i, const User& u, const std::string&) {
         ASSERT_TRUE(i.update_user(u.id, "a-new-password", std::nullopt));
       },
       "the token was revoked: the user's password changed"},
      {"disabled",
       [](Identity& i, const User& u, const std::string&) {
         ASSERT_TRUE(i.update_user(u.id, std::nullopt, false));
       },
       "the token was revoked: the user was disabled"},
      {"deleted",
       [](Identity& i, const User& u, const std::string&) { ASSERT_TRUE(i.delete_user(u.id)); },
       "the token was revoked: the user was deleted"},
      {"role",
       [](Identity& i, const User& u, const std::string& token) {
         ASSERT_TRUE(i.revoke_role(u.id, i.authenticate(token)->project));
       },
       "user role-user no longer has a role on project role-project"},
      {"project",
       [](Identity& i, const User&, const std::string& token) {
         ASSERT_TRUE(i.delete_project(i.authenticate(token)->project));
       },
       "the token was revoked: its project was deleted"},
      {"forged", [](Identity&, const User&, const std::string&) {}, "unknown token"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const User u = user_on(c.name + "-user", c.name + "-project", Role::kMember);
    std::string token = login(u.name);
    if (c.name == "forged") token = new_token();
    ASSERT_EQ(refusal(token), c.name == "forged" ? "unknown token" : "");
    c.event(id(), u, token);
    EXPECT_EQ(refusal(token), c.refusal);
    // The same after a restart: revocations are durable.
    reopen();
    EXPECT_EQ(refusal(token), c.refusal);
  }
  EXPECT_EQ(refusal("Bearer xyz"), "not a Corral token");
  EXPECT_EQ(refusal(""), "no token: log in (corral login) first");
}

TEST_F(IdentityTest, APasswordChangeKeepsTheTokenThatChangedIt) {
  bootstrap();
  const User u = user_on("alice", "research", Role::kMember);
  const std::string mine = login("alice");
  const std::string other = login("alice");
  ASSERT_TRUE(
      id().update_user(u.id, "alice-new-password", std::nullopt, id().authenticate(mine)->token));
  EXPECT_EQ(refusal(mine), "");
  EXPECT_NE(refusal(other), "");
  EXPECT_FALSE(id().login("alice", "alice-password", "", 0, ""));
  EXPECT_TRUE(id().login("alice", "alice-new-password", "", 0, ""));
}

TEST_F(IdentityTest, ADisabledUserOrProjectCannotLogInOrUseATokenUntilEnabled) {
  bootstrap();
  const User u = user_on("alice", "research", Role::kMember);
  const ProjectId research = id().find_project("research")->id;
  std::string token = login("alice");
  ASSERT_TRUE(id().update_project(research, false, std::nullopt));
  EXPECT_EQ(refusal(token), "project research is disabled");
  ASSERT_TRUE(id().update_project(research, true, std::nullopt));
  EXPECT_EQ(refusal(token), "");
  ASSERT_TRUE(id().update_user(u.id, std::nullopt, false));
  Result<IssuedToken> disabled = id().login("alice", "alice-password", "", 0, "");
  ASSERT_FALSE(disabled);
  EXPECT_EQ(disabled.error().message, "user alice is disabled");
  ASSERT_TRUE(id().update_user(u.id, std::nullopt, true));
  EXPECT_NE(refusal(token), "") << "enabling again does not bring back revoked tokens";
  EXPECT_EQ(refusal(login("alice")), "");
  EXPECT_FALSE(id().update_project(kAdminProjectId, false, std::nullopt));
  EXPECT_FALSE(id().delete_project(kAdminProjectId));
}

TEST_F(IdentityTest, NeitherPasswordsNorTokensReachTheFile) {
  bootstrap();
  user_on("alice", "research", Role::kMember);
  const std::string token = login("alice");
  reopen();
  EXPECT_EQ(refusal(token), "") << "tokens survive a restart";
  identity_.reset();
  std::string bytes;
  for (const char* suffix : {"", "-wal"}) {
    std::ifstream in(path() + suffix, std::ios::binary);
    std::ostringstream all;
    all << in.rdbuf();
    bytes += all.str();
  }
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find("alice-password"), std::string::npos);
  EXPECT_EQ(bytes.find("admin-password"), std::string::npos);
  EXPECT_EQ(bytes.find(token), std::string::npos);
  EXPECT_EQ(bytes.find(token.substr(4, 20)), std::string::npos);
  EXPECT_NE(bytes.find(token_digest(token)), std::string::npos);
}

TEST_F(IdentityTest, NamesAreCheckedAndUnique) {
  bootstrap();
  for (const std::string& bad :
       std::vector<std::string>{"", "-x", "a b", "a/b", "12", std::string(65, 'a'), "é"}) {
    Result<Project> p = id().create_project(bad, "");
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_FALSE(id().create_user(bad, "long-enough"));
  }
  ASSERT_TRUE(id().create_project("research", ""));
  Result<Project> again = id().create_project("research", "");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  Result<User> admin_again = id().create_user("admin", "long-enough");
  ASSERT_FALSE(admin_again);
  EXPECT_EQ(admin_again.error().code, ErrorCode::kConflict);
}

TEST_F(IdentityTest, QuotasAreKeptPerProject) {
  bootstrap();
  const ProjectId research = id().create_project("research", "")->id;
  ASSERT_TRUE(id().set_quota(research, 1, 10));
  ASSERT_TRUE(id().set_quota(research, 2, 20));
  ASSERT_TRUE(id().clear_quota(research, 2));
  reopen();
  EXPECT_EQ(id().quotas(research), (std::map<std::uint8_t, std::int64_t>{{1, 10}}));
  EXPECT_TRUE(id().quotas(kAdminProjectId).empty());
  EXPECT_FALSE(id().set_quota(999, 1, 1));
}

}  // namespace
}  // namespace corral::auth
