#include "api/queries.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace corral::api {
namespace {

namespace lc = corral::lifecycle;
using ::testing::HasSubstr;

TEST(ParseListQuery, Defaults) {
  Result<engine::ListQuery> q = parse_list_query({});
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->limit, 100u);
  EXPECT_EQ(q->offset, 0u);
  EXPECT_EQ(q->marker, 0);
  EXPECT_FALSE(q->state.has_value());
}

TEST(ParseListQuery, ReadsEveryParameter) {
  Result<engine::ListQuery> q = parse_list_query(
      {{"state", "running"}, {"name", "web"}, {"limit", "1000"}, {"offset", "3"}, {"marker", "9"}});
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(q->state, lc::State::kRunning);
  EXPECT_EQ(q->name, "web");
  EXPECT_EQ(q->limit, 1000u);
  EXPECT_EQ(q->offset, 3u);
  EXPECT_EQ(q->marker, 9);
}

struct BadQuery {
  QueryParams query;
  std::string message_part;
};

class ParseListQueryRefuses : public ::testing::TestWithParam<BadQuery> {};

TEST_P(ParseListQueryRefuses, WithAMessage) {
  Result<engine::ListQuery> q = parse_list_query(GetParam().query);
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(q.error().message, HasSubstr(GetParam().message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseListQueryRefuses,
    ::testing::Values(
        BadQuery{{{"status", "RUNNING"}}, "unknown query parameter 'status'"},
        BadQuery{{{"state", "stopped"}}, "'state' must be a canonical state"},
        BadQuery{{{"limit", "0"}}, "'limit' must be a whole number from 1 to 1000"},
        BadQuery{{{"limit", "1001"}}, "'limit'"}, BadQuery{{{"limit", "ten"}}, "'limit'"},
        BadQuery{{{"limit", "-1"}}, "'limit'"}, BadQuery{{{"offset", "1.5"}}, "'offset'"},
        BadQuery{{{"marker", "x"}}, "'marker'"}, BadQuery{{{"name", "a b"}}, "'name'"}));

TEST(ParseHistoryQuery, DefaultsAndLimits) {
  Result<HistoryQuery> q = parse_history_query({});
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->after, 0);
  EXPECT_EQ(q->limit, 100);
  q = parse_history_query({{"after", "12"}, {"limit", "5"}});
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->after, 12);
  EXPECT_EQ(q->limit, 5);
  EXPECT_FALSE(parse_history_query({{"limit", "0"}}).has_value());
  EXPECT_FALSE(parse_history_query({{"before", "1"}}).has_value());
}

TEST(ParseDeleteQuery, HardOrNot) {
  EXPECT_EQ(parse_delete_query({}), lc::Action::kTerminate);
  EXPECT_EQ(parse_delete_query({{"hard", "false"}}), lc::Action::kTerminate);
  EXPECT_EQ(parse_delete_query({{"hard", "true"}}), lc::Action::kTerminateHard);
  EXPECT_EQ(parse_delete_query({{"hard", "1"}}), lc::Action::kTerminateHard);
  EXPECT_FALSE(parse_delete_query({{"hard", "maybe"}}).has_value());
  EXPECT_FALSE(parse_delete_query({{"force", "true"}}).has_value());
}

TEST(ParseEventsQuery, OptionalVm) {
  EXPECT_EQ(parse_events_query({}), 0);
  EXPECT_EQ(parse_events_query({{"vm", "42"}}), 42);
  EXPECT_FALSE(parse_events_query({{"vm", "0"}}).has_value());
  EXPECT_FALSE(parse_events_query({{"vm", "abc"}}).has_value());
}

TEST(ParseIdsQuery, SortedWithoutRepeatsOrRefused) {
  EXPECT_EQ(parse_ids_query({}), std::vector<std::int64_t>{});
  EXPECT_EQ(parse_ids_query({{"ids", "42"}}), std::vector<std::int64_t>{42});
  EXPECT_EQ(parse_ids_query({{"ids", "9,3,9,17"}}), (std::vector<std::int64_t>{3, 9, 17}));
  for (const char* wrong : {"", ",", "3,", ",3", "3,,4", "a", "3;4", "-1", "1 ,2"}) {
    Result<std::vector<std::int64_t>> q = parse_ids_query({{"ids", wrong}});
    ASSERT_FALSE(q.has_value()) << wrong;
    EXPECT_NE(q.error().message.find("'ids'"), std::string::npos) << q.error().message;
  }
  std::string many;
  for (int i = 1; i <= 1000; ++i) many += (i > 1 ? "," : "") + std::to_string(i);
  EXPECT_EQ(parse_ids_query({{"ids", many}})->size(), 1000U);
  EXPECT_FALSE(parse_ids_query({{"ids", many + ",1001"}}).has_value());
  EXPECT_TRUE(parse_list_query({{"ids", "1,2"}}).has_value());
}

TEST(ParseId, DecimalOneToEighteenDigits) {
  EXPECT_EQ(parse_id("1"), 1);
  EXPECT_EQ(parse_id("000042"), 42);
  EXPECT_EQ(parse_id("999999999999999999"), 999999999999999999);
  EXPECT_FALSE(parse_id("").has_value());
  EXPECT_FALSE(parse_id("1234567890123456789").has_value());
  EXPECT_FALSE(parse_id("-1").has_value());
  EXPECT_FALSE(parse_id("+1").has_value());
  EXPECT_FALSE(parse_id("1e3").has_value());
  EXPECT_FALSE(parse_id("12 ").has_value());
  EXPECT_FALSE(parse_id("0x10").has_value());
}

TEST(RequestId, EchoesSaneIdsAndMakesNewOnes) {
  EXPECT_EQ(request_id_for("abc-123_X.y:z"), "abc-123_X.y:z");
  const std::string made = request_id_for("");
  EXPECT_THAT(made, ::testing::MatchesRegex("req-[0-9a-f]{16}"));
  EXPECT_NE(request_id_for(""), made);
  EXPECT_THAT(request_id_for("bad id"), ::testing::StartsWith("req-"));
  EXPECT_THAT(request_id_for("a\r\nSet-Cookie: x"), ::testing::StartsWith("req-"));
  EXPECT_THAT(request_id_for(std::string(129, 'a')), ::testing::StartsWith("req-"));
  EXPECT_EQ(request_id_for(std::string(128, 'a')), std::string(128, 'a'));
}

TEST(ParseViewsQuery, NamesNoneAndRefusals) {
  const struct {
    QueryParams query;
    std::optional<ViewSet> want;
  } cases[] = {
      {{}, kAllViews},
      {{{"views", "nova"}}, kViewNova},
      {{{"views", "nova,azure"}}, ViewSet(kViewNova | kViewAzure)},
      {{{"views", "opennebula,nova,azure,stratuslab"}}, kAllViews},
      {{{"views", "none"}}, ViewSet{0}},
      {{{"views", ""}}, std::nullopt},
      {{{"views", "nova,"}}, std::nullopt},
      {{{"views", "ec2"}}, std::nullopt},
      {{{"views", "none,nova"}}, std::nullopt},
  };
  for (const auto& c : cases) {
    const Result<ViewSet> got = parse_views_query(c.query);
    if (c.want) {
      ASSERT_TRUE(got.has_value()) << got.error().message;
      EXPECT_EQ(*got, *c.want);
    } else {
      EXPECT_FALSE(got.has_value());
    }
  }
  EXPECT_TRUE(parse_list_query({{"views", "nova"}}).has_value());
}

}  // namespace
}  // namespace corral::api
