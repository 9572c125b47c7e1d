// corral: the controller (`corral server`) and every client command.
// Exit codes: 0 ok, 1 the API refused (message printed), 2 usage, 3 cannot reach the server.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "agent/guard/fence_guard_server.h"
#include "cli/console_commands.h"
#include "cli/hosts_command.h"
#include "cli/options.h"
#include "cli/server_command.h"
#include "cli/states_command.h"
#include "cli/stratuslab_commands.h"
#include "cli/vm_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Corral: a virtual-machine lifecycle controller"};
  app.require_subcommand(1);
  // Global options (--server, -o) may follow any subcommand: unknown options fall through.
  app.fallthrough();
  const auto globals = corral::cli::add_global_options(app);
  corral::cli::add_states_command(app);
  corral::cli::add_server_command(app);
  corral::cli::add_vm_command(app, globals);
  corral::cli::add_stratuslab_commands(app, globals);
  corral::cli::add_hosts_command(app, globals);
  corral::cli::add_console_commands(app, *app.get_subcommand("vm"), globals);
  // The agent's fence guard (agent/guard/fence_guard_server.h): started by `corral agent`,
  // not by people, so it is not listed.
  auto* guard = app.add_subcommand("fence-guard", "")->group("");
  auto guard_dir = std::make_shared<std::string>();
  guard->add_option("--data-dir", *guard_dir, "The agent's data dir")->required();
  guard->callback(
      [guard_dir] { throw CLI::RuntimeError(corral::agent::guard::run_fence_guard(*guard_dir)); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& done) {
    return done.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return 0;
}
