#include "cli/server_command.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/server.h"
#include "audit/audit_log.h"
#include "cli/network_setup.h"
#include "cli/qemu_setup.h"
#include "cli/server_cluster.h"
#include "cli/server_identity.h"
#include "cli/server_tls.h"
#include "cluster/pki.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "compat/azure/front.h"
#include "compat/openstack/front.h"
#include "controller/agent_registry.h"
#include "controller/cluster_server.h"
#include "controller/remote_services.h"
#include "daemon/daemon.h"
#include "driver/fabric_router.h"
#include "driver/host_router.h"
#include "driver/sim/sim_driver.h"
#include "engine/engine.h"
#include "lifecycle/net_table.h"
#include "lifecycle/types.h"
#include "net/local_fabric.h"
#include "storage/file_datastore.h"
#include "storage/volume_worker.h"
#include "store/store.h"
#include "web/dashboard.h"

namespace corral::cli {
namespace {

namespace lc = corral::lifecycle;

constexpr int kExitOk = 0;
constexpr int kExitCannotStart = 1;
constexpr int kExitUsage = 2;

struct ServerOptions {
  std::string listen = "127.0.0.1:8780";
  bool plain_http = false;  // loopback only (server_tls.h)
  bool no_auth = false;     // with --plain-http only: every request acts as the local admin
  std::string data_dir = "./var";
  std::string driver = "auto";
  std::string accel = "auto";
  double shutdown_timeout_s = 30;
  std::string shutdown_fallback = "poweroff";
  double unplug_timeout_s = 20;
  double monitor_interval_s = 2;
  std::string drift_policy = "opennebula";
  std::string missing_state = "unknown";
  double rate_limit = 5000;
  double rate_burst = 10000;
  double token_rate_limit = 500;
  double token_rate_burst = 1000;
  double project_rate_limit = 1000;
  double project_rate_burst = 2000;
  int sim_hosts = 4;
  std::string sim_profile = "fast";
  std::vector<std::string> sim_images;  // empty: the sim takes any image name
  std::string default_network;          // a CIDR: create the network "default" if there is none
  std::string volume_dir;               // empty: <data dir>/volumes
  bool volume_dir_shared = false;
  std::vector<std::string> phase_deadlines;
  double default_deadline_s = 300;
  bool no_schedule = false;
  std::string log_level = "info";
  std::string admin_password_file;  // the first admin's password; empty: a new one, printed
  ClusterFlags cluster;
};

int usage(const std::string& message) {
  std::fprintf(stderr, "corral server: %s\n", message.c_str());
  return kExitUsage;
}

int cannot_start(const std::string& message) {
  std::fprintf(stderr, "corral server: %s\n", message.c_str());
  log(LogLevel::kError, "start_failed", {{"reason", message}});
  return kExitCannotStart;
}

// "ACTION[.PHASE]=SECONDS" into the engine's deadlines.
std::optional<std::string> add_deadline(const std::string& spec, engine::EngineOptions& options) {
  const std::size_t eq = spec.find('=');
  if (eq == std::string::npos)
    return "--phase-deadline wants ACTION[.PHASE]=SECONDS, not '" + spec + "'";
  const std::string key = spec.substr(0, eq);
  const std::string seconds = spec.substr(eq + 1);
  const std::size_t dot = key.find('.');
  const std::string action_name = key.substr(0, dot);
  const std::optional<lc::Action> action = lc::parse_action(action_name);
  if (!action) return "unknown action '" + action_name + "' in --phase-deadline " + spec;
  lc::Phase phase = lc::Phase::kNone;
  if (dot != std::string::npos) {
    const std::string phase_name = key.substr(dot + 1);
    const std::optional<lc::Phase> p = lc::parse_phase(phase_name);
    if (!p) return "unknown phase '" + phase_name + "' in --phase-deadline " + spec;
    phase = *p;
  }
  char* end = nullptr;
  errno = 0;
  const double s = std::strtod(seconds.c_str(), &end);
  if (seconds.empty() || end != seconds.c_str() + seconds.size() || errno != 0 || !(s > 0) ||
      s > 86400.0 * 365) {
    return "--phase-deadline " + spec + ": SECONDS must be a positive number";
  }
  options.deadlines[{*action, phase}] = static_cast<Millis>(s * 1000);
  return std::nullopt;
}

int run_server(const ServerOptions& o) {
  if (Status logging = daemon::set_up_logging(o.log_level); !logging) {
    return usage(logging.error().message);
  }

  const std::string driver_name =
      o.driver == "auto" ? (qemu_installed() ? "qemu" : "sim") : o.driver;
  if (driver_name != "sim" && driver_name != "qemu") {
    return usage("unknown driver '" + o.driver + "' (auto, qemu or sim)");
  }
  const std::optional<daemon::HostPort> address = daemon::parse_host_port(o.listen);
  if (!address)
    return usage("--listen wants HOST:PORT (e.g. 127.0.0.1:8780), not '" + o.listen + "'");
  if (o.plain_http) {
    if (std::optional<std::string> refusal = plain_http_refusal(address->host))
      return usage(*refusal);
  }
  if (o.no_auth && !o.plain_http) {
    return usage("--no-auth needs --plain-http (a loopback address only)");
  }
  if (o.sim_hosts < 1 || o.sim_hosts > 10000) return usage("--sim-hosts must be 1 to 10000");
  if (!(o.default_deadline_s > 0)) return usage("--default-deadline must be a positive number");

  engine::EngineOptions engine_options;
  engine_options.default_phase_deadline_ms = static_cast<Millis>(o.default_deadline_s * 1000);
  engine_options.auto_schedule = !o.no_schedule;
  for (const std::string& spec : o.phase_deadlines) {
    if (std::optional<std::string> bad = add_deadline(spec, engine_options)) return usage(*bad);
  }
  if (std::optional<std::string> bad = apply_cluster_flags(o.cluster, engine_options)) {
    return usage(*bad);
  }
  for (const auto& [flag, text] : {std::pair{"--agent-listen", &o.cluster.agent_listen},
                                   std::pair{"--join-listen", &o.cluster.join_listen}}) {
    if (!daemon::parse_host_port(*text)) {
      return usage(std::string(flag) + " wants HOST:PORT, not '" + *text + "'");
    }
  }
  Result<lc::DriftPolicy> policy = lc::parse_drift_policy(o.drift_policy);
  if (!policy) return usage(policy.error().message);
  engine_options.drift.policy = *policy;
  engine_options.drift.missing_state =
      o.missing_state == "poweroff" ? lc::State::kPoweroff : lc::State::kUnknown;
  if (!(o.rate_limit >= 0) || !(o.rate_burst >= 1)) {
    return usage("--rate-limit must be 0 (no limit) or more, --rate-burst 1 or more");
  }
  if (!(o.token_rate_limit >= 0) || !(o.token_rate_burst >= 1) || !(o.project_rate_limit >= 0) ||
      !(o.project_rate_burst >= 1)) {
    return usage(
        "--token-rate-limit and --project-rate-limit must be 0 (no limit) or more, their "
        "bursts 1 or more");
  }
  if (!(o.monitor_interval_s >= 0.1 && o.monitor_interval_s <= 3600)) {
    return usage("--monitor-interval must be 0.1 to 3600 seconds");
  }
  Result<driver::sim::SimOptions> sim_options = driver::sim::parse_sim_profile(o.sim_profile);
  if (!sim_options) return usage(sim_options.error().message);
  sim_options->host_count = o.sim_hosts;
  sim_options->images = o.sim_images;

  // Before any thread starts (the audit log's writer is the first): the threads inherit the
  // blocked signals, so a SIGTERM reaches the orderly stop instead of killing the process.
  daemon::StopSignals stop_signals(kExitCannotStart);

  if (Status dir = daemon::prepare_data_dir(o.data_dir); !dir) {
    return cannot_start(dir.error().message);
  }
  Result<daemon::DataDirLock> lock = daemon::DataDirLock::acquire(o.data_dir, "corral server");
  if (!lock) return cannot_start(lock.error().message);
  const std::string db_path = (std::filesystem::path(o.data_dir) / "corral.db").string();
  Result<std::unique_ptr<store::Store>> store = store::open_sqlite_store(db_path);
  if (!store) return cannot_start(store.error().message);
  SystemClock identity_clock;
  Result<std::unique_ptr<auth::Identity>> identity =
      open_identity(db_path, o.data_dir, o.admin_password_file, identity_clock);
  if (!identity) return cannot_start(identity.error().message);
  // Its own database: a second writer on corral.db would make the engine's commits wait.
  Result<std::unique_ptr<audit::AuditLog>> audit_log =
      audit::AuditLog::open((std::filesystem::path(o.data_dir) / "audit.db").string());
  if (!audit_log) return cannot_start(audit_log.error().message);
  // Audit entries of accepted VM changes ride the engine's batches in corral.db's outbox; what
  // a stop left there is copied in first, then the engine hands over each commit's entries
  // and deletes them once copied (audit/audit_log.h, copy_from_outbox).
  {
    Result<std::vector<store::AuditOutboxRow>> left =
        (*store)->audit_outbox((*audit_log)->copied());
    if (!left) return cannot_start(left.error().message);
    if (!left->empty()) {
      log(LogLevel::kInfo, "audit",
          {{"msg", "copying audit entries left in the outbox"},
           {"count", std::to_string(left->size())}});
    }
    (*audit_log)->copy_from_outbox(std::move(*left));
  }
  engine_options.audit_sink = [audit = audit_log->get()](std::vector<store::AuditOutboxRow> rows) {
    audit->copy_from_outbox(std::move(rows));
  };
  engine_options.audit_copied = [audit = audit_log->get()] { return audit->copied(); };
  MetricsRegistry metrics;  // GET /metrics
  engine_options.metrics = &metrics;

  SystemClock clock;
  // The cluster CA signs the API's certificate as well as the agents' ports' and the agents'.
  Result<cluster::CertificateAuthority> ca = cluster::CertificateAuthority::load_or_create(
      std::filesystem::path(o.data_dir) / "cluster", clock);
  if (!ca) return cannot_start(ca.error().message);
  std::optional<api::TlsIdentity> api_tls;
  if (!o.plain_http) {
    Result<api::TlsIdentity> issued = issue_api_certificate(*ca, o.data_dir, address->host);
    if (!issued) return cannot_start(issued.error().message);
    api_tls = std::move(*issued);
  }
  // Real VMs get real networks: built in namespaces named after the cluster's CA (src/net).
  // The sim's networks are data only.
  std::unique_ptr<net::LocalFabric> fabric;
  std::optional<net::FabricNames> fabric_names;
  if (driver_name == "qemu") {
    fabric_names = net::FabricNames{cluster8_of(ca->fingerprint())};
    fabric = std::make_unique<net::LocalFabric>(
        *fabric_names, (std::filesystem::path(o.data_dir) / "networks").string());
  }

  std::unique_ptr<driver::Driver> driver;
  driver::sim::SimDriver* sim = nullptr;
  if (driver_name == "qemu") {
    QemuSetup setup;
    setup.data_dir = o.data_dir;
    setup.accel = o.accel;
    setup.shutdown_timeout_s = o.shutdown_timeout_s;
    setup.shutdown_fallback = o.shutdown_fallback;
    setup.unplug_timeout_s = o.unplug_timeout_s;
    setup.monitor_interval_s = o.monitor_interval_s;
    setup.warn = [](const std::string& text) { log(LogLevel::kWarn, "qemu", {{"msg", text}}); };
    setup.info = [](const std::string& text) { log(LogLevel::kInfo, "qemu", {{"msg", text}}); };
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "local");
    // Before a tap opens, the host's newest firewall job is applied (local_fabric.h).
    setup.open_tap = tap_opener(
        *fabric_names, host,
        [local = fabric.get(), name = std::string(host)] { return local->apply_latest(name); });
    Result<std::unique_ptr<driver::qemu::QemuDriver>> qemu = make_qemu_driver(setup);
    if (!qemu) {
      return qemu.error().code == ErrorCode::kInvalidArgument ? usage(qemu.error().message)
                                                              : cannot_start(qemu.error().message);
    }
    log(LogLevel::kInfo, "qemu",
        {{"accel", (*qemu)->config().accel}, {"images", (*qemu)->image_store().dir()}});
    driver = std::move(*qemu);
  } else {
    auto simulated = std::make_unique<driver::sim::SimDriver>(*sim_options);
    sim = simulated.get();
    driver = std::move(simulated);
  }
  // The engine drives local hosts through the in-process driver and the others through their
  // agents' streams (driver/host_router.h).
  driver::HostRouter router(*driver);
  // Likewise the hosts' firewalls: the local host's in-process, agent hosts' by their agents.
  std::unique_ptr<driver::FabricRouter> fabric_router;
  if (fabric) {
    fabric_router = std::make_unique<driver::FabricRouter>(
        *fabric, [&router](const std::string& host) { return router.is_local(host); });
  }
  engine::Engine engine(**store, router, clock, engine_options);
  api::ServerOptions server_options;
  server_options.tls = std::move(api_tls);
  server_options.identity = identity->get();
  if (o.no_auth) {
    Result<auth::Principal> local_admin = local_admin_principal(**identity, o.data_dir);
    if (!local_admin) return cannot_start(local_admin.error().message);
    local_admin->token = 0;  // no token is read, so none can be revoked through it
    server_options.no_auth = std::move(*local_admin);
    std::printf(
        "corral: --no-auth: every request on %s acts as the cloud admin %s (no token read)\n",
        o.listen.c_str(), server_options.no_auth->user_name.c_str());
  }
  server_options.audit = audit_log->get();
  server_options.metrics = &metrics;
  server_options.rate_limit = o.rate_limit;
  server_options.rate_burst = o.rate_burst;
  server_options.token_rate_limit = o.token_rate_limit;
  server_options.token_rate_burst = o.token_rate_burst;
  server_options.project_rate_limit = o.project_rate_limit;
  server_options.project_rate_burst = o.project_rate_burst;
  // POST /v1/hosts answers with a join token once the cluster server below has started.
  ClusterJoin join;
  server_options.host_join = &join;
  // Images and consoles of agent hosts are asked of their agents once the cluster server runs.
  controller::AgentHostServices agent_hosts(
      [&router](std::string_view host) { return router.is_local(std::string(host)); });
  server_options.remote_hosts = &agent_hosts;
  if (fabric) {
    fabric_router->start(&engine);
    engine.set_network_fabric(fabric_router.get());
    server_options.network_namespace = fabric->netns();
  }
  // Volumes are files in one datastore directory (storage/file_datastore.h), made, grown and
  // copied off the engine's thread.
  const std::string volume_dir = o.volume_dir.empty()
                                     ? (std::filesystem::path(o.data_dir) / "volumes").string()
                                     : o.volume_dir;
  std::error_code volume_dir_error;
  std::filesystem::create_directories(volume_dir, volume_dir_error);
  Result<std::unique_ptr<storage::FileDatastore>> datastore = storage::FileDatastore::open(
      std::filesystem::absolute(volume_dir).string(), o.volume_dir_shared);
  if (!datastore) return cannot_start("--volume-dir: " + datastore.error().message);
  if (Result<int> swept = (*datastore)->recover(); !swept) {
    return cannot_start("--volume-dir: " + swept.error().message);
  }
  storage::VolumeWorker volume_worker(**datastore);
  volume_worker.start(&engine);
  engine.set_volume_storage(&volume_worker);
  // Nova's, Keystone's and Glance's words on the same port (docs/openstack.md).
  compat::openstack::OpenStackFrontEnd openstack;
  server_options.front_ends.push_back(&openstack);
  // Azure Resource Manager's words for `az` (docs/azure.md).
  compat::azure::AzureFrontEnd azure;
  server_options.front_ends.push_back(&azure);
  // The web dashboard at / (docs/dashboard.md).
  web::DashboardFrontEnd dashboard;
  server_options.front_ends.push_back(&dashboard);
  api::Server server(engine, router, sim, server_options);

