// The serial console both ways over its WebSocket (GET /v1/vms/{id}/console/ws) with a real
// guest (TCG, 128 MiB) behind HTTPS, so the API server's own TLS session is what is taken over
// (the plain path: src/api/raw_connection_test.cc). One guest for both clients:
//   1. the dashboard's terminal (xterm.js) in headless Chromium: web/tests/console.check.mjs;
//   2. `corral console`: types a line, shows the guest's answer, and ends by itself when the
//      VM powers off and its console closes.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/qemu_support.h"
#include "support/recipes.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kReady = "corral-guest: ready";

TEST(QemuConsole, TheDashboardAndTheCliTalkToTheGuestOverTheWebSocket) {
  QemuServer server;
  server.process().use_tls();
  ASSERT_TRUE(server.process().start()) << server.process().log();
  Api api(server.process());
  const std::int64_t id = create_vm(api, "console");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  ASSERT_TRUE(wait_console(api, id, kReady));
  const std::string url = server.process().url();

  // 1. In the browser.
  const ProgramResult browser = run_program(
      {CORRAL_NODE, "--test", "--test-reporter=spec", CORRAL_WEB_DIR "/tests/console.check.mjs"},
      {{"CORRAL_URL", url},
       {"CORRAL_ADMIN_TOKEN", server.process().admin_token()},
       {"CORRAL_VM", std::to_string(id)},
       {"NODE_EXTRA_CA_CERTS", server.process().ca_cert_path()},
       {"SCREENSHOT_DIR", CORRAL_SCREENSHOT_DIR}},
      180s);
  EXPECT_EQ(browser.exit_code, 0) << browser.out << browser.err;

  // 2. The CLI: its input is one line, then end of input; it shows output until the console
  // closes, which the poweroff below makes happen.
  std::thread poweroff([&] {
    if (wait_console(api, id, "cli-42", 30s)) EXPECT_EQ(act(api, id, "shutdown_hard"), 202);
  });
  const CliResult cli =
      run_cli_with_input({"console", std::to_string(id)}, url, "uname -s; echo cli-$((6*7))\n", 60s,
                         {{"CORRAL_CA_CERT", server.process().ca_cert_path()}});
  poweroff.join();
  EXPECT_EQ(cli.exit_code, 0) << cli.out;
  EXPECT_NE(cli.out.find("Connected to the console of VM " + std::to_string(id)), std::string::npos)
      << cli.out;
  EXPECT_NE(cli.out.find("Linux"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("cli-42"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("closed (1000: the VM's console ended)"), std::string::npos) << cli.out;
  EXPECT_TRUE(wait_state(api, id, "POWEROFF").is_object());

  // A VM with no process: refused in words before any upgrade.
  const CliResult refused =
      run_cli_with_input({"console", std::to_string(id)}, url, "", 20s,
                         {{"CORRAL_CA_CERT", server.process().ca_cert_path()}});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.out.find("HTTP 409): the VM has no console now"), std::string::npos)
      << refused.out;
}

}  // namespace
}  // namespace corral::testing
