// Test support for src/transfer: a temporary cluster CA, agent identities signed by it, and
// one TransferServer per agent on 127.0.0.1 with its own data dir.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/pki.h"
#include "cluster/test_dir.h"
#include "common/clock.h"
#include "transfer/pull.h"
#include "transfer/server.h"

namespace corral::transfer::testing {

// An identity for `host` signed by `ca`.
wire::AgentIdentity identity_of(cluster::CertificateAuthority& ca, const std::string& host);

// `size` bytes: pseudo-random (seeded), with the MiB-aligned range [zero_from, zero_to) zeroed.
std::string test_bytes(std::size_t size, unsigned seed, std::size_t zero_from = 0,
                       std::size_t zero_to = 0);

void write_file(const std::filesystem::path& path, const std::string& bytes);
std::string read_file(const std::filesystem::path& path);
// Every name in `dir` (none when it does not exist).
std::set<std::string> names_in(const std::filesystem::path& dir);

class TransferFixture : public ::testing::Test {
 protected:
  void SetUp() override;

  std::filesystem::path data_dir(const std::string& host) const { return tmp_.path() / host; }
  std::filesystem::path vm_path(const std::string& host, std::int64_t vm) const;
  // Starts (or restarts, on a new port) `host`'s server.
  TransferServer& start_server(const std::string& host);
  std::string address(const std::string& host) const;

  // A ticket for moving `vm` from node-a to node-b, registered on node-a.
  Ticket allow_a_to_b(std::int64_t vm, std::int64_t op = 5, Millis ttl_ms = 60'000);
  PullOptions pull_options(const Ticket& ticket, std::vector<std::string> files);

  cluster::testing::TempDir tmp_;
  FakeClock clock_{SystemClock().now_ms()};  // TLS checks certificates against real time
  std::optional<cluster::CertificateAuthority> ca_;
  std::map<std::string, wire::AgentIdentity> ids_;  // node-a, node-b, node-c
  std::map<std::string, std::unique_ptr<TransferServer>> servers_;
};

}  // namespace corral::transfer::testing
