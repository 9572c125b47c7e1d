#include "cli/agent_command.h"

#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/metrics.h"
#include "cli/network_setup.h"
#include "cli/qemu_setup.h"
#include "cli/sim_hosts.h"
#include "common/clock.h"
#include "common/log.h"
#include "daemon/daemon.h"
#include "driver/sim/sim_driver.h"

namespace corral::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFatal = 1;
constexpr int kExitUsage = 2;

struct AgentFlags {
  std::string controller;
  std::string join_address;
  std::string join_token;
  std::string data_dir = "./var-agent";
  std::string driver = "qemu";
  std::vector<std::string> labels;
  std::string sim_profile = "fast";
  std::string accel = "auto";
  double shutdown_timeout_s = 30;
  std::string shutdown_fallback = "poweroff";
  double unplug_timeout_s = 20;
  double monitor_interval_s = 2;
  std::string migration_address = "127.0.0.1";
  std::string shared_dir;
  std::string transfer_listen;    // "": <migration-address>:0
  double transfer_bandwidth = 0;  // MiB/s, 0: unlimited
  std::string log_level = "info";
  // sim: capacity each simulated host reports (0: this machine's).
  int sim_vcpus = 0;
  std::int64_t sim_memory_mib = 0;
  // --sim-hosts: N simulated hosts in this process (sim_hosts.h).
  int sim_hosts = 0;
  std::string name_prefix = "sim";
  std::string api;
  std::string ca_cert;  // the CA an https:// --api is verified with (sim_hosts.h)
  std::vector<std::string> sim_fail;
  // Rehearsal only (the sim): PHASE=MS latency overrides and faults (JSON, as
  // POST /v1/admin/faults takes them) this agent's sim starts with.
  std::vector<std::string> sim_latency;
  std::vector<std::string> sim_faults;
};

int usage(const std::string& message) {
  std::fprintf(stderr, "corral agent: %s\n", message.c_str());
  return kExitUsage;
}

int fatal(const std::string& message) {
  std::fprintf(stderr, "corral agent: %s\n", message.c_str());
  log(LogLevel::kError, "fatal", {{"reason", message}});
  return kExitFatal;
}