  if (Status bound = server.bind(address->host, address->port); !bound) {
    return cannot_start(bound.error().message);
  }
  if (Status started = engine.start(); !started) {
    return cannot_start("cannot start the engine: " + started.error().message);
  }
  if (!o.default_network.empty() && !engine.network("default")) {
    // Shared (Neutron's shared network): every project's VMs attach to it, as `corral run`
    // does by default; only the cloud's admin changes or deletes it.
    Result<engine::NetworkDetail> made = engine.create_network(
        {"default", o.default_network, store::kAdminProjectId, true, "made at the first start"});
    if (!made) {
      engine.stop();
      return usage("--default-network: " + made.error().message);
    }
    std::printf("corral: created the network default (%s), gateway %s\n", made->row.cidr.c_str(),
                made->gateway.c_str());
  }
  // After the engine: an agent admitted at once reaches a running engine.
  controller::EngineRegistry registry(engine);
  controller::ClusterServerOptions cluster_options;
  cluster_options.dir = std::filesystem::path(o.data_dir) / "cluster";
  cluster_options.agent_listen = o.cluster.agent_listen;
  cluster_options.join_listen = o.cluster.join_listen;
  cluster_options.agents.ping_interval_ms = engine_options.hosts.heartbeat_interval_ms;
  Result<std::unique_ptr<controller::ClusterServer>> cluster =
      controller::ClusterServer::start(cluster_options, registry, router.remote_sink(), clock);
  if (!cluster) {
    engine.stop();
    return cannot_start(cluster.error().message);
  }
  router.set_remote(&(*cluster)->agents());
  if (fabric_router) {
    (*cluster)->agents().set_firewall_sink(&fabric_router->remote_sink());
    fabric_router->set_remote(&(*cluster)->agents());  // with the jobs the engine's start made
  }
  agent_hosts.attach(&(*cluster)->agents());
  join.attach(cluster->get());
  const daemon::HostPort actual{address->host, server.port()};

