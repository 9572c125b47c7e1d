// TLS on the API (issue 14): `corral server` serves HTTPS by default with a certificate from
// the cluster CA in its data dir (<data-dir>/cluster/ca.crt, the certificate and key in
// <data-dir>/api/), TLS 1.2 at least; plain HTTP only with --plain-http, and only on a
// loopback address. Clients that trust the CA get answers (httplib, the `corral` CLI through
// CORRAL_DATA_DIR or --ca-cert, `corral agent --sim-hosts --api https://`); a client that does
// not trust it, a TLS 1.1 client and a plain-HTTP request get none.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "cluster/pki.h"
#include "common/clock.h"
#include "support/agent_process.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A TCP connection to 127.0.0.1:port (-1 on failure), with a 5 s receive timeout.
int dial(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

std::string reason(unsigned long error) {
  const char* text = ERR_reason_error_string(error);
  return text != nullptr ? text : "no error";
}

struct Handshake {
  bool ok = false;
  int version = 0;          // SSL_version() when ok
  unsigned long error = 0;  // the first OpenSSL error otherwise
};

// A handshake with in-process OpenSSL, offering at most `max_version`. Security level 0 lets
// this client offer TLS 1.0/1.1 at all (OpenSSL 3 refuses to by default): what is tested is
// that the server refuses them.
Handshake handshake(int port, int max_version, const std::string& ca_path) {
  Handshake out;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL_CTX_load_verify_locations(ctx, ca_path.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const int fd = dial(port);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set1_host(ssl, "127.0.0.1");
  ERR_clear_error();
  if (SSL_connect(ssl) == 1) {
    out.ok = true;
    out.version = SSL_version(ssl);
    SSL_shutdown(ssl);
  } else {
    out.error = ERR_peek_error();
  }
  ERR_clear_error();
  SSL_free(ssl);
  if (fd >= 0) ::close(fd);
  SSL_CTX_free(ctx);
  return out;
}

class ApiTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.use_tls();
    ASSERT_TRUE(server_.start()) << server_.log();
  }
  ServerProcess server_{{"--sim-profile", "zero"}};
};

TEST_F(ApiTlsTest, AnswersOverHttpsVerifiedAgainstTheDataDirsCa) {
  EXPECT_TRUE(server_.url().starts_with("https://127.0.0.1:")) << server_.url();
  for (const char* host : {"127.0.0.1", "localhost"}) {
    httplib::SSLClient client(host, server_.port());
    client.enable_server_certificate_verification(true);
    client.set_ca_cert_path(server_.ca_cert_path().c_str());
    const httplib::Result r = client.Get("/healthz");
    ASSERT_TRUE(r) << host << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200) << host;
  }
  // With the admin's token, as every test client: the whole API is there.
  const httplib::Result vms = server_.client()->Get("/v1/vms");
  ASSERT_TRUE(vms) << httplib::to_string(vms.error());
  EXPECT_EQ(vms->status, 200) << vms->body;

  // Where the certificate is, and what the start-up lines tell a user of curl or the CLI.
  const fs::path api = fs::path(server_.server_data_dir()) / "api";
  struct stat st {};
  ASSERT_EQ(::stat((api / "server.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  const std::string cert = read_text(api / "server.crt");
  const std::string ca = read_text(server_.ca_cert_path());
  SystemClock clock;
  EXPECT_TRUE(cluster::verify_issued_by(cert, ca, clock.now_ms()));
  const std::string log = server_.log();
  EXPECT_TRUE(contains(log, "listening on https://127.0.0.1:")) << log;
  EXPECT_TRUE(contains(log, "curl --cacert " + server_.ca_cert_path())) << log;

  // A restart reuses the certificate: still valid, still naming the same hosts.
  ASSERT_EQ(server_.stop(), 0);
  ASSERT_TRUE(server_.start()) << server_.log();
  EXPECT_EQ(read_text(api / "server.crt"), cert);
}

TEST_F(ApiTlsTest, TheCliTrustsTheCaInTheDataDirOrTheOneItIsGiven) {
  const CliEnv data_dir = {{"CORRAL_DATA_DIR", server_.server_data_dir()}};
  const CliResult listed =
      run_cli_with_input({"vm", "list"}, server_.url(), "", std::chrono::minutes(1), data_dir);
  EXPECT_EQ(listed.exit_code, 0) << listed.out;
  EXPECT_EQ(run_cli({"--ca-cert", server_.ca_cert_path(), "whoami"}, server_.url()).exit_code, 0);
  const CliResult by_env =
      run_cli_with_input({"whoami"}, server_.url(), "", std::chrono::minutes(1),
                         {{"CORRAL_CA_CERT", server_.ca_cert_path()}});
  EXPECT_EQ(by_env.exit_code, 0) << by_env.out;

  // No CA where the CLI looks: refused before anything is sent, saying where to give one.
  const CliResult missing =
      run_cli_with_input({"vm", "list"}, server_.url(), "", std::chrono::minutes(1),
                         {{"CORRAL_DATA_DIR", server_.data_dir() + "/nowhere"}});
  EXPECT_EQ(missing.exit_code, 2) << missing.out;
  EXPECT_TRUE(contains(missing.out, "no CA certificate")) << missing.out;
  EXPECT_TRUE(contains(missing.out, "--ca-cert")) << missing.out;

  // Another CA: the certificate does not verify, and the CLI says so (exit 3: no answer).
  const fs::path other_dir = fs::path(server_.data_dir()) / "other-ca";
  SystemClock clock;
  ASSERT_TRUE(cluster::CertificateAuthority::load_or_create(other_dir, clock));
  const CliResult untrusted =
      run_cli({"--ca-cert", (other_dir / "ca.crt").string(), "vm", "list"}, server_.url());
  EXPECT_EQ(untrusted.exit_code, 3) << untrusted.out;
  EXPECT_TRUE(contains(untrusted.out, "does not verify against the CA")) << untrusted.out;

  // http:// to the HTTPS port: no answer, and a hint at the scheme.
  const std::string plain_url = "http://127.0.0.1:" + std::to_string(server_.port());
  const CliResult plain = run_cli({"vm", "list"}, plain_url);
  EXPECT_EQ(plain.exit_code, 3) << plain.out;
  EXPECT_TRUE(contains(plain.out, "https://")) << plain.out;
}

TEST_F(ApiTlsTest, AClientThatDoesNotTrustTheCaFailsVerification) {
  const fs::path other_dir = fs::path(server_.data_dir()) / "other-ca";
  SystemClock clock;
  ASSERT_TRUE(cluster::CertificateAuthority::load_or_create(other_dir, clock));
  httplib::SSLClient other(std::string("127.0.0.1"), server_.port());
  other.enable_server_certificate_verification(true);
  other.set_ca_cert_path((other_dir / "ca.crt").c_str());
  const httplib::Result r = other.Get("/healthz");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), httplib::Error::SSLServerVerification);
  EXPECT_NE(other.get_openssl_verify_result(), X509_V_OK);

  // Nor does the system's store know the cluster's CA.
  httplib::SSLClient system(std::string("127.0.0.1"), server_.port());
  system.enable_server_certificate_verification(true);
  const httplib::Result s = system.Get("/healthz");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), httplib::Error::SSLServerVerification);
}

