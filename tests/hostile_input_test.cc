// 10,000 malformed requests against a live server: bad JSON, wrong types, huge bodies, deep
// nesting, unknown fields, invalid and overlong ids, NUL and invalid UTF-8, path traversal in
// names and images, bad queries, wrong methods. Each kind of malformed request gets the answer
// docs/api.md ("Errors", "Limits") documents for it — its own HTTP status, its JSON error
// `code` and a message saying what is wrong — never a 5xx nor some other 4xx; the server stays
// up and no VM changes.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <random>

#include "support/recipes.h"

namespace corral::testing {
namespace {

using nlohmann::json;

// docs/api.md, "Limits": bodies up to 64 KiB (more: 413); JSON nested at most 16 levels (400).
constexpr std::size_t kBodyLimit = 64 * 1024;
constexpr int kDepthLimit = 16;

// The answer docs/api.md gives for a kind of malformed request.
struct Expected {
  int status = 0;
  std::string code;
  std::string message_has;  // a fragment the message must hold ("" when it varies)
};

const Expected kInvalid{400, "invalid_argument", ""};
Expected invalid(std::string says) { return {400, "invalid_argument", std::move(says)}; }

struct Request {
  std::string method;
  std::string path;
  std::string body;
  Expected expected;
};

std::string random_bytes(std::mt19937& random, std::size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(random() & 0xff);
  return out;
}

// By value: the list may be a temporary.
template <typename T>
T pick(std::mt19937& random, const std::vector<T>& values) {
  return values[random() % values.size()];
}
std::string pick(std::mt19937& random, std::initializer_list<std::string> values) {
  return values.begin()[random() % values.size()];
}

// A create body of exactly `size` bytes, every field valid but a name too long for any limit.
std::string create_body_of_size(std::size_t size) {
  const std::string head = R"({"image":"tiny","vcpus":1,"memory_mib":128,"name":")";
  return head + std::string(size - head.size() - 2, 'a') + "\"}";
}

constexpr std::array<const char*, 18> kKinds = {
    "truncated JSON",
    "random bytes",
    "wrong type or value",
    "unknown field",
    "raw traversal/garbage",
    "deep nesting",
    "body over the limit",
    "body at the limit",
    "invalid or overlong id",
    "unknown verb/vocabulary",
    "action param wrong type",
    "bad query string",
    "wrong method",
    "unknown endpoint",
    "JSON but not an object",
    "NUL / invalid UTF-8",
    "console input wrong",
    "nesting at the limit",
};

// One malformed request of kind `k` (an index into kKinds), varied by `random`, with the answer
// the API documents for it.
Request malformed(std::size_t k, std::mt19937& random, std::int64_t vm) {
  const std::string vm_path = "/v1/vms/" + std::to_string(vm);
  const json good = {{"name", "ok"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}};
  const auto with = [&](const std::string& key, json value) {
    json body = good;
    body[key] = std::move(value);
    return body.dump();
  };
  // Values each field must refuse.
  const std::vector<std::pair<std::string, std::vector<json>>> invalid_values = {
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
  switch (k) {
    case 0: {  // truncated JSON (every strict prefix of an object is invalid; empty says so)
      const std::string text = good.dump().substr(0, random() % good.dump().size());
      return {"POST", "/v1/vms", text,
              invalid(text.empty() ? "needs a JSON object" : "not valid JSON")};
    }
    case 1:  // random bytes: not JSON, a NUL, or JSON that is not a create request
      return {"POST", "/v1/vms", random_bytes(random, 1 + random() % 200), kInvalid};
    case 2: {  // a wrong type or value for a field: the message names the field
      const auto& [field, values] = invalid_values[random() % invalid_values.size()];
      return {"POST", "/v1/vms", with(field, pick(random, values)), invalid("'" + field + "'")};
    }
    case 3: {  // an unknown field, named
      const std::string field = "unknown_" + std::to_string(random() % 100);
      return {"POST", "/v1/vms", with(field, 1), invalid("unknown field '" + field + "'")};
    }
    case 4: {  // traversal and garbage in names and images, bytes as they are (no escaping)
      const std::string field = random() % 2 == 0 ? "name" : "image";
      const std::string other = field == "name" ? "image" : "name";
      return {"POST", "/v1/vms",
              "{\"" + field + "\":\"" + pick(random, hostile_names) + "\",\"" + other +
                  "\":\"tiny\",\"vcpus\":1,\"memory_mib\":128}",
              kInvalid};
    }
    case 5: {  // deep nesting: 400, saying so (docs/api.md, 413 row)
      const std::size_t depth = kDepthLimit + 1 + random() % 20000;
      const std::string body = random() % 2 == 0 ? std::string(depth, '[') + std::string(depth, ']')
                                                 : "{\"name\":" + std::string(depth - 1, '[') +
                                                       std::string(depth - 1, ']') + "}";
      return {"POST", random() % 2 == 0 ? "/v1/vms" : vm_path + "/actions", body,
              invalid("nests deeper than " + std::to_string(kDepthLimit) + " levels")};
    }
    case 6: {  // a body over the limit, on each route that reads one; often by a byte or few
      const std::size_t size =
          kBodyLimit + 1 + (random() % 2 == 0 ? random() % 16 : random() % 8000);
      return {"POST",
              pick(random, {"/v1/vms", vm_path + "/actions", vm_path + "/console"}),
              create_body_of_size(size),
              {413, "too_large", "larger than 64 KiB"}};
    }
    case 7:  // a body of exactly the limit or just under: not too large, refused for its name
      return {"POST", "/v1/vms", create_body_of_size(kBodyLimit - random() % 4), invalid("'name'")};
    case 8: {  // invalid and overlong ids name nothing: 404, as unknown ones
      const std::string id = pick(random, {"-1", "0", "abc", "1e3", std::string(40, '9'), "%00",
                                           "1;DROP", "%201", "0x10", "1.0", "+1"});
      return {"GET", "/v1/vms/" + id, "", {404, "not_found", "no VM with id"}};
    }
    case 9: {  // actions: unknown verbs and vocabularies; a known verb with a stray field
      const bool klingon = random() % 2 == 0;
      const bool explode = random() % 2 == 0;
      const json body = {{"action", explode ? "explode" : "stop"},
                         {"vocabulary", klingon ? "klingon" : "nova"},
                         {"extra", random() % 7}};
      const Expected expected = klingon   ? invalid("unknown vocabulary 'klingon'")
                                : explode ? Expected{400, "unknown_action", "explode"}
                                          : invalid("unknown field 'extra'");
      return {"POST", vm_path + "/actions", body.dump(), expected};
    }
    case 10:  // actions: parameters of the wrong type
      return {"POST", vm_path + "/actions",
              json{{"action", "resize"}, {"vcpus", pick(random, invalid_values[2].second)}}.dump(),
              invalid("'vcpus'")};
    case 11: {  // bad query strings: the message names the parameter
      const auto& [query, named] =
          pick(random, std::vector<std::pair<std::string, std::string>>{{"limit=-1", "'limit'"},
                                                                        {"limit=1e99", "'limit'"},
                                                                        {"limit=0", "'limit'"},
                                                                        {"limit=1001", "'limit'"},
                                                                        {"marker=abc", "'marker'"},
                                                                        {"state=BOGUS", "'state'"},
                                                                        {"offset=-5", "'offset'"},
                                                                        {"limit=%00", "'limit'"},
                                                                        {"name=a%2Fb", "'name'"},
                                                                        {"bogus=1", "'bogus'"}});
      return {"GET", "/v1/vms?" + query, "", invalid(named)};
    }
    case 12:  // wrong methods on a VM: 405, naming the methods it has
      return {random() % 2 == 0 ? "PATCH" : "PUT",
              vm_path,
              "{}",
              {405, "method_not_allowed", "is not allowed on " + vm_path}};
    case 13:  // unknown endpoints and traversal in paths
      return {"GET",
              pick(random, {"/v1/../../etc/passwd", "/v2/vms", "/v1/vms/1/../../x", "/v1/nothing",
                            "/%2e%2e/%2e%2e/etc", "/v1/vms/..%2f..%2fetc"}),
              "",
              {404, "not_found", "no such endpoint"}};
    case 14:  // a JSON value that is not an object
      return {"POST", vm_path + "/actions", pick(random, {"[]", "1", "\"pause\"", "null", "true"}),
              invalid("must be a JSON object")};
    case 15: {  // NULs and invalid UTF-8 in strings: raw, they are not JSON; escaped, no verb
      const std::vector<Request> cases = {
          {"", "", std::string("{\"action\":\"pa\0use\"}", 19), invalid("NUL")},
          {"", "", "{\"action\":\"pa\xffuse\"}", invalid("not valid JSON")},
          {"", "", "{\"action\":\"\xc0\xafpause\"}", invalid("not valid JSON")},  // overlong
          {"", "", "{\"action\":\"\xed\xa0\x80\"}", invalid("not valid JSON")},   // surrogate
          {"", "", "{\"action\":\"pause\xe2\x82\"}", invalid("not valid JSON")},  // truncated
          {"", "", R"({"action":"pa\u0000use"})", {400, "unknown_action", "unknown action"}},
      };
      Request r = pick(random, cases);
      r.method = "POST";
      r.path = vm_path + "/actions";
      return r;
    }
    case 16:  // console input of the wrong shape: the body is refused before the driver is asked
      return {"POST", vm_path + "/console",
              pick(random, {"{\"input\": 42}", "{\"input\": null}", "{}", "{\"input\": [\"a\"]}"}),
              invalid("'input' must be a string")};
    default: {  // nesting at the limit, exactly: not refused for depth, but as no create request
      const std::string body = "{\"name\":" + std::string(kDepthLimit - 1, '[') +
                               std::string(kDepthLimit - 1, ']') +
                               ",\"image\":\"tiny\",\"vcpus\":1,\"memory_mib\":128}";
      return {"POST", "/v1/vms", body, invalid("'name' must be a string")};
    }
  }
}

// What is wrong with the answer to `r`; "" when it is the documented one.
std::string wrong_answer(const Request& r, const httplib::Result& res) {
  if (!res) return "no answer (" + httplib::to_string(res.error()) + ")";
  const Expected& want = r.expected;
  const json body = json::parse(res->body, nullptr, false);
  const json error = body.is_object() ? body.value("error", json()) : json();
  const std::string code = error.is_object() ? error.value("code", "") : "";
  const std::string message = error.is_object() ? error.value("message", "") : "";
  std::string wrong;
  if (res->status != want.status) wrong += "status " + std::to_string(res->status) + "; ";
  if (code != want.code) wrong += "code '" + code + "'; ";
  if (message.empty() || message.find(want.message_has) == std::string::npos) {
    wrong += "message without '" + want.message_has + "'; ";
  }
  if (res->get_header_value("Content-Type").find("application/json") != 0) {
    wrong += "Content-Type '" + res->get_header_value("Content-Type") + "'; ";
  }
  if (want.status == 405 && (res->get_header_value("Allow") != "GET, DELETE" ||
                             error.value("allowed_methods", json()) != json{"GET", "DELETE"})) {
    wrong += "Allow '" + res->get_header_value("Allow") + "'; ";
  }
  if (wrong.empty()) return "";
  return wrong + "expected " + std::to_string(want.status) + " " + want.code + " '" +
         want.message_has + "', got " + res->body.substr(0, 300);
}

httplib::Result send(httplib::Client& http, const Request& r) {
  if (r.method == "GET") return http.Get(r.path);
  if (r.method == "POST") return http.Post(r.path, r.body, "application/json");
  if (r.method == "PUT") return http.Put(r.path, r.body, "application/json");
  return http.Patch(r.path, r.body, "application/json");
}

TEST(HostileInputTest, TenThousandMalformedRequestsGetTheirDocumentedErrors) {
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
    ASSERT_EQ(api.wait_idle(vms.back()).value("state", ""), "RUNNING");
  }
  const json before = api.get("/v1/vms?limit=1000").body;

  std::unique_ptr<httplib::Client> http = server.client();
  std::mt19937 random(20261202);
  std::array<int, kKinds.size()> sent{};
  std::array<int, kKinds.size()> wrong{};
  std::array<std::string, kKinds.size()> first_wrong;
  std::map<int, int> statuses;
  constexpr int kRequests = 10'000;
  for (int i = 0; i < kRequests; ++i) {
    const std::size_t kind = static_cast<std::size_t>(i) % kKinds.size();
    const Request r = malformed(kind, random, vms[static_cast<std::size_t>(i) % vms.size()]);
    const httplib::Result res = send(*http, r);
    ++sent[kind];
    ++statuses[res ? res->status : 0];
    if (const std::string why = wrong_answer(r, res); !why.empty() && wrong[kind]++ == 0) {
      first_wrong[kind] = r.method + " " + r.path.substr(0, 80) + " [" +
                          std::to_string(r.body.size()) + " bytes]: " + why;
    }
  }

  std::printf("hostile input: %d requests\n", kRequests);
  int total = 0;
  for (std::size_t k = 0; k < kKinds.size(); ++k) {
    total += sent[k];
    std::printf("  %-24s %4d sent, %4d with the documented answer\n", kKinds[k], sent[k],
                sent[k] - wrong[k]);
    EXPECT_GT(sent[k], 0) << kKinds[k];
    EXPECT_EQ(wrong[k], 0) << kKinds[k] << ": " << first_wrong[k];
  }
  std::string summary;
  for (const auto& [status, n] : statuses) {
    summary += std::to_string(status) + "x" + std::to_string(n) + " ";
  }
  std::printf("  by status: %s\n", summary.c_str());
  EXPECT_EQ(total, kRequests);
  EXPECT_EQ(statuses.count(0), 0U) << "the server never dropped a request";
  EXPECT_EQ(api.get("/v1/vms?limit=1000").body, before) << "no VM changed, none was added";
  EXPECT_EQ(api.get("/healthz").status, 200);
}

}  // namespace
}  // namespace corral::testing
