#include "agent/guard/fence_guard_command.h"

#include <unistd.h>

#include <memory>
#include <string>

#include "agent/guard/fence_guard_server.h"
#include "common/log.h"

namespace corral::agent::guard {
namespace {

struct CommandOptions {
  std::string data_dir;
  bool fork = false;
  std::string log_level = "info";
  Millis tick_ms = 200;
};

int run_command(const CommandOptions& o) {
  const auto level = parse_log_level(o.log_level);
  if (!level) return 2;
  set_log_level(*level);
  if (o.fork) {
    const pid_t pid = ::fork();
    if (pid < 0) return kExitError;
    if (pid > 0) ::_exit(0);  // the spawner waits for this one; the child is the guard
  }
  FenceGuardOptions options;
  options.data_dir = o.data_dir;
  options.tick_ms = o.tick_ms;
  return run_fence_guard(options);
}

}  // namespace

void add_fence_guard_command(CLI::App& app) {
  auto options = std::make_shared<CommandOptions>();
  // An empty group hides it from --help: agents start it, people do not.
  auto* cmd = app.add_subcommand("fence-guard", "Enforce an agent's fencing lease")->group("");
  cmd->add_option("--data-dir", options->data_dir, "The agent's data dir")->required();
  cmd->add_flag("--fork", options->fork, "Fork; the parent exits at once");
  cmd->add_option("--log-level", options->log_level, "debug|info|warn|error");
  cmd->add_option("--tick-ms", options->tick_ms, "Longest wait between lease checks")
      ->check(CLI::Range(1, 60'000));
  cmd->callback([options] { throw CLI::RuntimeError(run_command(*options)); });
}

}  // namespace corral::agent::guard
