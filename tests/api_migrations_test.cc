// Move records over HTTP and the CLI against a real `corral server` with two sim hosts: a live
// migration's Nova record in GET /v1/vms/{id}/migrations, its host stays in the history reply,
// every VM's records paged by GET /v1/migrations, the JSON 404 of an unknown or malformed id,
// and `corral vm migrations` / `vm history`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/recipes.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using nlohmann::json;

TEST(ApiMigrationsTest, ALiveMigrationIsRecordedAndShown) {
  ServerProcess server({"--sim-hosts", "2"});
  ASSERT_TRUE(server.start()) << server.log();
  Api api(server);
  const ApiResult created =
      api.post("/v1/vms", {{"name", "m"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
  ASSERT_EQ(created.status, 202) << created.body.dump();
  const std::int64_t id = created.body["vm"]["id"];
  const std::string path = "/v1/vms/" + std::to_string(id);
  const json placed = api.wait_idle(id);
  ASSERT_EQ(placed["state"], "RUNNING") << placed.dump();
  const std::string source = placed["host"];
  EXPECT_EQ(api.get(path + "/migrations").body, json::parse(R"({"migrations": []})"));

  const ApiResult moving = api.post(path + "/actions", {{"action", "live_migrate"}});
  ASSERT_EQ(moving.status, 202) << moving.body.dump();
  const std::int64_t op = moving.body["operation"]["id"];
  const json moved = api.wait_idle(id);
  ASSERT_EQ(moved["state"], "RUNNING") << moved.dump();
  const std::string target = moved["host"];
  ASSERT_NE(target, source);

  const ApiResult migrations = api.get(path + "/migrations");
  ASSERT_EQ(migrations.status, 200) << migrations.body.dump();
  ASSERT_EQ(migrations.body["migrations"].size(), 1u) << migrations.body.dump();
  const json& m = migrations.body["migrations"][0];
  EXPECT_EQ(m["migration_type"], "live-migration");
  EXPECT_EQ(m["status"], "completed");
  EXPECT_EQ(m["source_compute"], source);
  EXPECT_EQ(m["dest_compute"], target);
  EXPECT_EQ(m["op_id"], op);
  EXPECT_EQ(m["vm_id"], id);
  EXPECT_TRUE(m["error"].is_null());
  // The sim's migrate phase reports progress as QEMU's query-migrate would: all of the 128 MiB
  // guest's memory sent, and the downtime once done.
  EXPECT_EQ(m["memory_total_bytes"], 128 * 1024 * 1024);
  EXPECT_EQ(m["memory_processed_bytes"], 128 * 1024 * 1024);
  EXPECT_EQ(m["memory_remaining_bytes"], 0);
  EXPECT_GT(m["downtime_ms"].get<std::int64_t>(), 0);

  const json history = api.get(path + "/history").body;
  ASSERT_EQ(history["stays"].size(), 2u) << history.dump();
  EXPECT_EQ(history["stays"][0]["host"], source);
  EXPECT_EQ(history["stays"][0]["reason"], "USER");
  EXPECT_EQ(history["stays"][0]["action"], "live_migrate");
  EXPECT_EQ(history["stays"][1]["host"], target);
  EXPECT_TRUE(history["stays"][1]["end"].is_null());
  EXPECT_FALSE(history["transitions"].empty());

  // Every VM's records (the admin's GET /v1/migrations), newest first, paged by id: a second
  // move makes two; a page of one names the next page's bound, the last page none.
  ASSERT_EQ(api.post(path + "/actions", {{"action", "migrate"}}).status, 202);
  ASSERT_EQ(api.wait_idle(id)["host"], source);
  const ApiResult first_page = api.get("/v1/migrations?limit=1");
  ASSERT_EQ(first_page.status, 200) << first_page.body.dump();
  ASSERT_EQ(first_page.body["migrations"].size(), 1u) << first_page.body.dump();
  EXPECT_EQ(first_page.body["migrations"][0]["migration_type"], "migration");
  const std::int64_t bound = first_page.body["next_before"];
  EXPECT_EQ(bound, first_page.body["migrations"][0]["id"]);
  const ApiResult last_page = api.get("/v1/migrations?limit=5&before=" + std::to_string(bound));
  ASSERT_EQ(last_page.body["migrations"].size(), 1u) << last_page.body.dump();
  EXPECT_EQ(last_page.body["migrations"][0], m);
  EXPECT_TRUE(last_page.body["next_before"].is_null());
  EXPECT_EQ(api.get("/v1/migrations?limit=0").status, 400);
  EXPECT_EQ(api.get("/v1/migrations?page=2").status, 400);

  for (const char* bad : {"/v1/vms/999/migrations", "/v1/vms/x1/migrations"}) {
    const ApiResult missing = api.get(bad);
    EXPECT_EQ(missing.status, 404) << bad;
    EXPECT_EQ(missing.body["error"]["code"], "not_found") << missing.body.dump();
  }

  const CliResult table = run_cli({"vm", "migrations", std::to_string(id)}, server.url());
  EXPECT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("live-migration completed"), std::string::npos) << table.out;
  const CliResult stays = run_cli({"vm", "history", std::to_string(id)}, server.url());
  EXPECT_EQ(stays.exit_code, 0) << stays.out;
  EXPECT_NE(stays.out.find("HOST STAYS\nSEQ HOST"), std::string::npos) << stays.out;
  EXPECT_NE(stays.out.find("USER   live_migrate"), std::string::npos) << stays.out;
  EXPECT_NE(run_cli({"vm", "migrations", "999"}, server.url()).exit_code, 0);
}

}  // namespace
}  // namespace corral::testing
