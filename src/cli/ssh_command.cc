#include "cli/ssh_command.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/request.h"

extern char** environ;

namespace corral::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string home() {
  const char* h = std::getenv("HOME");
  return h != nullptr && h[0] != '\0' ? h : "/root";
}

fs::path config_dir() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  return fs::path(xdg != nullptr && xdg[0] != '\0' ? xdg : home() + "/.config") / "corral";
}

std::optional<std::string> first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) return std::nullopt;
  return line;
}

// Runs argv (no shell) and waits; its exit status, or -1 if it could not start.
int spawn_and_wait(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

CliResult<void> run_connect(const GlobalOptions& globals, const std::string& id,
                            const std::vector<std::string>& extra) {
  CliResult<std::string> checked = check_vm_id(id);
  if (!checked) return fail(std::move(checked.error()));
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> vm = client->get(vm_path(id));
  if (!vm) return fail(std::move(vm.error()));
  const json nics = vm->value("nics", json::array());
  if (!nics.is_array() || nics.empty()) {
    return fail(not_reached_failure("VM " + id +
                                    " has no network interface: nothing to ssh to (the serial "
                                    "console is `corral console " +
                                    id + "`)"));
  }
  const std::string ip = nics[0].value("ip", "");
  const std::string network = std::to_string(nics[0].value("network_id", 0));
  CliResult<json> net = client->get("/v1/networks/" + network);
  if (!net) return fail(std::move(net.error()));
  const std::string netns = (*net)["network"].value("namespace", "");
  if (netns.empty() || ip.empty()) {
    return fail(not_reached_failure("network " + network +
                                    " is not reachable from this machine (no namespace)"));
  }
  CliResult<SshKey> key = user_ssh_key();
  if (!key) return fail(std::move(key.error()));
  const std::string known_hosts = (config_dir() / "known_hosts").string();
  // Addresses are reused (a killed VM's goes to the next one) and every guest makes its own
  // host key: the key is remembered for this VM (its namespace, id and creation time), so a
  // new VM on an old address is not taken for an impostor, and a changed key on the same VM
  // still is.
  std::string created = vm->value("created_at", "");
  std::erase_if(created, [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); });
  const std::string alias = netns + "-vm" + id + "-" + created;
  std::vector<std::string> with_alias = {"-o", "HostKeyAlias=" + alias};
  with_alias.insert(with_alias.end(), extra.begin(), extra.end());
  const std::vector<std::string> args =
      ssh_argv(netns, key->private_path, known_hosts, ip, with_alias);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  return fail(not_reached_failure(std::string("cannot run ip netns exec ... ssh: ") +
                                  std::strerror(errno)));
}

}  // namespace

CliResult<SshKey> user_ssh_key() {
  const fs::path own = fs::path(home()) / ".ssh" / "id_ed25519";
  if (fs::exists(own) && fs::exists(own.string() + ".pub")) {
    if (std::optional<std::string> line = first_line(own.string() + ".pub")) {
      return SshKey{own.string(), *line};
    }
  }
  const fs::path ours = config_dir() / "id_ed25519";
  if (!fs::exists(ours) || !fs::exists(ours.string() + ".pub")) {
    std::error_code ec;
    fs::create_directories(ours.parent_path(), ec);
    fs::permissions(ours.parent_path(), fs::perms::owner_all, ec);
    fs::remove(ours, ec);
    fs::remove(ours.string() + ".pub", ec);
    if (spawn_and_wait({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "corral", "-f",
                        ours.string()}) != 0) {
      return fail(not_reached_failure("cannot make an ssh key with ssh-keygen at " + ours.string() +
                                      " (is openssh-client installed?)"));
    }
  }
  std::optional<std::string> line = first_line(ours.string() + ".pub");
  if (!line) return fail(not_reached_failure("cannot read " + ours.string() + ".pub"));
  return SshKey{ours.string(), *line};
}

std::vector<std::string> ssh_argv(const std::string& netns, const std::string& key_path,
                                  const std::string& known_hosts, const std::string& ip,
                                  const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"ip",
                                   "netns",
                                   "exec",
                                   netns,
                                   "ssh",
                                   "-i",
                                   key_path,
                                   "-o",
                                   "IdentitiesOnly=yes",
                                   "-o",
                                   "StrictHostKeyChecking=accept-new",
                                   "-o",
                                   "UserKnownHostsFile=" + known_hosts,
                                   "-o",
                                   "LogLevel=ERROR"};
  // Options first: ssh takes what follows the destination as the remote command.
  auto command = extra.begin();
  while (command != extra.end() && *command == "-o" && command + 1 != extra.end()) {
    argv.push_back(*command);
    argv.push_back(*(command + 1));
    command += 2;
  }
  argv.push_back("root@" + ip);
  argv.insert(argv.end(), command, extra.end());
  return argv;
}

void add_ssh_command(CLI::App& app, const Globals& globals) {
  auto id = std::make_shared<std::string>();
  auto extra = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand(
      "connect", "Log in to a VM over ssh as root (stratus-connect-instance); -- ARGS go to ssh");
  cmd->add_option("id", *id, "VM id")->required();
  cmd->add_option("ssh_args", *extra, "After --: a command to run, or ssh options");
  set_command(cmd, "corral connect",
              [globals, id, extra] { return run_connect(*globals, *id, *extra); });
}

}  // namespace corral::cli
