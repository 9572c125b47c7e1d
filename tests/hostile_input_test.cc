// 10,000 malformed requests against a live server: bad JSON, wrong types, huge bodies, deep
// nesting, unknown fields, invalid and overlong ids, NUL and invalid UTF-8, path traversal in
// names and images. Each gets a 4xx with a JSON error; none a 5xx; the server stays up and
// no VM changes.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "support/recipes.h"

namespace corral::testing {
namespace {

using nlohmann::json;

struct Request {
  std::string method;
  std::string path;
  std::string body;
};

std::string random_bytes(std::mt19937& random, std::size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(random() & 0xff);
  return out;
}

// One malformed request of kind `k` (the kinds cycle), varied by `random`.
Request malformed(int k, std::mt19937& random, std::int64_t vm) {
  const std::string vm_path = "/v1/vms/" + std::to_string(vm);
  const json good = {{"name", "ok"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}};
  const auto with = [&](const std::string& key, json value) {
    json body = good;
    body[key] = std::move(value);
    return body.dump();
  };
  // Values each field must refuse.
  const std::vector<std::pair<std::string, std::vector<json>>> invalid = {
      {"name",
       {nullptr, true, -1, json::array(), json::object(), std::string(5000, 'a'), "", "a/b",
        "sp ace", "tab\t"}},
      {"image",
       {nullptr, false, 7, json::array(), "", "../../etc/passwd", "a/b", "..",
        std::string(300, 'i'), "ctl\x01"}},
      {"vcpus", {nullptr, true, "2", -1, 0, 1e300, 1.5, 100000, json::array()}},
      {"memory_mib", {nullptr, "128", -1, 0, 1e300, 0.5, json::object()}},
      {"hold", {nullptr, "yes", 1, 0, json::array()}},
  };
  const std::vector<std::string> hostile_names = {"../../etc/passwd",
                                                  "/etc/passwd",
                                                  "a/b",
                                                  std::string("nul\0byte", 8),
                                                  "\xff\xfe invalid utf8",
                                                  "bad\x7f",
                                                  std::string(300, 'n'),
                                                  "",
                                                  "\n\r",
                                                  "x\ty"};
  switch (k % 16) {
    case 0:  // truncated JSON
      return {"POST", "/v1/vms", good.dump().substr(0, random() % good.dump().size())};
    case 1:  // random bytes
      return {"POST", "/v1/vms", random_bytes(random, 1 + random() % 200)};
    case 2: {  // a wrong type or value for a field
      const auto& [field, values] = invalid[random() % invalid.size()];
      return {"POST", "/v1/vms", with(field, values[random() % values.size()])};
    }
    case 3:  // an unknown field
      return {"POST", "/v1/vms", with("unknown_" + std::to_string(random() % 100), 1)};
    case 4: {  // traversal and garbage in names and images, bytes as they are (no escaping)
      const std::string field = random() % 2 == 0 ? "name" : "image";
      const std::string other = field == "name" ? "image" : "name";
      return {"POST", "/v1/vms",
              "{\"" + field + "\":\"" + hostile_names[random() % hostile_names.size()] + "\",\"" +
                  other + "\":\"tiny\",\"vcpus\":1,\"memory_mib\":128}"};
    }
    case 5: {  // deep nesting
      const std::size_t depth = 100 + random() % 20000;
      return {"POST", "/v1/vms", std::string(depth, '[') + std::string(depth, ']')};
    }
    case 6:  // a body over the limit
      return {"POST", "/v1/vms",
              "{\"name\":\"" + std::string(70'000 + random() % 1000, 'a') + "\"}"};
    case 7: {  // invalid and overlong ids
      const std::vector<std::string> ids = {
          "-1",     "0",  "abc", "1e3", std::string(40, '9'), "%00", "..%2f..%2fetc",
          "1;DROP", " 1", "0x10"};
      return {"GET", "/v1/vms/" + ids[random() % ids.size()], ""};
    }
    case 8:  // actions: unknown verbs and vocabularies
      return {"POST", vm_path + "/actions",
              json{{"action", random() % 2 == 0 ? "explode" : "stop"},
                   {"vocabulary", random() % 2 == 0 ? "klingon" : "nova"},
                   {"extra", random() % 7}}
                  .dump()};
    case 9:  // actions: parameters of the wrong type
      return {"POST", vm_path + "/actions",
              json{{"action", "resize"}, {"vcpus", invalid[2].second[random() % 9]}}.dump()};
    case 10:  // bad query strings
      return {"GET",
              std::vector<std::string>{"/v1/vms?limit=-1", "/v1/vms?limit=1e99",
                                       "/v1/vms?marker=abc", "/v1/vms?state=BOGUS",
                                       "/v1/vms?offset=-5", "/v1/vms?limit=%00"}[random() % 6],
              ""};
    case 11:  // wrong methods
      return {random() % 2 == 0 ? "PATCH" : "PUT", vm_path, "{}"};
    case 12:  // unknown endpoints and traversal in paths
      return {"GET",
              std::vector<std::string>{"/v1/../../etc/passwd", "/v2/vms", "/v1/vms/1/../../x",
                                       "/v1/nothing", "/%2e%2e/%2e%2e/etc"}[random() % 5],
              ""};
    case 13:  // a JSON value that is not an object
      return {"POST", vm_path + "/actions",
              std::vector<std::string>{"[]", "1", "\"pause\"", "null", "true"}[random() % 5]};
    case 14:  // NULs and invalid UTF-8 inside strings
      return {"POST", vm_path + "/actions", std::string("{\"action\":\"pa\0use\"}", 19)};
    default:  // console input of the wrong shape (sim: no console at all)
      return {"POST", vm_path + "/console", "{\"input\": 42}"};
  }
}

TEST(HostileInputTest, TenThousandMalformedRequestsGetClearFourHundreds) {
  ServerProcess server({"--sim-profile", "zero"});
  ASSERT_TRUE(server.start()) << server.log();
  Api api(server);
  std::vector<std::int64_t> vms;
  for (int i = 0; i < 3; ++i) {
    const ApiResult r = api.post("/v1/vms", {{"name", "keep" + std::to_string(i)},
                                             {"image", "tiny"},
                                             {"vcpus", 1},
                                             {"memory_mib", 128}});
    ASSERT_EQ(r.status, 202);
    vms.push_back(r.body["vm"]["id"].get<std::int64_t>());
    ASSERT_TRUE(api.wait_idle(vms.back()).is_object());
  }
  const json before = api.get("/v1/vms?limit=1000").body;

  std::unique_ptr<httplib::Client> http = server.client();
  std::mt19937 random(20261202);
  std::map<int, int> statuses;
  int bad = 0;
  std::string first_bad;
  constexpr int kRequests = 10'000;
  for (int i = 0; i < kRequests; ++i) {
    const Request r = malformed(i, random, vms[static_cast<std::size_t>(i) % vms.size()]);
    httplib::Result res = r.method == "GET"    ? http->Get(r.path)
                          : r.method == "POST" ? http->Post(r.path, r.body, "application/json")
                          : r.method == "PUT"  ? http->Put(r.path, r.body, "application/json")
                                               : http->Patch(r.path, r.body, "application/json");
    const int status = res ? res->status : 0;
    ++statuses[status];
    const json body = res ? json::parse(res->body, nullptr, false) : json();
    const bool clear = body.is_object() && body.contains("error") &&
                       body["error"].value("code", "") != "" &&
                       body["error"].value("message", "") != "";
    if (status < 400 || status >= 500 || !clear) {
      if (bad++ == 0) {
        first_bad = "kind " + std::to_string(i % 16) + ": " + r.method + " " + r.path + " -> " +
                    std::to_string(status) + " " + (res ? res->body.substr(0, 300) : "");
      }
    }
  }
  EXPECT_EQ(bad, 0) << first_bad;
  std::string summary;
  for (const auto& [status, n] : statuses) {
    summary += std::to_string(status) + "x" + std::to_string(n) + " ";
  }
  std::printf("hostile input: %d requests: %s\n", kRequests, summary.c_str());
  EXPECT_EQ(statuses.count(0), 0U) << "the server never dropped a request";
  EXPECT_EQ(api.get("/v1/vms?limit=1000").body, before) << "no VM changed, none was added";
  EXPECT_EQ(api.get("/healthz").status, 200);
}

}  // namespace
}  // namespace corral::testing
