#include "api/router.h"

#include <gtest/gtest.h>

namespace corral::api {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    list_ = router_.add("GET", "/v1/vms");
    create_ = router_.add("POST", "/v1/vms");
    get_ = router_.add("GET", "/v1/vms/{id}");
    delete_ = router_.add("DELETE", "/v1/vms/{id}");
    act_ = router_.add("POST", "/v1/vms/{id}/actions");
  }
  Router router_;
  std::size_t list_ = 0, create_ = 0, get_ = 0, delete_ = 0, act_ = 0;
};

TEST_F(RouterTest, MatchesMethodAndPath) {
  auto m = std::get<Router::Match>(router_.match("GET", "/v1/vms"));
  EXPECT_EQ(m.route, list_);
  EXPECT_TRUE(m.args.empty());
  m = std::get<Router::Match>(router_.match("POST", "/v1/vms"));
  EXPECT_EQ(m.route, create_);
  m = std::get<Router::Match>(router_.match("DELETE", "/v1/vms/12"));
  EXPECT_EQ(m.route, delete_);
  EXPECT_EQ(m.args, std::vector<std::string>{"12"});
  m = std::get<Router::Match>(router_.match("POST", "/v1/vms/abc/actions"));
  EXPECT_EQ(m.route, act_);
  EXPECT_EQ(m.args, std::vector<std::string>{"abc"});
}

TEST_F(RouterTest, HeadIsGetAndATrailingSlashIsIgnored) {
  EXPECT_EQ(std::get<Router::Match>(router_.match("HEAD", "/v1/vms/1")).route, get_);
  EXPECT_EQ(std::get<Router::Match>(router_.match("GET", "/v1/vms/")).route, list_);
}

TEST_F(RouterTest, UnknownPathsAreNotFound) {
  EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router_.match("GET", "/v2/vms")));
  EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router_.match("GET", "/v1/vms/1/x")));
  EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router_.match("GET", "/")));
  EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router_.match("GET", "/v1//")));
  EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router_.match("GET", "/v1/vms//actions")));
}

TEST_F(RouterTest, WrongMethodsListTheRightOnes) {
  auto wrong = std::get<Router::WrongMethod>(router_.match("PUT", "/v1/vms/3"));
  EXPECT_EQ(wrong.allowed, (std::vector<std::string>{"GET", "DELETE"}));
  wrong = std::get<Router::WrongMethod>(router_.match("GET", "/v1/vms/3/actions"));
  EXPECT_EQ(wrong.allowed, std::vector<std::string>{"POST"});
}

TEST(SplitPath, Segments) {
  EXPECT_EQ(split_path("/a/b/"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(split_path("/a//b"), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_TRUE(split_path("/").empty());
}

}  // namespace
}  // namespace corral::api