TEST_F(ApiTlsTest, OnlyTls12AndUpAreSpoken) {
  const Handshake old = handshake(server_.port(), TLS1_1_VERSION, server_.ca_cert_path());
  EXPECT_FALSE(old.ok) << "TLS 1.1 accepted";
  // The server's refusal (its protocol_version alert), not this client's own.
  EXPECT_EQ(ERR_GET_REASON(old.error), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << reason(old.error);

  const Handshake v12 = handshake(server_.port(), TLS1_2_VERSION, server_.ca_cert_path());
  EXPECT_TRUE(v12.ok) << reason(v12.error);
  EXPECT_EQ(v12.version, TLS1_2_VERSION);
  const Handshake v13 = handshake(server_.port(), TLS1_3_VERSION, server_.ca_cert_path());
  EXPECT_TRUE(v13.ok) << reason(v13.error);
  EXPECT_EQ(v13.version, TLS1_3_VERSION);
}

TEST_F(ApiTlsTest, APlainHttpRequestToTheHttpsPortGetsNoHttpAnswer) {
  const int fd = dial(server_.port());
  ASSERT_GE(fd, 0);
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string reply;
  char buffer[512];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, n);
  ::close(fd);
  EXPECT_FALSE(reply.starts_with("HTTP/")) << reply;

  httplib::Client plain("http://127.0.0.1:" + std::to_string(server_.port()));
  plain.set_read_timeout(5, 0);
  const httplib::Result r = plain.Get("/healthz");
  EXPECT_FALSE(r) << r->status;
  // The server is still there for those who speak TLS.
  const httplib::Result healthy = server_.client()->Get("/healthz");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);
}

