#include "cli/console_commands.h"

#include <fmt/core.h>
#include <httplib.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "cli/request.h"
#include "cli/table.h"

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
  // Fails early, in words, when the VM has no console (not running, sim driver).
  CliResult<json> vm = client->get("/v1/vms/" + id);
  if (!vm) return fail(std::move(vm.error()));

  const ServerUrl& url = client->server_url();
  const std::string path = url.base_path + "/v1/vms/" + id + "/console";
  const std::unique_ptr<httplib::Client> connection = client->connect();  // TLS verified
  httplib::Client& stream = *connection;
  stream.set_read_timeout(time_t{24} * 3600, 0);
  std::atomic<bool> ended = false;
  std::optional<Failure> refused;
  std::atomic<bool> opened = false;
  std::thread reader([&] {
    httplib::Result r = stream.Get(
        path, client->headers(),
        [&](const httplib::Response& response) {
          if (response.status != 200) {
            refused = Failure{FailureKind::kRefused,
                              Error{ErrorCode::kConflict,
                                    "the server refused the console (HTTP " +
                                        std::to_string(response.status) + "): is the VM running?",
                                    {},
                                    {}},
                              response.status,
                              {},
                              {}};
            return false;
          }
          opened = true;
          return true;
        },
        [&](const char* data, std::size_t size) {
          std::fwrite(data, 1, size, stdout);
          std::fflush(stdout);
          return true;
        });
    if (!r && !refused && !opened) {
      refused = client->transport_failure(stream, r.error());
      refused->error.message = "cannot open the console stream: " + refused->error.message;
    }
    ended = true;
  });

  RawTerminal terminal;
  std::fprintf(stderr, "Connected to the console of VM %s. Escape character is ^]%s", id.c_str(),
               terminal.active() ? "\r\n" : "\n");
  bool detached = false;
  bool input_open = true;
  char buffer[1024];
  while (!ended) {
    if (!input_open) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    pollfd in{STDIN_FILENO, POLLIN, 0};
    if (::poll(&in, 1, 100) <= 0) continue;
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
    if (!chunk.empty()) {
      CliResult<json> sent = client->post("/v1/vms/" + id + "/console", json{{"input", chunk}});
      if (!sent) {
        stream.stop();
        reader.join();
        return fail(std::move(sent.error()));
      }
    }
    if (detached) break;
  }
  stream.stop();
  reader.join();
  if (refused) return fail(std::move(*refused));
  std::fprintf(stderr, "%sDisconnected from VM %s (%s).%s", terminal.active() ? "\r\n" : "\n",
               id.c_str(), detached ? "detached" : "the console closed",
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
