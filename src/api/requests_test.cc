#include "api/requests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace corral::api {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;
using ::testing::HasSubstr;

json body_of(std::string_view text) {
  Result<json> parsed = parse_body(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? *parsed : json::object();
}

// ---- Bodies -------------------------------------------------------------------------------

TEST(ParseBody, AcceptsAnObject) {
  Result<json> body = parse_body(R"({"a": [1, {"b": "}]{["}]})");
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ((*body)["a"][1]["b"], "}]{[");
}

struct BadBody {
  std::string text;
  ErrorCode code;
  std::string message_part;
};

class ParseBodyRefuses : public ::testing::TestWithParam<BadBody> {};

TEST_P(ParseBodyRefuses, WithAMessage) {
  Result<json> body = parse_body(GetParam().text);
  ASSERT_FALSE(body.has_value());
  EXPECT_EQ(body.error().code, GetParam().code);
  EXPECT_THAT(body.error().message, HasSubstr(GetParam().message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseBodyRefuses,
    ::testing::Values(BadBody{"", ErrorCode::kInvalidArgument, "needs a JSON object"},
                      BadBody{"  \n", ErrorCode::kInvalidArgument, "needs a JSON object"},
                      BadBody{"{", ErrorCode::kInvalidArgument, "not valid JSON"},
                      BadBody{"{'a': 1}", ErrorCode::kInvalidArgument, "not valid JSON"},
                      BadBody{"[1, 2]", ErrorCode::kInvalidArgument, "must be a JSON object"},
                      BadBody{"\"x\"", ErrorCode::kInvalidArgument, "must be a JSON object"},
                      BadBody{std::string(17, '[') + std::string(17, ']'),
                              ErrorCode::kInvalidArgument, "nests deeper than 16"},
                      BadBody{"{\"a\":" + std::string(100000, '[') + "}", ErrorCode::kTooLarge,
                              "64 KiB"}));

// nlohmann's parser stops at a NUL byte and would accept the object before it.
TEST(ParseBody, RefusesANulByte) {
  for (const std::string& text : {std::string("{\"a\": 1}\0garbage", 16), std::string("{}\0", 3),
                                  std::string("{\"a\": 1}\0{[", 11)}) {
    Result<json> body = parse_body(text);
    ASSERT_FALSE(body.has_value()) << text.size();
    EXPECT_EQ(body.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(body.error().message, HasSubstr("NUL byte"));
  }
}

TEST(JsonDepth, CountsNestingOutsideStrings) {
  EXPECT_EQ(json_depth("{}"), 1);
  EXPECT_EQ(json_depth(R"({"a": {"b": [1, [2]]}})"), 4);
  EXPECT_EQ(json_depth(R"({"a": "[[[[[[\"[[[["})"), 1);
  EXPECT_EQ(json_depth(std::string(16, '[') + std::string(16, ']')), 16);
  // Stops counting past the limit.
  EXPECT_EQ(json_depth(std::string(1000, '['), 16), 17);
}

TEST(ParseBody, SixteenLevelsAreFine) {
  std::string text = "{\"a\":" + std::string(15, '[') + std::string(15, ']') + "}";
  EXPECT_TRUE(parse_body(text).has_value());
}

// ---- Create -------------------------------------------------------------------------------

TEST(ParseCreate, ReadsEveryField) {
  Result<engine::CreateRequest> r =
      parse_create(body_of(R"({"name": "web-1.a_b", "image": "debian-12.qcow2", "vcpus": 2,
                  "memory_mib": 2048, "hold": true, "requirements": "ARCH = x86_64",
                  "group": "web"})"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->requirements, "ARCH = x86_64");
  EXPECT_EQ(r->group, "web");
  EXPECT_EQ(r->name, "web-1.a_b");
  EXPECT_EQ(r->model.image, "debian-12.qcow2");
  EXPECT_EQ(r->model.vcpus, 2);
  EXPECT_EQ(r->model.memory_mib, 2048);
  EXPECT_TRUE(r->hold);
}

TEST(ParseCreate, HoldDefaultsToFalse) {
  Result<engine::CreateRequest> r =
      parse_create(body_of(R"({"name": "a", "image": "i", "vcpus": 1, "memory_mib": 16})"));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->hold);
}

struct BadCreate {
  std::string patch;  // merged into a valid body; null deletes a field
  std::string message_part;
};

class ParseCreateRefuses : public ::testing::TestWithParam<BadCreate> {};

TEST_P(ParseCreateRefuses, NamingTheField) {
  json body = {{"name", "vm"}, {"image", "img"}, {"vcpus", 1}, {"memory_mib", 512}};
  body.merge_patch(json::parse(GetParam().patch));
  Result<engine::CreateRequest> r = parse_create(body);
  ASSERT_FALSE(r.has_value()) << GetParam().patch;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr(GetParam().message_part)) << GetParam().patch;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseCreateRefuses,
    ::testing::Values(
        BadCreate{R"({"flavor": "m1"})", "unknown field 'flavor'"},
        BadCreate{R"({"flavor": 1, "zone": 2})", "unknown fields 'flavor', 'zone'"},
        BadCreate{R"({"name": null})", "missing field 'name'"},
        BadCreate{R"({"image": null})", "missing field 'image'"},
        BadCreate{R"({"vcpus": null})", "missing field 'vcpus'"},
        BadCreate{R"({"memory_mib": null})", "missing field 'memory_mib'"},
        BadCreate{R"({"name": 7})", "'name' must be a string"},
        BadCreate{R"({"name": ""})", "'name' must be 1 to 64"},
        BadCreate{R"({"name": "has space"})", "'name' must be 1 to 64"},
        BadCreate{R"({"name": "a/b"})", "'name'"},
        BadCreate{
            R"({"name": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})",
            "'name' must be 1 to 64"},
        BadCreate{R"({"image": 1})", "'image' must be a string"},
        BadCreate{R"({"image": ""})", "'image' must be 1 to 128"},
        BadCreate{R"({"image": "../etc/passwd"})", "'image'"},
        BadCreate{R"({"image": "a/b"})", "'image'"}, BadCreate{R"({"image": "a..b"})", "'image'"},
        BadCreate{R"({"image": "."})", "'image'"}, BadCreate{R"({"image": "a\u0000b"})", "'image'"},
        BadCreate{R"({"vcpus": "2"})", "'vcpus' must be an integer"},
        BadCreate{R"({"vcpus": 2.5})", "'vcpus' must be an integer"},
        BadCreate{R"({"vcpus": true})", "'vcpus' must be an integer"},
        BadCreate{R"({"vcpus": 0})", "'vcpus' must be between 1 and 1024 (got 0)"},
        BadCreate{R"({"vcpus": 1025})", "'vcpus' must be between 1 and 1024"},
        BadCreate{R"({"vcpus": -1})", "'vcpus' must be between 1 and 1024"},
        BadCreate{R"({"vcpus": 18446744073709551615})", "'vcpus' must be between"},
        BadCreate{R"({"memory_mib": 15})", "'memory_mib' must be between 16 and 4194304"},
        BadCreate{R"({"memory_mib": 4194305})", "'memory_mib' must be between"},
        BadCreate{R"({"memory_mib": [1]})", "'memory_mib' must be an integer"},
        BadCreate{R"({"hold": "yes"})", "'hold' must be true or false"},
        BadCreate{R"({"requirements": 1})", "'requirements' must be a string"},
        BadCreate{R"({"group": ""})", "'group' must be a server group's name or id"},
        BadCreate{R"({"group": 0})", "'group' must be a server group's name or id"},
        BadCreate{R"({"group": [1]})", "'group' must be a server group's name or id"}));

TEST(ParseCreate, LimitsAreInclusive) {
  const std::string image(128, 'i');
  const std::string name(64, 'n');
  json body = {{"name", name}, {"image", image}, {"vcpus", 1024}, {"memory_mib", 4194304}};
  EXPECT_TRUE(parse_create(body).has_value());
  body["vcpus"] = 1;
  body["memory_mib"] = 16;
  EXPECT_TRUE(parse_create(body).has_value());
  body["image"] = image + "i";
  EXPECT_FALSE(parse_create(body).has_value());
}

// ---- Actions ------------------------------------------------------------------------------

store::Vm running_vm() {
  store::Vm vm;
  vm.id = 7;
  vm.name = "vm";
  vm.model = {2, 1024, "base.img"};
  vm.record = lc::record_at_rest(lc::State::kRunning);
  vm.host = "sim-1";
  return vm;
}

Result<engine::ActionRequest> build(std::string_view text, lc::Action action) {
  Result<ActionInput> input = parse_action(body_of(text));
  if (!input) return fail(input.error());
  return build_action(*input, action, running_vm());
}

TEST(ParseAction, VocabularyDefaultsToCorral) {
  Result<ActionInput> in = parse_action(body_of(R"({"action": "shutdown"})"));
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->verb, "shutdown");
  EXPECT_EQ(in->vocabulary, lc::Vocabulary::kCorral);
  EXPECT_EQ(in->variant_parameter, "");
}

struct Variant {
  std::string body;
  std::string parameter;
  std::string value;
};

class ParseActionVariant : public ::testing::TestWithParam<Variant> {};

TEST_P(ParseActionVariant, SeparatesTheVariantParameter) {
  Result<ActionInput> in = parse_action(body_of(GetParam().body));
  ASSERT_TRUE(in.has_value()) << in.error().message;
  EXPECT_EQ(in->variant_parameter, GetParam().parameter);
  EXPECT_EQ(in->variant, GetParam().value);
  EXPECT_TRUE(in->params.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseActionVariant,
    ::testing::Values(
        Variant{R"({"action": "reboot", "vocabulary": "nova", "type": "HARD"})", "type", "HARD"},
        Variant{R"({"action": "reboot", "vocabulary": "nova"})", "type", ""},
        Variant{R"({"action": "shelve", "vocabulary": "nova", "offload": false})", "offload",
                "false"},
        Variant{R"({"action": "powerOff", "vocabulary": "azure", "skipShutdown": true})",
                "skipShutdown", "true"},
        Variant{R"({"action": "recover", "vocabulary": "opennebula", "op": "retry"})", "op",
                "retry"}));

struct BadAction {
  std::string body;
  std::string message_part;
};

class ParseActionRefuses : public ::testing::TestWithParam<BadAction> {};

TEST_P(ParseActionRefuses, WithAMessage) {
  Result<ActionInput> in = parse_action(body_of(GetParam().body));
  ASSERT_FALSE(in.has_value()) << GetParam().body;
  EXPECT_EQ(in.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(in.error().message, HasSubstr(GetParam().message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseActionRefuses,
    ::testing::Values(
        BadAction{R"({})", "missing field 'action'"},
        BadAction{R"({"action": 3})", "'action' must be a non-empty string"},
        BadAction{R"({"action": ""})", "'action' must be a non-empty string"},
        BadAction{R"({"action": "stop", "vocabulary": "aws"})", "unknown vocabulary 'aws'"},
        BadAction{R"({"action": "stop", "vocabulary": 1})", "'vocabulary' must be a string"},
        BadAction{R"({"action": "shelve", "vocabulary": "nova", "offload": "yes"})",
                  "'offload' must be true or false"},
        BadAction{R"({"action": "powerOff", "vocabulary": "azure", "skipShutdown": 1})",
                  "'skipShutdown' must be true or false"},
        BadAction{R"({"action": "reboot", "vocabulary": "nova", "type": 2})",
                  "'type' must be a string"},
        BadAction{R"({"action": "recover", "vocabulary": "opennebula"})", "recover needs 'op'"}));

TEST(BuildAction, ResizeStartsFromTheCurrentModel) {
  Result<engine::ActionRequest> r =
      build(R"({"action": "resize", "vcpus": 4})", lc::Action::kResize);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_TRUE(r->model.has_value());
  EXPECT_EQ(r->model->vcpus, 4);
  EXPECT_EQ(r->model->memory_mib, 1024);
  EXPECT_EQ(r->model->image, "base.img");
  EXPECT_EQ(r->vm, 7);
  EXPECT_EQ(r->action, lc::Action::kResize);
  EXPECT_EQ(json::parse(store::to_json_text(r->params)), json({{"vcpus", 4}}));
}

TEST(BuildAction, RebuildTakesAnImage) {
  Result<engine::ActionRequest> r =
      build(R"({"action": "rebuild", "image": "new.img"})", lc::Action::kRebuild);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->model.has_value());
  EXPECT_EQ(r->model->image, "new.img");
  EXPECT_EQ(r->model->vcpus, 2);
}

TEST(BuildAction, PasswordIsNeverKept) {
  Result<engine::ActionRequest> r = build(
      R"({"action": "set_admin_password", "password": "hunter2"})", lc::Action::kSetAdminPassword);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(store::to_json_text(r->params).find("hunter2"), std::string::npos);
  EXPECT_EQ(json::parse(store::to_json_text(r->params))["password"], "***");
}

TEST(BuildAction, HostGoesToTheRequest) {
  Result<engine::ActionRequest> r =
      build(R"({"action": "migrate", "host": "sim-2"})", lc::Action::kMigrate);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->host, "sim-2");
  r = build(R"({"action": "live_migrate"})", lc::Action::kLiveMigrate);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->host, "");
  EXPECT_TRUE(r->params.migration.defaults());
}

TEST(BuildAction, LiveMigrationOptionsAreTypedAndBounded) {
  Result<engine::ActionRequest> r = build(
      R"({"action": "live_migrate", "copy_storage": true, "auto_converge": true,
          "postcopy_after_ms": 0, "max_downtime_ms": 50, "bandwidth_mib_s": 100})",
      lc::Action::kLiveMigrate);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->params.migration, (store::MigrationParams{true, true, 0, 50, 100}));
  for (const char* bad : {R"({"action": "live_migrate", "copy_storage": "yes"})",
                          R"({"action": "live_migrate", "postcopy_after_ms": -2})",
                          R"({"action": "live_migrate", "max_downtime_ms": 3600001})",
                          R"({"action": "live_migrate", "bandwidth_mib_s": -1})",
                          R"({"action": "migrate", "copy_storage": true})"}) {
    const bool live = std::string_view(bad).find("live") != std::string_view::npos;
    r = build(bad, live ? lc::Action::kLiveMigrate : lc::Action::kMigrate);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(BuildAction, ResetStateTargets) {
  Result<engine::ActionRequest> r =
      build(R"({"action": "reset_state", "vocabulary": "nova", "state": "error"})",
            lc::Action::kResetState);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->reset_to, lc::State::kFailed);
  r = build(R"({"action": "reset_state", "vocabulary": "nova", "state": "active"})",
            lc::Action::kResetState);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->reset_to, lc::State::kRunning);
  r = build(R"({"action": "reset_state", "state": "poweroff"})", lc::Action::kResetState);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->reset_to, lc::State::kPoweroff);
}

TEST(BuildAction, KeepsTheVariantInParams) {
  Result<engine::ActionRequest> r = build(
      R"({"action": "reboot", "vocabulary": "nova", "type": "HARD"})", lc::Action::kRebootHard);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(json::parse(store::to_json_text(r->params)), json({{"type", "HARD"}}));
}

TEST(BuildAction, NameAndSizeArriveTyped) {
  Result<engine::ActionRequest> r =
      build(R"({"action": "disk_snapshot", "name": "snap.1_a-b"})", lc::Action::kDiskSnapshot);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->params.name, "snap.1_a-b");
  EXPECT_EQ(json::parse(store::to_json_text(r->params)), json({{"name", "snap.1_a-b"}}));
  r = build(R"({"action": "disk_resize", "size_mib": 96})", lc::Action::kDiskResize);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->params.size_mib, 96);
  EXPECT_FALSE(r->params.name);
}

TEST(BuildAction, BackupParameters) {
  Result<engine::ActionRequest> r =
      build(R"({"action": "backup", "name": "nightly", "backup_type": "daily", "rotation": 7})",
            lc::Action::kBackup);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(json::parse(store::to_json_text(r->params))["rotation"], 7);
}

struct BadBuild {
  std::string body;
  lc::Action action;
  std::string message_part;
};

class BuildActionRefuses : public ::testing::TestWithParam<BadBuild> {};

TEST_P(BuildActionRefuses, WithAMessage) {
  Result<engine::ActionRequest> r = build(GetParam().body, GetParam().action);
  ASSERT_FALSE(r.has_value()) << GetParam().body;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr(GetParam().message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Table, BuildActionRefuses,
    ::testing::Values(
        BadBuild{R"({"action": "shutdown", "force": true})", lc::Action::kShutdown,
                 "unknown field 'force' for shutdown (it takes no parameters)"},
        BadBuild{R"({"action": "reboot", "type": "HARD"})", lc::Action::kReboot,
                 "unknown field 'type'"},
        BadBuild{R"({"action": "stop", "vocabulary": "nova", "host": "x"})", lc::Action::kShutdown,
                 "for shutdown (stop in nova)"},
        BadBuild{R"({"action": "resize"})", lc::Action::kResize, "needs 'vcpus' or 'memory_mib'"},
        BadBuild{R"({"action": "resize", "vcpus": 0})", lc::Action::kResize,
                 "'vcpus' must be between"},
        BadBuild{R"({"action": "resize", "memory_mib": "big"})", lc::Action::kResize,
                 "'memory_mib' must be an integer"},
        BadBuild{R"({"action": "resize", "image": "x"})", lc::Action::kResize,
                 "unknown field 'image'"},
        BadBuild{R"({"action": "rebuild", "image": "../x"})", lc::Action::kRebuild, "'image'"},
        BadBuild{R"({"action": "migrate", "host": "a b"})", lc::Action::kMigrate, "'host'"},
        BadBuild{R"({"action": "migrate", "host": 3})", lc::Action::kMigrate,
                 "'host' must be a string"},
        BadBuild{R"({"action": "reset_state"})", lc::Action::kResetState, "needs 'state'"},
        // A name a driver could not use as a directory or qcow2 tag is refused here, not in
        // the phase (store::valid_param_name).
        BadBuild{R"({"action": "disk_snapshot", "name": "My disk"})", lc::Action::kDiskSnapshot,
                 "'name' must be 1 to 64 characters of a-z"},
        BadBuild{R"({"action": "snapshot", "name": "Nightly"})", lc::Action::kSnapshot,
                 "'name' must be 1 to 64"},
        BadBuild{R"({"action": "checkpoint", "name": ".cp"})", lc::Action::kCheckpoint,
                 "not starting with '.'"},
        BadBuild{R"({"action": "backup", "name": ""})", lc::Action::kBackup, "'name' must be"},
        BadBuild{R"({"action": "snapshot", "name": 7})", lc::Action::kSnapshot,
                 "'name' must be a string"},
        BadBuild{R"({"action": "disk_resize", "size_mib": 0})", lc::Action::kDiskResize,
                 "'size_mib'"},
        BadBuild{R"({"action": "reset_state", "vocabulary": "nova", "state": "stopped"})",
                 lc::Action::kResetState, "\"active\" or \"error\""},
        BadBuild{R"({"action": "reset_state", "state": "bogus"})", lc::Action::kResetState,
                 "canonical state name"},
        BadBuild{R"({"action": "set_admin_password"})", lc::Action::kSetAdminPassword,
                 "needs 'password'"},
        BadBuild{R"({"action": "set_admin_password", "password": ""})",
                 lc::Action::kSetAdminPassword, "'password' must be 1 to 255"},
        BadBuild{R"({"action": "backup", "rotation": -1})", lc::Action::kBackup,
                 "'rotation' must be between 0 and 1000"},
        BadBuild{R"({"action": "snapshot", "name": 5})", lc::Action::kSnapshot,
                 "'name' must be a string"}));

}  // namespace
}  // namespace corral::api
