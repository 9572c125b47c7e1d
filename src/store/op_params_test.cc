// Operation parameters: the rules drivers rely on, and the JSON text round trip.
#include "store/op_params.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace corral::store {
namespace {

using lifecycle::Action;
using nlohmann::json;

struct NameCase {
  std::string_view name;
  bool valid;
};

TEST(OpParams, NamesAreWhatTheDriversCanUseAsDirectoriesAndTags) {
  const NameCase cases[] = {
      {"snap-1", true},
      {"a", true},
      {"a.b_c-9", true},
      {std::string_view("x").substr(0, 0), false},  // empty
      {"My disk", false},
      {"UPPER", false},
      {"has space", false},
      {".hidden", false},
      {"a/b", false},
      {"..", false},
      {"\xC3\xA9t\xC3\xA9", false},
  };
  for (const NameCase& c : cases) EXPECT_EQ(valid_param_name(c.name), c.valid) << c.name;
  EXPECT_TRUE(valid_param_name(std::string(64, 'a')));
  EXPECT_FALSE(valid_param_name(std::string(65, 'a')));
}

TEST(OpParams, ValidateRefusesABadNameForEveryActionThatTakesOne) {
  for (Action a : {Action::kSnapshot, Action::kBackup, Action::kDiskSnapshot,
                   Action::kDiskSnapshotRevert, Action::kDiskSnapshotDelete, Action::kCheckpoint,
                   Action::kCheckpointRevert, Action::kCheckpointDelete}) {
    OpParams p;
    EXPECT_TRUE(validate_params(a, p)) << "no name: the driver names it";
    p.name = "ok-1";
    EXPECT_TRUE(validate_params(a, p));
    p.name = "My disk";
    Status refused = validate_params(a, p);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    p.name = "";
    EXPECT_FALSE(validate_params(a, p));
  }
  OpParams named;
  named.name = "ok";
  EXPECT_FALSE(validate_params(Action::kReboot, named)) << "an action that takes no name";
}

TEST(OpParams, ValidateBoundsSizeToDiskResize) {
  OpParams p;
  p.size_mib = 96;
  EXPECT_TRUE(validate_params(Action::kDiskResize, p));
  EXPECT_FALSE(validate_params(Action::kResize, p));
  p.size_mib = -1;
  EXPECT_FALSE(validate_params(Action::kDiskResize, p));
  p.size_mib = kMaxDiskSizeMib + 1;
  EXPECT_FALSE(validate_params(Action::kDiskResize, p));
}

TEST(OpParams, JsonTextRoundTripsEveryField) {
  OpParams p;
  p.name = "s1";
  p.size_mib = 128;
  p.target_host = "h2";
  p.source_host = "h1";
  p.previous = VmModel{2, 256, "tiny"};
  p.hold = true;
  p.migration = MigrationParams{true, true, 0, 50, 100};
  p.endpoint = MigrationEndpoint{"tcp:10.1.2.2:4000", "10.1.2.2", 10809, "disk0"};
  p.nic = Nic{1, 3, "10.0.0.5", "02:00:0a:00:00:05", {1, 4}};
  p.volume = 12;
  p.shown = R"({"host":"h2","password":"***","rotation":7})";
  const std::string text = to_json_text(p);
  EXPECT_EQ(json::parse(text),
            json::parse(R"({"host":"h2","password":"***","rotation":7,"name":"s1","size_mib":128,
                "target_host":"h2","source_host":"h1","previous":{"vcpus":2,"memory_mib":256,"image":"tiny"},
                "hold":true,"migration":{"copy_storage":true,"auto_converge":true,
                "postcopy_after_ms":0,"max_downtime_ms":50,"bandwidth_mib_s":100},
                "endpoint":{"migration_uri":"tcp:10.1.2.2:4000","nbd_host":"10.1.2.2",
                "nbd_port":10809,"nbd_export":"disk0"},
                "nic":{"index":1,"network":3,"ip":"10.0.0.5","mac":"02:00:0a:00:00:05",
                "security_groups":[1,4]},
                "volume_id":12})"));
  EXPECT_EQ(params_from_json_text(text), p);
}

// Without a typed field the text is `shown` as it is; each typed field alone still joins it.
TEST(OpParams, JsonTextOfUntypedParametersIsTheShownObject) {
  OpParams none;
  EXPECT_EQ(to_json_text(none), "{}");
  EXPECT_EQ(params_from_json_text(to_json_text(none)), none);
  OpParams shown_only;
  shown_only.shown = R"({"password":"***","rotation":7})";
  EXPECT_EQ(to_json_text(shown_only), shown_only.shown);
  EXPECT_EQ(params_from_json_text(to_json_text(shown_only)), shown_only);
  const auto with = [&](auto set) {
    OpParams p = shown_only;
    set(p);
    return json::parse(to_json_text(p));
  };
  EXPECT_EQ(with([](OpParams& p) { p.hold = true; })["hold"], true);
  EXPECT_EQ(with([](OpParams& p) { p.volume = 3; })["volume_id"], 3);
  EXPECT_EQ(with([](OpParams& p) { p.target_host = "h"; })["target_host"], "h");
  EXPECT_EQ(with([](OpParams& p) { p.name = "s"; })["rotation"], 7);
  EXPECT_EQ(nics_to_json_text({}), "[]");
  EXPECT_EQ(strings_to_json_text({}), "[]");
}

TEST(OpParams, ANicWithoutSecurityGroupsIsInTheDefaultGroup) {
  // vms.nics rows written before migration 8 have no "security_groups".
  const auto old = nics_from_json_text(R"([{"index":0,"network":1,"ip":"10.0.0.2","mac":"m"}])");
  ASSERT_TRUE(old.has_value());
  ASSERT_EQ(old->size(), 1u);
  EXPECT_EQ((*old)[0].security_groups, std::vector<std::int64_t>{kDefaultSecurityGroupId});
  const std::vector<Nic> nics{{0, 1, "10.0.0.2", "m", {}}, {1, 2, "10.0.1.2", "n", {3, 1}}};
  EXPECT_EQ(nics_from_json_text(nics_to_json_text(nics)), nics);
  EXPECT_FALSE(nics_from_json_text(
      R"([{"index":0,"network":1,"ip":"i","mac":"m","security_groups":["web"]}])"));
  EXPECT_FALSE(
      nics_from_json_text(R"([{"index":0,"network":1,"ip":"i","mac":"m","security_groups":[0]}])"));
}

TEST(OpParams, MigrationOptionsOnlyForLiveMigrateAndInRange) {
  OpParams p;
  EXPECT_TRUE(validate_params(Action::kMigrate, p));  // defaults: any action
  p.migration.copy_storage = true;
  EXPECT_TRUE(validate_params(Action::kLiveMigrate, p));
  EXPECT_FALSE(validate_params(Action::kMigrate, p));
  struct Case {
    std::int32_t postcopy, downtime, bandwidth;
    bool ok;
  };
  for (const Case& c : {Case{-1, 0, 0, true}, Case{0, 1, 1, true},
                        Case{kMaxMigrationMillis, kMaxMigrationMillis, kMaxBandwidthMibS, true},
                        Case{-2, 0, 0, false}, Case{kMaxMigrationMillis + 1, 0, 0, false},
                        Case{-1, -1, 0, false}, Case{-1, kMaxMigrationMillis + 1, 0, false},
                        Case{-1, 0, -1, false}, Case{-1, 0, kMaxBandwidthMibS + 1, false}}) {
    p.migration = MigrationParams{false, false, c.postcopy, c.downtime, c.bandwidth};
    EXPECT_EQ(validate_params(Action::kLiveMigrate, p).has_value(), c.ok)
        << c.postcopy << " " << c.downtime << " " << c.bandwidth;
  }
}

TEST(OpParams, DefaultsAreAnEmptyObjectAndBadTextGivesDefaults) {
  EXPECT_EQ(to_json_text(OpParams{}), "{}");
  EXPECT_EQ(params_from_json_text(""), OpParams{});
  EXPECT_EQ(params_from_json_text("[1]"), OpParams{});
  EXPECT_EQ(params_from_json_text("{}"), OpParams{});
}

TEST(OpParams, ATypedKeyOfTheWrongTypeIsOnlyShown) {
  const OpParams p = params_from_json_text(
      R"({"name":5,"hold":"yes","previous":{},"migration":{"copy_storage":1},"endpoint":{"migration_uri":"x"}})");
  EXPECT_FALSE(p.name);
  EXPECT_TRUE(p.migration.defaults());
  EXPECT_FALSE(p.endpoint);
  EXPECT_FALSE(p.hold);
  EXPECT_FALSE(p.previous);
  EXPECT_EQ(json::parse(p.shown), json::parse(R"({"name":5,"hold":"yes","previous":{},
      "migration":{"copy_storage":1},"endpoint":{"migration_uri":"x"}})"));
}

}  // namespace
}  // namespace corral::store
