#include "cli/failure.h"

#include <gtest/gtest.h>

namespace corral::cli {
namespace {

TEST(FailureTest, ExitCodes) {
  EXPECT_EQ(exit_code(FailureKind::kRefused), 1);
  EXPECT_EQ(exit_code(FailureKind::kNotReached), 1);
  EXPECT_EQ(exit_code(FailureKind::kUsage), 2);
  EXPECT_EQ(exit_code(FailureKind::kUnreachable), 3);
}

TEST(FailureTest, ParsesAnInvalidStateError) {
  const Failure f = api_failure(409, R"json({"error": {"code": "invalid_state",
      "message": "cannot stop a VM that is stopped (nova)", "state": "stopped",
      "allowed_actions": ["start", "delete", "rescue"]}})json");
  EXPECT_EQ(f.kind, FailureKind::kRefused);
  EXPECT_EQ(f.http_status, 409);
  EXPECT_EQ(f.error.code, ErrorCode::kInvalidState);
  EXPECT_EQ(f.error.state, "stopped");
  ASSERT_EQ(f.error.allowed_actions.size(), 3U);
  EXPECT_EQ(format_failure("corral vm stop", f),
            "corral vm stop: cannot stop a VM that is stopped (nova)\n"
            "state: stopped\n"
            "allowed: start, delete, rescue\n");
}

TEST(FailureTest, InvalidStateWithNoAllowedVerbs) {
  const Failure f =
      api_failure(409, R"({"error": {"code": "invalid_state", "message": "no", "state": "DONE",
               "allowed_actions": []}})");
  EXPECT_EQ(format_failure("c", f), "c: no\nstate: DONE\nallowed: (none)\n");
}

TEST(FailureTest, OtherErrorsPrintTheirMessageOnly) {
  const Failure f = api_failure(404, R"({"error": {"code": "not_found", "message": "no VM 99"}})");
  EXPECT_EQ(f.error.code, ErrorCode::kNotFound);
  EXPECT_EQ(format_failure("corral vm show", f), "corral vm show: no VM 99\n");
}

TEST(FailureTest, UnknownCodeAndMissingMessage) {
  const Failure f = api_failure(500, R"({"error": {"code": "brand_new"}})");
  EXPECT_EQ(f.error.code, ErrorCode::kInternal);
  EXPECT_EQ(f.error.message, "the server answered HTTP 500 (internal)");
}

TEST(FailureTest, BodyThatIsNotAnApiError) {
  EXPECT_EQ(api_failure(502, "Bad Gateway\n").error.message,
            "the server answered HTTP 502: Bad Gateway");
  EXPECT_EQ(api_failure(404, "").error.message, "the server answered HTTP 404");
  EXPECT_EQ(api_failure(404, "").error.code, ErrorCode::kNotFound);
  EXPECT_EQ(api_failure(400, R"({"error": "flat"})").error.message,
            R"(the server answered HTTP 400: {"error": "flat"})");
}

TEST(FailureTest, UnreachableNamesTheUrlAndHints) {
  const Failure f = unreachable_failure("http://127.0.0.1:8780", "Could not establish connection");
  EXPECT_EQ(exit_code(f.kind), 3);
  EXPECT_EQ(format_failure("corral vm list", f),
            "corral vm list: cannot reach the server at http://127.0.0.1:8780: Could not "
            "establish connection\n"
            "hint: is `corral server` running? (make run)\n");
}

TEST(FailureTest, AnUnreachableFailureMayCarryItsOwnHint) {
  const Failure f =
      unreachable_failure("https://127.0.0.1:8780", "the TLS handshake failed", "check the CA");
  EXPECT_EQ(exit_code(f.kind), 3);
  EXPECT_EQ(format_failure("corral vm list", f),
            "corral vm list: cannot reach the server at https://127.0.0.1:8780: the TLS handshake "
            "failed\nhint: check the CA\n");
}

TEST(FailureTest, UsageAndNotReached) {
  EXPECT_EQ(format_failure("corral vm wait", usage_failure("unknown state 'X'")),
            "corral vm wait: unknown state 'X'\nRun with --help for more information.\n");
  EXPECT_EQ(format_failure("corral vm wait", not_reached_failure("timed out")),
            "corral vm wait: timed out\n");
}

TEST(FailureTest, ParseErrorCodeRoundTrips) {
  for (int i = 1; i <= static_cast<int>(ErrorCode::kRateLimited); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    EXPECT_EQ(parse_error_code(error_code_name(code)), code);
  }
  EXPECT_EQ(parse_error_code("nope"), ErrorCode::kInternal);
}

TEST(FailureTest, ReportReturnsZeroOnSuccess) { EXPECT_EQ(report("c", CliResult<void>{}), 0); }

}  // namespace
}  // namespace corral::cli
