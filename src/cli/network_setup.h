// The networks' plumbing for `corral server` and `corral agent` with the qemu driver (src/net):
// the cluster's namespaces are named after its CA, so a controller and its agents agree on
// them without being told, and two clusters on one machine never share one.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/firewall.h"
#include "common/result.h"
#include "driver/driver.h"
#include "net/fabric.h"

namespace corral::cli {

// The first 8 hex digits of a CA fingerprint ("sha256:<hex>").
std::string cluster8_of(const std::string& ca_fingerprint);

// The cluster's names from its CA certificate (PEM): cluster8_of its fingerprint, computed as
// cluster::CertificateAuthority::fingerprint() does (cluster::fingerprint_of).
[[nodiscard]] Result<net::FabricNames> fabric_names_of_ca(std::string_view ca_pem);

// QemuConfig::open_tap for host `host`: a tap on the network's bridge in the host's namespace
// (net::HostNode), one call at a time. `before_tap`, when given, runs once the namespace and
// the bridge exist and before the tap is made (an agent applies its host's firewall there, so
// the tap is filtered from its first frame); its failure is logged, and the tap is made anyway
// (the host's firewall error is the controller's to show).
std::function<Result<int>(store::VmId, const driver::NicSpec&)> tap_opener(
    net::FabricNames names, std::string host, std::function<Status()> before_tap = {});

// QemuConfig::open_tap for `corral agent` with data dir `data_dir`: tap_opener for the host its
// certificate names (the name the controller knows it by) in its cluster CA's namespaces, both
// read from the identity stored there (agent/identity.h). Read at the first tap and kept: on its
// first start an agent makes its driver before it joins, and no VM reaches it before the join
// has stored the identity. No identity yet: the tap fails (kUnavailable), and so does that NIC.
std::function<Result<int>(store::VmId, const driver::NicSpec&)> agent_tap_opener(
    std::filesystem::path data_dir, std::function<Status()> before_tap = {});

// The agent's firewall (agent/firewall.h) for `corral agent` with data dir `data_dir`:
// net::apply_firewall in the namespace of the host its identity names, in its cluster's names
// (read at the first job, as agent_tap_opener does). A namespace that does not exist yet has no
// tap to filter: the job is done without touching anything.
agent::HostFirewallWorker::Apply agent_firewall_applier(std::filesystem::path data_dir);

// What teardown_networks() removed.
struct NetworksTorndown {
  std::string cluster8;
  std::vector<std::string> namespaces;  // every name it made sure is gone
};

// Removes everything the networks of the controller with data dir `data_dir` built on this
// machine: each network's dnsmasq (by the pid files under <data-dir>/networks), the network
// node's and the underlay's namespaces, and the namespace of every host the store knows (on
// this machine: an agent host elsewhere keeps its own). Takes the data dir's lock, so it fails
// (kUnavailable) while the server runs; guests on those hosts lose their network, so stop the
// agents of this machine first. Idempotent: what is already gone is no error.
[[nodiscard]] Result<NetworksTorndown> teardown_networks(const std::string& data_dir);

// Registers `teardown` (teardown_networks) under `corral network`.
void add_network_teardown_command(CLI::App& network);

}  // namespace corral::cli
