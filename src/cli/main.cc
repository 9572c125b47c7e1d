// corral: the controller (`corral server`) and every client command.
// Exit codes: 0 ok, 1 the API refused (message printed), 2 usage, 3 cannot reach the server.
#include <CLI/CLI.hpp>

#include "agent/guard/fence_guard_command.h"
#include "cli/agent_command.h"
#include "cli/audit_command.h"
#include "cli/console_commands.h"
#include "cli/groups_command.h"
#include "cli/hosts_command.h"
#include "cli/identity_commands.h"
#include "cli/network_setup.h"
#include "cli/networks_command.h"
#include "cli/options.h"
#include "cli/secgroups_command.h"
#include "cli/server_command.h"
#include "cli/ssh_command.h"
#include "cli/states_command.h"
#include "cli/stratuslab_commands.h"
#include "cli/usage_command.h"
#include "cli/vm_commands.h"
#include "cli/volumes_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Corral: a virtual-machine lifecycle controller"};
  app.require_subcommand(1);
  // Global options (--server, -o) may follow any subcommand: unknown options fall through.
  app.fallthrough();
  const auto globals = corral::cli::add_global_options(app);
  corral::cli::add_states_command(app);
  corral::cli::add_server_command(app);
  corral::agent::guard::add_fence_guard_command(app);  // hidden: agents spawn it
  corral::cli::add_agent_command(app);
  corral::cli::add_identity_commands(app, globals);
  corral::cli::add_usage_command(app, globals);
  corral::cli::add_audit_commands(app, globals);
  corral::cli::add_vm_command(app, globals);
  corral::cli::add_stratuslab_commands(app, globals);
  corral::cli::add_hosts_command(app, globals);
  corral::cli::add_groups_command(app, globals);
  corral::cli::add_networks_command(app, globals);
  corral::cli::add_network_teardown_command(*app.get_subcommand("network"));
  corral::cli::add_secgroups_command(app, globals);
  corral::cli::add_volumes_command(app, globals);
  corral::cli::add_ssh_command(app, globals);
  corral::cli::add_console_commands(app, *app.get_subcommand("vm"), globals);
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