int run_agent(const AgentFlags& f) {
  if (Status logging = daemon::set_up_logging(f.log_level); !logging) {
    return usage(logging.error().message);
  }
  const std::optional<daemon::HostPort> controller = daemon::parse_host_port(f.controller);
  if (!controller || controller->port == 0) {
    return usage("--controller wants HOST:PORT of the controller's agent port, not '" +
                 f.controller + "'");
  }
  // The join port: given, or the agent port's host with the default join port.
  std::optional<daemon::HostPort> join =
      daemon::parse_host_port(f.join_address.empty() ? controller->host + ":8782" : f.join_address);
  if (!join || join->port == 0) {
    return usage("--join-address wants HOST:PORT of the controller's join port, not '" +
                 f.join_address + "'");
  }
  std::map<std::string, std::string> labels;
  for (const std::string& l : f.labels) {
    const std::size_t eq = l.find('=');
    if (eq == std::string::npos || eq == 0)
      return usage("--label wants KEY=VALUE, not '" + l + "'");
    labels[l.substr(0, eq)] = l.substr(eq + 1);
  }
  Result<driver::sim::SimOptions> sim_options = driver::sim::parse_sim_profile(f.sim_profile);
  if (!sim_options) return usage(sim_options.error().message);
  sim_options->host_count = 1;
  if ((!f.sim_latency.empty() || !f.sim_faults.empty()) && f.driver != "sim") {
    return usage("--sim-latency and --sim-fault are for --driver sim");
  }
  for (const std::string& spec : f.sim_latency) {
    const std::size_t eq = spec.find('=');
    const std::optional<lifecycle::Phase> phase =
        eq == std::string::npos ? std::nullopt : lifecycle::parse_phase(spec.substr(0, eq));
    int ms = -1;
    if (eq != std::string::npos) {
      const std::string value = spec.substr(eq + 1);
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (ec != std::errc() || end != value.data() + value.size()) ms = -1;
    }
    if (!phase || ms < 0) return usage("--sim-latency wants PHASE=MS, not '" + spec + "'");
    sim_options->phase_latency[*phase] = std::chrono::milliseconds(ms);
  }
  std::vector<driver::sim::Fault> sim_faults;
  for (const std::string& spec : f.sim_faults) {
    const nlohmann::json json = nlohmann::json::parse(spec, nullptr, false);
    Result<driver::sim::Fault> fault = driver::sim::parse_fault(json);
    if (json.is_discarded() || !fault) {
      return usage(
          "--sim-fault wants a fault as JSON ({\"kind\": \"hang\", \"action\": ..., "
          "\"phase\": ...}), not '" +
          spec + "'" + (fault ? "" : ": " + fault.error().message));
    }
    sim_faults.push_back(std::move(*fault));
  }

  std::optional<agent::v1::Capacity> capacity;
  if (f.sim_vcpus > 0 || f.sim_memory_mib > 0) {
    if (f.driver != "sim") return usage("--sim-vcpus and --sim-memory-mib are for --driver sim");
    const agent::v1::Capacity machine = agent::read_capacity();
    capacity.emplace(machine);
    if (f.sim_vcpus > 0) capacity->set_vcpus(f.sim_vcpus);
    if (f.sim_memory_mib > 0) capacity->set_memory_mib(f.sim_memory_mib);
  }
  std::vector<SimFailure> failures;
  if (f.sim_hosts > 0) {
    if (f.driver != "sim") return usage("--sim-hosts wants --driver sim");
    if (!f.join_token.empty()) {
      return usage(
          "--sim-hosts joins each host with a token of its own: give --api URL, not --join");
    }
    for (const std::string& spec : f.sim_fail) {
      Result<SimFailure> failure = parse_sim_failure(spec);
      if (!failure) return usage(failure.error().message);
      failures.push_back(std::move(*failure));
    }
  } else if (!f.sim_fail.empty() || !f.api.empty() || !f.ca_cert.empty()) {
    return usage("--sim-fail, --api and --ca-cert are for --sim-hosts");
  }

  if (Status dir = daemon::prepare_data_dir(f.data_dir); !dir) return fatal(dir.error().message);
  Result<daemon::DataDirLock> lock = daemon::DataDirLock::acquire(f.data_dir, "corral agent");
  if (!lock) return fatal(lock.error().message);

  // Before any thread starts: the threads inherit the blocked signals.
  daemon::StopSignals stop_signals(kExitFatal);

  if (f.sim_hosts > 0) {
    // One TLS connection per host, on each side: more files than the default soft limit.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
      files.rlim_cur = files.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &files);
    }
    SimHostsSettings settings;
    settings.count = f.sim_hosts;
    settings.prefix = f.name_prefix;
    settings.data_dir = f.data_dir;
    settings.api_url = f.api;
    settings.api_ca_cert = f.ca_cert;
    settings.agent.controller_host = controller->host;
    settings.agent.controller_port = controller->port;
    settings.agent.join = {join->host, join->port, ""};
    settings.agent.agent_version = CORRAL_AGENT_VERSION;
    settings.agent.labels = labels;
    settings.agent.capacity = capacity;
    // A tick of each host's lease thread costs a wakeup: at 100 ms, N hosts cost 10 N a second,
    // most of the process's CPU. Half a second is still well inside the controller's lease
    // margin (2 s by default), which is what the tick's delay has to stay under.
    settings.agent.lease_tick_ms = 500;
    settings.sim = *sim_options;
    settings.failures = std::move(failures);
    SystemClock clock;
    agent::BootClock lease_clock;
    SimHosts hosts(std::move(settings), clock, lease_clock);
    stop_signals.watch([&hosts] { hosts.stop(); });
    log(LogLevel::kInfo, "agent_starting",
        {{"controller", controller->text()},
         {"join_address", join->text()},
         {"data_dir", f.data_dir},
         {"driver", "sim"},
         {"sim_hosts", std::to_string(f.sim_hosts)}});
    const int code = hosts.run();
    stop_signals.finish();
    if (code != kExitOk) return fatal(hosts.fatal_message());
    log(LogLevel::kInfo, "stopped", {});
    return kExitOk;
  }

  // Cold migrations' files travel agent to agent (agent/transfer_files.h), beside the
  // migration traffic by default.
  agent::TransferSettings transfer_settings;
  std::error_code abs_error;
  transfer_settings.data_dir = std::filesystem::absolute(f.data_dir, abs_error).lexically_normal();
  transfer_settings.bandwidth_mib_s = f.transfer_bandwidth;
  transfer_settings.listen =
      f.transfer_listen.empty() ? f.migration_address + ":0" : f.transfer_listen;
  SystemClock transfer_clock;
  auto transfer = std::make_shared<agent::AgentTransfer>(transfer_settings, transfer_clock);

  std::unique_ptr<driver::Driver> driver;
  // Security groups (agent/firewall.h): the qemu driver's taps are filtered in this host's
  // namespace; the sim's VMs have none.
  std::shared_ptr<agent::HostFirewallWorker> firewall;
  if (f.driver == "qemu") {
    firewall = std::make_shared<agent::HostFirewallWorker>(
        agent_firewall_applier(transfer_settings.data_dir));
    QemuSetup setup;
    setup.data_dir = f.data_dir;
    setup.accel = f.accel;
    setup.shutdown_timeout_s = f.shutdown_timeout_s;
    setup.shutdown_fallback = f.shutdown_fallback;
    setup.unplug_timeout_s = f.unplug_timeout_s;
    setup.monitor_interval_s = f.monitor_interval_s;
    setup.migration_address = f.migration_address;
    setup.shared_dir = f.shared_dir;
    setup.fetch_files = transfer->fetcher();
    // NICs as taps in this host's namespace of the cluster's fabric (docs/networks.md); host and
    // cluster come from the identity, which the first start stores only once it has joined.
    // Each tap opens after the host's newest firewall is applied, its own NIC listed.
    setup.open_tap = agent_tap_opener(transfer_settings.data_dir,
                                      [firewall] { return firewall->apply_latest(); });
    setup.warn = [](const std::string& text) { log(LogLevel::kWarn, "qemu", {{"msg", text}}); };
    setup.info = [](const std::string& text) { log(LogLevel::kInfo, "qemu", {{"msg", text}}); };
    Result<std::unique_ptr<driver::qemu::QemuDriver>> qemu = make_qemu_driver(setup);
    if (!qemu) {
      return qemu.error().code == ErrorCode::kInvalidArgument ? usage(qemu.error().message)
                                                              : fatal(qemu.error().message);
    }
    driver = std::move(*qemu);
  } else {
    auto sim = std::make_unique<driver::sim::SimDriver>(*sim_options);
    for (driver::sim::Fault& fault : sim_faults) sim->add_fault(std::move(fault));
    driver = std::move(sim);
  }

  agent::AgentOptions options;
  options.data_dir = f.data_dir;
  options.controller_host = controller->host;
  options.controller_port = controller->port;
  options.join = {join->host, join->port, f.join_token};
  options.agent_version = CORRAL_AGENT_VERSION;
  options.labels = labels;
  options.capacity = capacity;
  options.transfer = transfer;
  options.firewall = firewall;
  // The fence guard is this binary's hidden `fence-guard` command.
  std::error_code exe_error;
  options.fence_guard_binary = std::filesystem::read_symlink("/proc/self/exe", exe_error).string();
  SystemClock clock;
  agent::BootClock lease_clock;
  agent::Agent agent(*driver, clock, options, &lease_clock);
  stop_signals.watch([&agent] { agent.stop(); });
  log(LogLevel::kInfo, "agent_starting",
      {{"controller", controller->text()},
       {"join_address", join->text()},
       {"data_dir", f.data_dir},
       {"driver", driver->name()}});
  const int code = agent.run();
  stop_signals.finish();
  if (code != kExitOk) return fatal(agent.fatal_message());
  log(LogLevel::kInfo, "stopped", {});
  return kExitOk;
}

}  // namespace

