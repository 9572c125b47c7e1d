#include "transfer/test_support.h"

#include <fstream>
#include <random>
#include <sstream>

namespace corral::transfer::testing {

namespace fs = std::filesystem;

wire::AgentIdentity identity_of(cluster::CertificateAuthority& ca, const std::string& host) {
  wire::AgentIdentity id;
  id.host = host;
  id.key_pem = *cluster::generate_private_key();
  id.cert_pem = *ca.sign_agent_csr(*cluster::make_csr(id.key_pem, host), host);
  id.ca_pem = ca.cert_pem();
  return id;
}

std::string test_bytes(std::size_t size, unsigned seed, std::size_t zero_from,
                       std::size_t zero_to) {
  std::mt19937_64 random(seed);
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint64_t word = random();
    std::memcpy(bytes.data() + i, &word, 8);
  }
  for (std::size_t i = zero_from; i < zero_to && i < size; ++i) bytes[i] = 0;
  return bytes;
}

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) names.insert(entry.path().filename());
  return names;
}

void TransferFixture::SetUp() {
  Result<cluster::CertificateAuthority> ca =
      cluster::CertificateAuthority::load_or_create(tmp_.path() / "ca", clock_);
  ASSERT_TRUE(ca) << ca.error().message;
  ca_.emplace(std::move(*ca));
  for (const char* host : {"node-a", "node-b", "node-c"}) ids_[host] = identity_of(*ca_, host);
  start_server("node-a");
  start_server("node-b");
}

fs::path TransferFixture::vm_path(const std::string& host, std::int64_t vm) const {
  return data_dir(host) / "vms" / std::to_string(vm);
}

TransferServer& TransferFixture::start_server(const std::string& host) {
  servers_.erase(host);
  ServerOptions options;
  options.data_dir = data_dir(host);
  options.identity = ids_.at(host);
  Result<std::unique_ptr<TransferServer>> server = TransferServer::start(options, clock_);
  EXPECT_TRUE(server) << server.error().message;
  return *(servers_[host] = std::move(*server));
}

std::string TransferFixture::address(const std::string& host) const {
  return "127.0.0.1:" + std::to_string(servers_.at(host)->port());
}

Ticket TransferFixture::allow_a_to_b(std::int64_t vm, std::int64_t op, Millis ttl_ms) {
  Ticket ticket{vm, op, "node-a", "node-b", *new_secret()};
  EXPECT_TRUE(servers_.at("node-a")->allow(ticket, ttl_ms));
  return ticket;
}

PullOptions TransferFixture::pull_options(const Ticket& ticket, std::vector<std::string> files) {
  PullOptions options;
  options.data_dir = data_dir(ticket.target_host);
  options.identity = ids_.at(ticket.target_host);
  options.source_address = address(ticket.source_host);
  options.ticket = ticket;
  options.files = std::move(files);
  return options;
}

}  // namespace corral::transfer::testing