// `corral agent --sim-hosts --api https://...` adds its hosts through the HTTPS API, trusting
// the CA it is given.
TEST_F(ApiTlsTest, SimulatedHostsAreAddedThroughTheHttpsApi) {
  AgentOptions options;
  options.controller = server_.agent_address();
  options.join_address = server_.join_address();
  options.extra = {"--sim-hosts", "2",           "--name-prefix", "tls",
                   "--api",       server_.url(), "--ca-cert",     server_.ca_cert_path()};
  AgentProcess agents(options);
  ASSERT_TRUE(agents.start());
  int connected = 0;
  for (const auto until = std::chrono::steady_clock::now() + 30s;
       connected < 2 && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(100ms);
    const httplib::Result r = server_.client()->Get("/v1/hosts");
    if (!r || r->status != 200) continue;
    connected = 0;
    for (const json& h : json::parse(r->body).value("hosts", json::array())) {
      connected +=
          h.value("name", std::string()).starts_with("tls-") && h.value("connected", false) ? 1 : 0;
    }
  }
  EXPECT_EQ(connected, 2) << agents.log();
  agents.stop();
}

// --plain-http is for the loopback only: anything else is refused before the server starts.
TEST(ApiPlainHttpTest, IsRefusedOffTheLoopbackWithAClearMessage) {
  const std::string dir =
      (fs::temp_directory_path() / ("corral-plain-" + std::to_string(::getpid()))).string();
  for (const std::string& listen :
       {"0.0.0.0:" + std::to_string(free_port()), "[::]:" + std::to_string(free_port())}) {
    const CliResult refused = run_cli(
        {"server", "--plain-http", "--listen", listen, "--data-dir", dir, "--driver", "sim"}, "");
    EXPECT_EQ(refused.exit_code, 2) << listen << ": " << refused.out;
    EXPECT_TRUE(contains(refused.out, "--plain-http")) << refused.out;
    EXPECT_TRUE(contains(refused.out, "loopback")) << refused.out;
    EXPECT_FALSE(fs::exists(dir)) << "refused before the data dir is made";
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

// The harness's default: plain HTTP on 127.0.0.1, said so at start.
TEST(ApiPlainHttpTest, ServesPlainHttpOnTheLoopbackWhenAsked) {
  ServerProcess server({"--sim-profile", "zero"});
  ASSERT_TRUE(server.start()) << server.log();
  EXPECT_TRUE(server.url().starts_with("http://")) << server.url();
  const httplib::Result r = server.client()->Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(contains(server.log(), "listening on http://127.0.0.1:")) << server.log();
  EXPECT_FALSE(contains(server.log(), "curl --cacert")) << server.log();
}

// --no-auth (the auth-cost bench's baseline, Nova's noauth2) only with --plain-http, which is
// loopback only: it can never serve an unauthenticated API off this machine.
TEST(ApiNoAuthTest, IsRefusedWithoutPlainHttp) {
  const std::string dir =
      (fs::temp_directory_path() / ("corral-noauth-" + std::to_string(::getpid()))).string();
  const CliResult refused =
      run_cli({"server", "--no-auth", "--listen", "127.0.0.1:" + std::to_string(free_port()),
               "--data-dir", dir, "--driver", "sim"},
              "");
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  EXPECT_TRUE(contains(refused.out, "--no-auth needs --plain-http")) << refused.out;
  EXPECT_FALSE(fs::exists(dir)) << "refused before the data dir is made";
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

// Without a token every request acts as the local admin, is audited under its name, and has no
// token to revoke.
TEST(ApiNoAuthTest, ActsAsTheLocalAdminWithoutAToken) {
  ServerProcess server({"--sim-profile", "zero", "--no-auth"});
  server.send_no_token();
  ASSERT_TRUE(server.start()) << server.log();
  EXPECT_TRUE(contains(server.log(), "--no-auth: every request")) << server.log();
  const auto c = server.client();
  const httplib::Result me = c->Get("/v1/auth/token");
  ASSERT_TRUE(me);
  ASSERT_EQ(me->status, 200) << me->body;
  const json who = json::parse(me->body);
  EXPECT_EQ(who["user"]["name"], "admin");
  EXPECT_EQ(who["cloud_admin"], true);
  EXPECT_EQ(who["token_id"], 0);
  const httplib::Result made =
      c->Post("/v1/vms", R"({"name":"noauth","image":"tiny","vcpus":1,"memory_mib":64})",
              "application/json");
  ASSERT_TRUE(made);
  EXPECT_EQ(made->status, 202) << made->body;
  const httplib::Result audit = c->Get("/v1/audit?outcome=accepted");
  ASSERT_TRUE(audit);
  ASSERT_EQ(audit->status, 200) << audit->body;
  EXPECT_TRUE(contains(audit->body, R"("user":"admin")")) << audit->body;
  const httplib::Result logout = c->Delete("/v1/auth/token");
  ASSERT_TRUE(logout);
  EXPECT_NE(logout->status, 200) << "no token to revoke: " << logout->body;
  // The local admin credential still works (logging out revoked nothing).
  EXPECT_EQ(c->Get("/v1/auth/token")->status, 200);
}

}  // namespace
}  // namespace corral::testing
