#include "cli/request.h"

#include <gtest/gtest.h>

#include "cli/action_commands.h"
#include "cli/client.h"

namespace corral::cli {
namespace {

using nlohmann::json;

ActionArgs action(std::string verb, std::string vocabulary = "corral") {
  ActionArgs args;
  args.verb = std::move(verb);
  args.vocabulary = std::move(vocabulary);
  return args;
}

CreateArgs create(std::string name, std::string image) {
  CreateArgs args;
  args.name = std::move(name);
  args.image = std::move(image);
  return args;
}

ListArgs list(std::string state, std::string name = "", int limit = 100) {
  ListArgs args;
  args.state = std::move(state);
  args.name = std::move(name);
  args.limit = limit;
  return args;
}

TEST(RequestTest, UrlEncodeKeepsUnreservedOnly) {
  EXPECT_EQ(url_encode("web-1_a.b~"), "web-1_a.b~");
  EXPECT_EQ(url_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
}

TEST(RequestTest, VmIds) {
  EXPECT_TRUE(check_vm_id("12"));
  EXPECT_TRUE(check_vm_id("vm-12.a_b"));
  for (const char* bad : {"", "12/actions", "../x", "1 2", "a?b", "$(rm)"}) {
    const CliResult<std::string> id = check_vm_id(bad);
    ASSERT_FALSE(id) << bad;
    EXPECT_EQ(id.error().kind, FailureKind::kUsage);
  }
  EXPECT_FALSE(check_vm_id(std::string(65, '1')));
  EXPECT_EQ(vm_path("12"), "/v1/vms/12");
  EXPECT_EQ(vm_path("12", "/history"), "/v1/vms/12/history");
}

TEST(RequestTest, CreateRequest) {
  CreateArgs args = create("web", "ttylinux");
  args.vcpus = 2;
  args.memory_mib = 512;
  EXPECT_EQ(*create_request(args),
            json({{"name", "web"}, {"image", "ttylinux"}, {"vcpus", 2}, {"memory_mib", 512}}));
  args.hold = true;
  EXPECT_EQ((*create_request(args))["hold"], true);
  EXPECT_FALSE(create_request(args)->contains("requirements"));
  EXPECT_FALSE(create_request(args)->contains("group"));
  args.requirements = "zone = a";
  args.group = "web";
  EXPECT_EQ((*create_request(args))["requirements"], "zone = a");
  EXPECT_EQ((*create_request(args))["group"], "web");
  args.vcpus = 0;
  EXPECT_EQ(create_request(args).error().kind, FailureKind::kUsage);
  EXPECT_FALSE(create_request(create("", "x")));
  EXPECT_FALSE(create_request(create("x", "")));
}

TEST(RequestTest, ListPath) {
  EXPECT_EQ(*list_path(ListArgs{}, ""), "/v1/vms?limit=100");
  EXPECT_EQ(*list_path(list("running", "a b", 5), "40"),
            "/v1/vms?limit=5&state=RUNNING&name=a%20b&marker=40");
  const CliResult<std::string> bad = list_path(list("ACTIVE"), "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, FailureKind::kUsage);
  EXPECT_NE(bad.error().error.message.find("POWEROFF"), std::string::npos);
}

TEST(RequestTest, ActionRequestCarriesVerbVocabularyAndTypedParams) {
  ActionArgs args = action("resize");
  args.vcpus = 4;
  args.memory_mib = 2048;
  EXPECT_EQ(
      *action_request(args),
      json({{"action", "resize"}, {"vocabulary", "corral"}, {"vcpus", 4}, {"memory_mib", 2048}}));
}

TEST(RequestTest, ActionRequestForEachVocabulary) {
  ActionArgs reboot = action("reboot", "nova");
  reboot.type = "HARD";
  EXPECT_EQ(*action_request(reboot),
            json({{"action", "reboot"}, {"vocabulary", "nova"}, {"type", "HARD"}}));
  ActionArgs recover = action("recover", "opennebula");
  recover.op = "retry";
  EXPECT_EQ(*action_request(recover),
            json({{"action", "recover"}, {"vocabulary", "opennebula"}, {"op", "retry"}}));
  ActionArgs power_off = action("powerOff", "azure");
  power_off.skip_shutdown = true;
  EXPECT_EQ(*action_request(power_off),
            json({{"action", "powerOff"}, {"vocabulary", "azure"}, {"skipShutdown", true}}));
  ActionArgs shelve = action("shelve", "NOVA");
  shelve.offload = false;
  EXPECT_EQ(*action_request(shelve),
            json({{"action", "shelve"}, {"vocabulary", "nova"}, {"offload", false}}));
  const ActionArgs kill = action("kill", "stratuslab");
  EXPECT_EQ(*action_request(kill), json({{"action", "kill"}, {"vocabulary", "stratuslab"}}));
}

TEST(RequestTest, ParamsAreTypedByKeyAndTypedOptionsWin) {
  ActionArgs args = action("rebuild", "nova");
  args.params = {"rotation=3", "offload=no", "password=1234", "image=a=b"};
  args.image = "ttylinux";
  const json body = *action_request(args);
  EXPECT_EQ(body["rotation"], 3);
  EXPECT_EQ(body["offload"], false);
  EXPECT_EQ(body["password"], "1234");
  EXPECT_EQ(body["image"], "ttylinux");
}

TEST(RequestTest, BadParamsAreUsageErrors) {
  for (const char* bad :
       {"noequals", "=x", "vcpus=two", "skipShutdown=maybe", "action=stop", "vocabulary=nova"}) {
    ActionArgs args = action("resize");
    args.params = {bad};
    const CliResult<json> body = action_request(args);
    ASSERT_FALSE(body) << bad;
    EXPECT_EQ(body.error().kind, FailureKind::kUsage) << bad;
  }
  ActionArgs negative = action("resize");
  negative.vcpus = 0;
  EXPECT_FALSE(action_request(negative));
}

TEST(RequestTest, VerbMustBelongToTheVocabulary) {
  const CliResult<json> body = action_request(action("poweroff-hard", "nova"));
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().kind, FailureKind::kUsage);
  EXPECT_NE(body.error().error.message.find("nova has no verb 'poweroff-hard'; its verbs: "),
            std::string::npos);
  EXPECT_FALSE(action_request(action("stop", "klingon")));
  EXPECT_TRUE(action_request(action("poweroff-hard", "opennebula")));
  EXPECT_TRUE(action_request(action("poweroff", "azure")));  // any case
}

TEST(RequestTest, VocabularyForVerb) {
  EXPECT_EQ(vocabulary_for_verb("", "shutdown_hard").value_or("?"), "corral");
  EXPECT_EQ(vocabulary_for_verb("", "poweroff-hard").value_or("?"), "opennebula");
  EXPECT_EQ(vocabulary_for_verb("", "kill").value_or("?"), "stratuslab");
  EXPECT_EQ(vocabulary_for_verb("", "powerOff").value_or("?"), "azure");
  EXPECT_EQ(vocabulary_for_verb("", "poweroff").value_or("?"), "opennebula");
  EXPECT_EQ(vocabulary_for_verb("", "POWEROFF").value_or("?"), "?");  // which one?
  EXPECT_EQ(vocabulary_for_verb("Nova", "stop").value_or("?"), "nova");
  const CliResult<std::string> ambiguous = vocabulary_for_verb("", "stop");
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().kind, FailureKind::kUsage);
  EXPECT_NE(ambiguous.error().error.message.find("--vocabulary"), std::string::npos);
  EXPECT_FALSE(vocabulary_for_verb("", "fly"));
}

TEST(RequestTest, ServerUrls) {
  const CliResult<ServerUrl> plain = parse_server_url("http://127.0.0.1:8780");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->scheme_host_port, "http://127.0.0.1:8780");
  EXPECT_EQ(plain->base_path, "");
  const CliResult<ServerUrl> prefixed = parse_server_url("http://corral.example/api/");
  ASSERT_TRUE(prefixed);
  EXPECT_EQ(prefixed->scheme_host_port, "http://corral.example");
  EXPECT_EQ(prefixed->base_path, "/api");
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(parse_server_url("https://[::1]:8443")->scheme_host_port, "https://[::1]:8443");
  const CliResult<ServerUrl> secure = parse_server_url("https://corral.example:8780/api");
  ASSERT_TRUE(secure);
  EXPECT_TRUE(secure->tls);
  EXPECT_EQ(secure->scheme_host_port, "https://corral.example:8780");
  EXPECT_EQ(secure->base_path, "/api");
  // The default is the HTTPS server `make run` starts.
  const CliResult<ServerUrl> fallback = parse_server_url(kDefaultServer);
  ASSERT_TRUE(fallback);
  EXPECT_TRUE(fallback->tls);
  EXPECT_EQ(fallback->scheme_host_port, "https://127.0.0.1:8780");
  for (const char* bad : {"127.0.0.1:8780", "https://", "http://", "http://:80", "http://a b",
                          "http://x/?q=1", "ftp://x", "HTTPS://x", "https:/x", "tls://x"}) {
    const CliResult<ServerUrl> url = parse_server_url(bad);
    ASSERT_FALSE(url) << bad;
    EXPECT_EQ(url.error().kind, FailureKind::kUsage) << bad;
  }
}

}  // namespace
}  // namespace corral::cli
