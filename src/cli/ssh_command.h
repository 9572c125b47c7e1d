// The guest over ssh, as StratusLab's stratus-connect-instance ("just wraps the usual ssh
// command"): the user's key, given to every VM `corral run` starts, and `corral connect ID`.
//
// Contract:
// - The key is the user's own ~/.ssh/id_ed25519 when it exists (with its .pub), else Corral's
//   $XDG_CONFIG_HOME/corral/id_ed25519 (default ~/.config/corral), made once with ssh-keygen.
// - `connect` execs ssh (the process becomes it, so the terminal is ssh's): inside the
//   network namespace the VM's network is reached from (the API's network "namespace"), as
//   `ip netns exec NS ssh -i KEY root@IP`, with host keys kept in Corral's own known_hosts.
//   Arguments after `--` go to ssh (a command to run, say).
// - No shell ever sees an argument: argv only.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/failure.h"
#include "cli/options.h"

namespace corral::cli {

struct SshKey {
  std::string private_path;
  std::string public_line;  // "ssh-ed25519 AAAA... comment"
};

// The key `run` gives new VMs and `connect` logs in with (made if there is none).
[[nodiscard]] CliResult<SshKey> user_ssh_key();

// The ssh command line for `connect`: ip netns exec NS ssh ... [-o OPT]... root@IP [command...]:
// leading "-o OPT" pairs of `extra` are ssh options, the rest is the remote command.
std::vector<std::string> ssh_argv(const std::string& netns, const std::string& key_path,
                                  const std::string& known_hosts, const std::string& ip,
                                  const std::vector<std::string>& extra);

// Registers `connect` on `app`.
void add_ssh_command(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