  // The first signal stops the server cleanly; a second one ends the process at once.
  stop_signals.watch([&server] { server.stop(); });

  // A `corral run` typed as soon as the server says it listens should find the default network
  // READY, not refused as LOCK_CREATE: wait, bounded, while the fabric builds it (a bridge and
  // a dnsmasq: well under a second here). A network an agent host builds may take longer; the
  // server serves anyway after the bound, and the network shows its state.
  for (int waited_ms = 0; waited_ms < 10'000; waited_ms += 20) {
    const std::optional<engine::NetworkDetail> net = engine.network("default");
    if (!net || net->row.state != lifecycle::NetworkState::kLockCreate) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  log(LogLevel::kInfo, "listening",
      {{"addr", actual.text()},
       {"scheme", server.scheme()},
       {"data_dir", o.data_dir},
       {"driver", driver->name()},
       {"sim_hosts", std::to_string(o.sim_hosts)},
       {"sim_profile", o.sim_profile},
       {"schedule", o.no_schedule ? "off" : "on"},
       {"drift_policy", o.drift_policy},
       {"missing_state", o.missing_state},
       {"monitor_interval_s", std::to_string(o.monitor_interval_s)},
       {"agent_addr", (*cluster)->agent_address()},
       {"join_addr", (*cluster)->join_address()}});
  std::printf("corral: listening on %s://%s (data dir %s, driver %s)\n", server.scheme(),
              actual.text().c_str(), o.data_dir.c_str(), driver->name().c_str());
  if (!o.plain_http) {
    print_tls_lines(client_url(server.scheme(), address->host, server.port()), ca->cert_path(),
                    o.data_dir);
  }
  std::printf("corral: the web dashboard: %s/ (log in with a user's name and password)\n",
              client_url(server.scheme(), address->host, server.port()).c_str());
  std::printf("corral: agents connect to %s, join at %s\n", (*cluster)->agent_address().c_str(),
              (*cluster)->join_address().c_str());
  if (fabric) {
    std::printf(
        "corral: VM networks are reached from namespace %s (ip netns exec %s ssh root@IP)\n",
        fabric->netns().c_str(), fabric->netns().c_str());
  }
  std::fflush(stdout);

  const Status served = server.run();
  stop_signals.finish();
  // Agents first: no stream calls into the engine once it stops.
  router.set_remote(nullptr);
  if (fabric_router) fabric_router->set_remote(nullptr);
  agent_hosts.attach(nullptr);
  join.attach(nullptr);
  (*cluster)->stop();
  engine.stop();
  volume_worker.stop();
  if (fabric) fabric_router->stop();  // the networks stay up for the next start, as Neutron's do
  if (!served) return cannot_start(served.error().message);
  log(LogLevel::kInfo, "stopped", {{"addr", actual.text()}});
  return kExitOk;
}

}  // namespace

void add_server_command(CLI::App& app) {
  auto options = std::make_shared<ServerOptions>();
  CLI::App* cmd = app.add_subcommand("server", "Run the controller: engine, store and HTTPS API");
  cmd->add_option("--listen", options->listen,
                  "Address to serve the API on (HOST:PORT), over HTTPS with a certificate from "
                  "the cluster CA <data-dir>/cluster/ca.crt (kept in <data-dir>/api/)")
      ->capture_default_str();
  cmd->add_flag("--plain-http", options->plain_http,
                "Serve the API over plain HTTP instead of HTTPS: refused unless --listen is a "
                "loopback address (127.0.0.1, ::1, localhost)");
  cmd->add_flag("--no-auth", options->no_auth,
                "Read no token: every request acts as the local admin (<data-dir>/admin.token's "
                "user). With --plain-http only; for benchmarks measuring what auth costs");
  cmd->add_option("--data-dir", options->data_dir, "Where the store (corral.db) lives")
      ->capture_default_str();
  cmd->add_option("--admin-password-file", options->admin_password_file,
                  "First start only: the password of the user admin, read from this file "
                  "(default: a new one, printed once)");
  cmd->add_option("--driver", options->driver,
                  "Hypervisor driver: qemu, sim, or auto (qemu when qemu-system-x86_64 is "
                  "installed)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "qemu", "sim"}));
  cmd->add_option("--accel", options->accel,
                  "qemu: accelerator kvm, tcg, or auto (kvm if a probe guest runs under it)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}));
  cmd->add_option("--shutdown-timeout", options->shutdown_timeout_s,
                  "qemu: seconds a guest has to power off after the ACPI power button")
      ->capture_default_str();
  cmd->add_option("--unplug-timeout", options->unplug_timeout_s,
                  "qemu: seconds a guest has to let go of a device being detached (device_del "
                  "only asks); then the detach fails and the device stays")
      ->capture_default_str();
  cmd->add_option("--shutdown-fallback", options->shutdown_fallback,
                  "qemu: when a guest ignores ACPI, poweroff (pull the plug) or fail (back to "
                  "RUNNING with the reason, as OpenNebula)")
      ->capture_default_str()
      ->check(CLI::IsMember({"poweroff", "fail"}));
  cmd->add_option("--monitor-interval", options->monitor_interval_s,
                  "qemu: seconds between two checks of an idle VM's QEMU (query-status)")
      ->capture_default_str();
  cmd->add_option("--drift-policy", options->drift_policy,
                  "What a change behind Corral's back does to an idle VM: opennebula (the "
                  "hypervisor's view becomes the state) or nova (the state stays; a guest that "
                  "shut itself down is stopped, a stopped VM found running is powered off)")
      ->capture_default_str()
      ->check(CLI::IsMember({"opennebula", "nova"}));
  cmd->add_option("--missing-state", options->missing_state,
                  "opennebula policy: the state of a VM its hypervisor no longer has, unknown "
                  "or poweroff (OpenNebula's MISSING_STATE)")
      ->capture_default_str()
      ->check(CLI::IsMember({"unknown", "poweroff"}));
  cmd->add_option("--rate-limit", options->rate_limit,
                  "Requests a second per client address after a burst; more get 429 "
                  "rate_limited (0: no limit; /healthz is never limited)")
      ->capture_default_str();
  cmd->add_option("--rate-burst", options->rate_burst,
                  "Requests a client address may send at once before --rate-limit applies")
      ->capture_default_str();
  cmd->add_option("--token-rate-limit", options->token_rate_limit,
                  "Requests a second per API token after a burst (the cloud admin's are not "
                  "limited; 0: no limit)")
      ->capture_default_str();
  cmd->add_option("--token-rate-burst", options->token_rate_burst,
                  "Requests one token may send at once before --token-rate-limit applies")
      ->capture_default_str();
  cmd->add_option("--project-rate-limit", options->project_rate_limit,
                  "Requests a second per project, all its tokens together (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--project-rate-burst", options->project_rate_burst,
                  "Requests one project may send at once before --project-rate-limit applies")
      ->capture_default_str();
  cmd->add_option("--sim-hosts", options->sim_hosts, "Simulated hosts (sim-1 .. sim-N)")
      ->capture_default_str();
  cmd->add_option("--default-network", options->default_network,
                  "Create the network \"default\" with this IPv4 range if it does not exist "
                  "(make run: 10.77.0.0/24)");
  cmd->add_option("--volume-dir", options->volume_dir,
                  "Where volumes' files are kept (default: DATA_DIR/volumes)");
  cmd->add_flag("--volume-dir-shared", options->volume_dir_shared,
                "--volume-dir is mounted at the same path on every host (NFS, a cluster "
                "filesystem): volumes follow their VMs when they migrate");
  cmd->add_option("--sim-profile", options->sim_profile,
                  "Simulated latencies: zero, fast or realistic")
      ->capture_default_str()
      ->check(CLI::IsMember({"zero", "fast", "realistic"}, CLI::ignore_case));
  cmd->add_option("--sim-images", options->sim_images,
                  "Images the sim driver has (a comma-separated list; default: it takes any name)")
      ->delimiter(',');
  cmd->add_option("--phase-deadline", options->phase_deadlines,
                  "ACTION[.PHASE]=SECONDS, a phase's deadline (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--default-deadline", options->default_deadline_s,
                  "Deadline of every other phase, in seconds")
      ->capture_default_str();
  cmd->add_flag("--no-schedule", options->no_schedule,
                "Do not place PENDING VMs on hosts automatically");
  cmd->add_option("--log-level", options->log_level,
                  "debug (adds one line per request), info "
                  "or warn")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  add_cluster_flags(*cmd, options->cluster);
  cmd->callback([options] { throw CLI::RuntimeError(run_server(*options)); });
}

}  // namespace corral::cli
