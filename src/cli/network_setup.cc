#include "cli/network_setup.h"

#include <cstdio>
#include <mutex>
#include <optional>
#include <utility>

#include "agent/identity.h"
#include "cluster/files.h"
#include "cluster/pki.h"
#include "common/log.h"
#include "daemon/data_dir.h"
#include "net/firewall.h"
#include "net/netns.h"
#include "store/store.h"

namespace corral::cli {

namespace fs = std::filesystem;

std::string cluster8_of(const std::string& ca_fingerprint) {
  return net::FabricNames::for_ca(ca_fingerprint).cluster8;
}

Result<net::FabricNames> fabric_names_of_ca(std::string_view ca_pem) {
  Result<std::string> fingerprint = cluster::fingerprint_of(ca_pem);
  if (!fingerprint) return fail(std::move(fingerprint.error()));
  return net::FabricNames{cluster8_of(*fingerprint)};
}

std::function<Result<int>(store::VmId, const driver::NicSpec&)> tap_opener(
    net::FabricNames names, std::string host, std::function<Status()> before_tap) {
  struct Shared {
    Shared(net::FabricNames n, const std::string& h) : node(std::move(n), h) {}
    std::mutex mu;
    net::HostNode node;
  };
  auto shared = std::make_shared<Shared>(std::move(names), host);
  return [shared, before_tap = std::move(before_tap)](store::VmId vm,
                                                      const driver::NicSpec& nic) -> Result<int> {
    std::lock_guard lock(shared->mu);
    if (before_tap) {
      if (Status made = shared->node.ensure_network(nic.network); !made) {
        return fail(std::move(made.error()));
      }
      if (Status done = before_tap(); !done) {
        log(LogLevel::kWarn, "firewall_before_tap",
            {{"vm", std::to_string(vm)},
             {"nic", std::to_string(nic.index)},
             {"error", done.error().message}});
      }
    }
    return shared->node.open_tap(vm, nic.index, nic.network);
  };
}

namespace {

struct HostFabric {
  net::FabricNames names;
  std::string host;
};

// The cluster's names and this agent's host, from the identity stored in `data_dir`.
Result<HostFabric> host_fabric_of(const fs::path& data_dir) {
  Result<wire::AgentIdentity> id = agent::load_identity(data_dir);
  if (!id) {
    return fail(Error{
        ErrorCode::kUnavailable, "no identity for this host yet: " + id.error().message, {}, {}});
  }
  Result<net::FabricNames> names = fabric_names_of_ca(id->ca_pem);
  if (!names) {
    return fail(Error{ErrorCode::kInternal,
                      "the cluster CA in " + agent::identity_dir(data_dir).string() + ": " +
                          names.error().message,
                      {},
                      {}});
  }
  return HostFabric{std::move(*names), id->host};
}

}  // namespace

std::function<Result<int>(store::VmId, const driver::NicSpec&)> agent_tap_opener(
    fs::path data_dir, std::function<Status()> before_tap) {
  struct Shared {
    fs::path data_dir;
    std::function<Status()> before_tap;
    std::mutex mu;
    // Made from the identity at the first tap; tap_opener's own lock is then uncontended.
    std::function<Result<int>(store::VmId, const driver::NicSpec&)> open;
  };
  auto shared = std::make_shared<Shared>();
  shared->data_dir = std::move(data_dir);
  shared->before_tap = std::move(before_tap);
  return [shared](store::VmId vm, const driver::NicSpec& nic) -> Result<int> {
    std::unique_lock lock(shared->mu);
    if (!shared->open) {
      Result<HostFabric> fabric = host_fabric_of(shared->data_dir);
      if (!fabric) {
        if (fabric.error().code == ErrorCode::kUnavailable) {
          fabric.error().message = "no tap for this host yet: " + fabric.error().message;
        }
        return fail(std::move(fabric.error()));
      }
      shared->open = tap_opener(std::move(fabric->names), fabric->host, shared->before_tap);
    }
    auto open = shared->open;
    lock.unlock();
    return open(vm, nic);
  };
}

agent::HostFirewallWorker::Apply agent_firewall_applier(fs::path data_dir) {
  struct Shared {
    fs::path data_dir;
    std::mutex mu;
    std::string netns;  // "" until the identity is read
  };
  auto shared = std::make_shared<Shared>();
  shared->data_dir = std::move(data_dir);
  return [shared](const std::vector<net::NicFirewall>& nics) -> Status {
    std::string netns;
    {
      std::lock_guard lock(shared->mu);
      if (shared->netns.empty()) {
        Result<HostFabric> fabric = host_fabric_of(shared->data_dir);
        if (!fabric) return fail(std::move(fabric.error()));
        shared->netns = fabric->names.host_ns(fabric->host);
      }
      netns = shared->netns;
    }
    if (!net::netns_exists(netns)) return {};  // no tap yet: nothing to filter
    return net::apply_firewall(netns, nics);
  };
}

Result<NetworksTorndown> teardown_networks(const std::string& data_dir) {
  const fs::path dir(data_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return fail(Error::not_found(data_dir + " is not a directory"));
  }
  // The server's own lock: a running server would rebuild what this removes.
  Result<daemon::DataDirLock> lock = daemon::DataDirLock::acquire(data_dir, "process");
  if (!lock) {
    return fail(Error{ErrorCode::kUnavailable,
                      lock.error().message + ": stop the corral server using it first",
                      {},
                      {}});
  }
  // Read, never created: a data dir without a CA has no networks (the CA names them).
  Result<std::string> ca_pem = cluster::read_file(dir / "cluster" / "ca.crt");
  if (!ca_pem) {
    return fail(Error::not_found(
        "no cluster CA in " + (dir / "cluster").string() +
        " (not the data dir of a `corral server --driver qemu`): " + ca_pem.error().message));
  }
  Result<net::FabricNames> names = fabric_names_of_ca(*ca_pem);
  if (!names) return fail(std::move(names.error()));

  // The hosts' names come from the store; opening it never creates one where there is none.
  std::vector<std::string> hosts;
  const fs::path db = dir / "corral.db";
  if (fs::exists(db, ec)) {
    Result<std::unique_ptr<store::Store>> store = store::open_sqlite_store(db.string());
    if (!store) return fail(std::move(store.error()));
    Result<std::vector<store::HostRow>> rows = (*store)->load_hosts();
    if (!rows) return fail(std::move(rows.error()));
    for (const store::HostRow& row : *rows) hosts.push_back(row.name);
  }

  NetworksTorndown done;
  done.cluster8 = names->cluster8;
  // Hosts first: their veths end in the underlay, which the network node's teardown removes.
  for (const std::string& host : hosts) {
    net::HostNode node(*names, host);
    if (Status s = node.teardown(); !s) return fail(std::move(s.error()));
    done.namespaces.push_back(node.netns());
  }
  net::NetNode net_node(*names, (dir / "networks").string());
  if (Status s = net_node.teardown(); !s) return fail(std::move(s.error()));
  done.namespaces.push_back(net_node.netns());
  done.namespaces.push_back(names->underlay_ns());
  for (const std::string& ns : done.namespaces) {
    if (net::netns_exists(ns)) {
      return fail(Error::internal("network namespace " + ns + " is still there after teardown"));
    }
  }
  return done;
}

void add_network_teardown_command(CLI::App& network) {
  auto data_dir = std::make_shared<std::string>("./var");
  CLI::App* cmd = network.add_subcommand(
      "teardown",
      "Remove every namespace and dnsmasq this machine holds for a stopped controller's "
      "networks: each network's dnsmasq, the namespaces corral-<cluster8>-net and -ul, and "
      "corral-<cluster8>-h-<host> of each host the controller knows (<cluster8>: the start of "
      "its cluster CA's fingerprint). Run it after `corral server` and this machine's agents "
      "have stopped: it refuses while the server holds the data dir, and guests left running "
      "lose their network. Talks to no server: works on --data-dir alone");
  cmd->add_option("--data-dir", *data_dir, "The controller's data dir")->capture_default_str();
  cmd->callback([data_dir] {
    Result<NetworksTorndown> done = teardown_networks(*data_dir);
    if (!done) {
      std::fprintf(stderr, "corral network teardown: %s\n", done.error().message.c_str());
      throw CLI::RuntimeError(1);
    }
    for (const std::string& ns : done->namespaces) std::printf("removed %s\n", ns.c_str());
  });
}

}  // namespace corral::cli