void add_agent_command(CLI::App& app) {
  auto f = std::make_shared<AgentFlags>();
  CLI::App* cmd = app.add_subcommand(
      "agent", "Run a hypervisor host's agent: join a cluster and run the controller's phases");
  cmd->add_option("--controller", f->controller, "The controller's agent port (HOST:PORT)")
      ->required();
  cmd->add_option("--join-address", f->join_address,
                  "The controller's join port (HOST:PORT; default: the --controller host, port "
                  "8782)");
  cmd->add_option("--join", f->join_token,
                  "Join token from `corral host add NAME` (first start only; the certificate is "
                  "kept in --data-dir)");
  cmd->add_option("--data-dir", f->data_dir, "Where the identity and the VMs' files live")
      ->capture_default_str();
  cmd->add_option("--driver", f->driver, "Hypervisor driver: qemu or sim")
      ->capture_default_str()
      ->check(CLI::IsMember({"qemu", "sim"}));
  cmd->add_option("--label", f->labels, "KEY=VALUE for scheduling requirements (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--sim-profile", f->sim_profile, "sim: latencies zero, fast or realistic")
      ->capture_default_str()
      ->check(CLI::IsMember({"zero", "fast", "realistic"}, CLI::ignore_case));
  cmd->add_option("--sim-vcpus", f->sim_vcpus,
                  "sim: vCPUs each simulated host reports (default: this machine's)");
  cmd->add_option("--sim-memory-mib", f->sim_memory_mib,
                  "sim: MiB of memory each simulated host reports (default: this machine's)");
  cmd->add_option("--sim-hosts", f->sim_hosts,
                  "sim: run N simulated hosts in this process, each its own agent and identity "
                  "(<data-dir>/PREFIX-0001 ...)")
      ->check(CLI::Range(1, 100'000));
  cmd->add_option("--name-prefix", f->name_prefix,
                  "--sim-hosts: the hosts' names are PREFIX-0001, PREFIX-0002 ...")
      ->capture_default_str();
  cmd->add_option("--api", f->api,
                  "--sim-hosts: the controller's API (https://HOST:8780), to add the hosts "
                  "that have no identity yet and get their join tokens");
  cmd->add_option("--ca-cert", f->ca_cert,
                  "--sim-hosts: the CA an https:// --api is verified with (default: "
                  "CORRAL_CA_CERT, else the cluster CA of a host already joined, else "
                  "<CORRAL_DATA_DIR or ./var>/cluster/ca.crt)");
  cmd->add_option("--sim-fail", f->sim_fail,
                  "--sim-hosts: host=NAME,mode=kill|cut|restore[,after=10s] (repeatable); "
                  "also at run time: echo 'kill NAME' >> <data-dir>/sim-control")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--sim-latency", f->sim_latency,
                  "sim (rehearsal): PHASE=MS, how long that phase takes (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--sim-fault", f->sim_faults,
                  "sim (rehearsal): a fault as POST /v1/admin/faults takes it, as JSON, that "
                  "this agent's sim starts with (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--accel", f->accel, "qemu: kvm, tcg, or auto")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}));
  cmd->add_option("--shutdown-timeout", f->shutdown_timeout_s,
                  "qemu: seconds a guest has to power off after the ACPI power button")
      ->capture_default_str();
  cmd->add_option("--unplug-timeout", f->unplug_timeout_s,
                  "qemu: seconds a guest has to let go of a device being detached (device_del "
                  "only asks); then the detach fails and the device stays")
      ->capture_default_str();
  cmd->add_option("--shutdown-fallback", f->shutdown_fallback,
                  "qemu: when a guest ignores ACPI, poweroff or fail")
      ->capture_default_str()
      ->check(CLI::IsMember({"poweroff", "fail"}));
  cmd->add_option("--monitor-interval", f->monitor_interval_s,
                  "qemu: seconds between two checks of an idle VM's QEMU")
      ->capture_default_str();
  cmd->add_option("--migration-address", f->migration_address,
                  "qemu: the IPv4 address live migrations to this host listen on (the source "
                  "connects to it)")
      ->capture_default_str()
      ->check(CLI::ValidIPV4);
  cmd->add_option("--shared-dir", f->shared_dir,
                  "qemu: a directory every host mounts at the same path (shared storage): the "
                  "VMs' disks live there, so a live migration moves only memory");
  cmd->add_option("--transfer-listen", f->transfer_listen,
                  "host:port this agent serves cold migrations' files on (mutual TLS; port 0 "
                  "picks one; default: the migration address, port 0)");
  cmd->add_option("--transfer-bandwidth", f->transfer_bandwidth,
                  "MiB/s a cold migration's files may take of the link (0: all it can)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--log-level", f->log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cmd->callback([f] { throw CLI::RuntimeError(run_agent(*f)); });
}

}  // namespace corral::cli
