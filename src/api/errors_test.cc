#include "api/errors.h"

#include <gtest/gtest.h>

namespace corral::api {
namespace {

struct Row {
  ErrorCode code;
  int status;
  std::string name;
};

class ToHttp : public ::testing::TestWithParam<Row> {};

TEST_P(ToHttp, MapsEveryCode) {
  const HttpError http = to_http(Error{GetParam().code, "what went wrong", {}, {}});
  EXPECT_EQ(http.status, GetParam().status);
  ASSERT_TRUE(http.body.contains("error"));
  EXPECT_EQ(http.body["error"]["code"], GetParam().name);
  EXPECT_EQ(http.body["error"]["message"], "what went wrong");
}

INSTANTIATE_TEST_SUITE_P(Table, ToHttp,
                         ::testing::Values(Row{ErrorCode::kInvalidState, 409, "invalid_state"},
                                           Row{ErrorCode::kUnknownAction, 400, "unknown_action"},
                                           Row{ErrorCode::kInvalidArgument, 400,
                                               "invalid_argument"},
                                           Row{ErrorCode::kNotFound, 404, "not_found"},
                                           Row{ErrorCode::kConflict, 409, "conflict"},
                                           Row{ErrorCode::kUnavailable, 503, "unavailable"},
                                           Row{ErrorCode::kInternal, 500, "internal"},
                                           Row{ErrorCode::kTooLarge, 413, "too_large"},
                                           Row{ErrorCode::kRateLimited, 429, "rate_limited"}));

TEST(ToHttp, InvalidStateCarriesStateAndAllowedActions) {
  Error e{ErrorCode::kInvalidState,
          "cannot start a VM that is active (nova)",
          "active",
          {"stop", "reboot"}};
  const HttpError http = to_http(e);
  EXPECT_EQ(http.status, 409);
  const nlohmann::json expected = {{"error",
                                    {{"code", "invalid_state"},
                                     {"message", "cannot start a VM that is active (nova)"},
                                     {"state", "active"},
                                     {"allowed_actions", {"stop", "reboot"}}}}};
  EXPECT_EQ(http.body, expected);
}

TEST(ToHttp, InvalidStateWithNothingAllowedHasAnEmptyList) {
  const HttpError http = to_http(Error{ErrorCode::kInvalidState, "no", "DONE", {}});
  EXPECT_TRUE(http.body["error"]["allowed_actions"].is_array());
  EXPECT_TRUE(http.body["error"]["allowed_actions"].empty());
}

TEST(ToHttp, OtherErrorsCarryOnlyCodeAndMessage) {
  const HttpError http = to_http(Error::not_found("no VM with id '9'"));
  EXPECT_EQ(http.body["error"].size(), 2u);
}

TEST(ToHttp, EmptyMessagesGetOne) {
  const HttpError http = to_http(Error{ErrorCode::kInternal, "", {}, {}});
  EXPECT_FALSE(http.body["error"]["message"].get<std::string>().empty());
}

TEST(ToHttp, RetryAfterWhenUnavailable) {
  const HttpError http = to_http(Error{ErrorCode::kUnavailable, "shutting down", {}, {}});
  ASSERT_EQ(http.headers.size(), 1u);
  EXPECT_EQ(http.headers[0].first, "Retry-After");
}

TEST(ToHttp, MethodNotAllowed) {
  const HttpError http = to_http(MethodNotAllowed{"PUT", "/v1/vms/1", {"GET", "DELETE"}});
  EXPECT_EQ(http.status, 405);
  EXPECT_EQ(http.body["error"]["code"], "method_not_allowed");
  EXPECT_EQ(http.body["error"]["message"],
            "PUT is not allowed on /v1/vms/1 (allowed: GET, DELETE)");
  ASSERT_EQ(http.headers.size(), 1u);
  EXPECT_EQ(http.headers[0].first, "Allow");
  EXPECT_EQ(http.headers[0].second, "GET, DELETE");
}

}  // namespace
}  // namespace corral::api
