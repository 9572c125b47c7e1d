// corral: the controller (`corral server`, later) and every client command.
// Exit codes: 0 ok, 1 the API refused (message printed), 2 usage.
#include <CLI/CLI.hpp>

#include "cli/states_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Corral: a virtual-machine lifecycle controller"};
  app.require_subcommand(1);
  corral::cli::add_states_command(app);
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
