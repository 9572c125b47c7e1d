#include "cli/console_commands.h"

#include <fmt/core.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "cli/request.h"
#include "cli/table.h"
#include "cli/ws_client.h"

namespace corral::cli {
namespace {

using nlohmann::json;

constexpr char kEscape = 0x1d;  // Ctrl-], as telnet and virsh console

CliResult<Client> checked(const GlobalOptions& globals, std::string_view id) {
  CliResult<std::string> ok = check_vm_id(id);
  if (!ok) return fail(std::move(ok.error()));
  return client_for(globals);
}

// Raw mode while attached to a terminal, restored however we leave.
class RawTerminal {
 public:
  RawTerminal() {
    if (::isatty(STDIN_FILENO) == 0 || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    raw.c_oflag |= OPOST | ONLCR;  // keep "\n" -> "\r\n" on output
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  bool active() const { return active_; }

 private:
  termios saved_{};
  bool active_ = false;
};

CliResult<void> run_console(const GlobalOptions& globals, const std::string& id) {
  CliResult<Client> client = checked(globals, id);
  if (!client) return fail(std::move(client.error()));
  // Fails early, in the API's words, when the VM has no console (not running, the sim): the
  // WebSocket's refusal would carry no more than its status.
  CliResult<json> log = client->get("/v1/vms/" + id + "/console/log?bytes=1");
  if (!log) return fail(std::move(log.error()));
  // The console's WebSocket (GET /v1/vms/{id}/console/ws): what the guest writes comes in as
  // messages, what is typed goes out as messages. Refusals (not running, the sim) come back
  // as the API's error before the upgrade.
  CliResult<std::unique_ptr<WsClient>> ws =
      WsClient::open(*client, "/v1/vms/" + id + "/console/ws", "corral.console.v1",
                     [](const std::string& payload) {
                       std::fwrite(payload.data(), 1, payload.size(), stdout);
                       std::fflush(stdout);
                     });
  if (!ws) return fail(std::move(ws.error()));
  WsClient& console = **ws;

  RawTerminal terminal;
  std::fprintf(stderr, "Connected to the console of VM %s. Escape character is ^]%s", id.c_str(),
               terminal.active() ? "\r\n" : "\n");
  bool detached = false;
  bool input_open = true;
  char buffer[1024];
  while (console.is_open()) {
    pollfd fds[2] = {{console.fd(), POLLIN, 0}, {STDIN_FILENO, input_open ? POLLIN : 0, 0}};
    if (!console.has_buffered() && ::poll(fds, 2, 500) <= 0) continue;
    if (console.has_buffered() || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      if (!console.pump()) break;
    }
    if ((fds[1].revents & (POLLIN | POLLHUP)) == 0) continue;
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n <= 0) {
      input_open = false;  // no more input: keep showing output until the console closes
      continue;
    }
    std::string chunk(buffer, static_cast<std::size_t>(n));
    const std::size_t escape = chunk.find(kEscape);
    if (escape != std::string::npos) {
      chunk.resize(escape);
      detached = true;
    }
    if (!chunk.empty() && !console.send(chunk)) break;
    if (detached) break;
  }
  console.close();
  std::fprintf(stderr, "%sDisconnected from VM %s (%s).%s", terminal.active() ? "\r\n" : "\n",
               id.c_str(), detached ? "detached" : console.end_reason().c_str(),
               terminal.active() ? "\r\n" : "\n");
  return {};
}

CliResult<void> run_console_log(const GlobalOptions& globals, const std::string& id,
                                std::size_t bytes) {
  CliResult<Client> client = checked(globals, id);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> log =
      client->get("/v1/vms/" + id + "/console/log?bytes=" + std::to_string(bytes));
  if (!log) return fail(std::move(log.error()));
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(*log);
      break;
    case OutputFormat::kTable:
      fmt::print("{}", log->value("log", std::string()));
      break;
  }
  return {};
}

CliResult<void> run_images(const GlobalOptions& globals) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> images = client->get("/v1/images");
  if (!images) return fail(std::move(images.error()));
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(*images);
      break;
    case OutputFormat::kTable: {
      Table table({{"NAME"}, {"KIND"}, {"PATH"}});
      for (const json& image : images->value("images", json::array())) {
        table.add_row({image.value("name", ""), image.value("kind", ""), image.value("path", "")});
      }
      fmt::print("{}", table.render());
      break;
    }
  }
  return {};
}

}  // namespace

void add_console_commands(CLI::App& app, CLI::App& vm, const Globals& globals) {
  {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd =
        app.add_subcommand("console", "Attach to a VM's serial console (Ctrl-] detaches)");
    cmd->add_option("id", *id, "VM id")->required();
    set_command(cmd, "corral console", [globals, id] { return run_console(*globals, *id); });
  }
  {
    auto id = std::make_shared<std::string>();
    auto bytes = std::make_shared<std::size_t>(65536);
    CLI::App* cmd = vm.add_subcommand("console-log", "Print what the guest wrote on its console");
    cmd->add_option("id", *id, "VM id")->required();
    cmd->add_option("--bytes", *bytes, "At most this many bytes, the last ones")
        ->capture_default_str();
    set_command(cmd, "corral vm console-log",
                [globals, id, bytes] { return run_console_log(*globals, *id, *bytes); });
  }
  {
    CLI::App* image = app.add_subcommand("image", "Images VMs boot from");
    image->require_subcommand(1);
    CLI::App* cmd = image->add_subcommand("list",
                                          "List images (a directory each under "
                                          "<data-dir>/images)");
    set_command(cmd, "corral image list", [globals] { return run_images(*globals); });
  }
}

}  // namespace corral::cli
