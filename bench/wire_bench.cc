// corral-bench-wire: the round trip of one message each way on the agent stream, on loopback,
// beside the floors it pays for: a plain TCP echo and an OpenSSL mutual-TLS echo of a message
// of the same size. Pause + unpause through an agent costs two such round trips (issue 11: the
// API path with an agent must stay within 1.5x its floor).
//
// gRPC: one AgentService.Connect stream over mutual TLS (the test controller of src/wire,
// echo_heartbeats): the agent writes a Heartbeat, the controller answers a Ping of the same
// seq; the time is from Write to Read on the agent. Sizes: CORRAL_BENCH_WIRE_N (default 5000).
#include <arpa/inet.h>
#include <grpcpp/create_channel.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "cluster/pki.h"
#include "cluster/test_dir.h"
#include "wire/join.h"
#include "wire/protocol.h"
#include "wire/test_controller.h"

namespace {

using namespace corral;
using Clock = std::chrono::steady_clock;

struct Figures {
  double p50_us, p99_us, mean_us;
};

Figures summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double v : us) sum += v;
  return {us[us.size() / 2], us[us.size() * 99 / 100], sum / static_cast<double>(us.size())};
}

void print(const char* what, const Figures& f) {
  std::printf("%-44s p50 %7.1f us   p99 %7.1f us   mean %7.1f us\n", what, f.p50_us, f.p99_us,
              f.mean_us);
}

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "corral-bench-wire: %s\n", what.c_str());
  std::exit(1);
}

// ---- gRPC ------------------------------------------------------------------------------------

Figures grpc_round_trips(wire::testing::TestController& controller, const wire::AgentIdentity& id,
                         int n) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(controller.agent_port()),
                                     wire::agent_channel_credentials(id));
  auto stub = wire::v1::AgentService::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->Connect(&context);
  wire::v1::AgentMessage hello;
  hello.mutable_hello()->set_protocol_version(wire::kProtocolVersion);
  hello.mutable_hello()->set_host(id.host);
  wire::v1::ControllerMessage in;
  if (!stream->Write(hello) || !stream->Read(&in) || !in.has_welcome()) die("no Welcome");

  std::vector<double> samples;
  const int warmup = std::min(200, n / 10);
  for (int i = 1; i <= n + warmup; ++i) {
    wire::v1::AgentMessage beat;
    beat.mutable_heartbeat()->set_seq(static_cast<std::uint64_t>(i));
    beat.mutable_heartbeat()->set_sent_at_ms(1'700'000'000'000);
    beat.mutable_heartbeat()->mutable_metrics()->set_running_vms(12);
    const auto start = Clock::now();
    if (!stream->Write(beat) || !stream->Read(&in)) die("stream broke");
    const auto end = Clock::now();
    if (!in.has_ping() || in.ping().seq() != static_cast<std::uint64_t>(i)) die("wrong echo");
    if (i > warmup) samples.push_back(micros(end - start));
  }
  stream->WritesDone();
  (void)stream->Finish();
  return summarize(std::move(samples));
}

// ---- TCP and TLS echo floors -----------------------------------------------------------------

constexpr std::size_t kMessage = 48;  // about a serialized Heartbeat/Ping with HTTP/2 framing off

int listen_loopback(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1) != 0) {
    die("cannot listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

int dial_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("cannot connect");
  return fd;
}

void no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Reads or writes exactly kMessage bytes through `io` (read/write or SSL_read/SSL_write).
template <typename Io>
bool exactly(Io io, char* buf) {
  for (std::size_t done = 0; done < kMessage;) {
    const long n = io(buf + done, kMessage - done);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

Figures tcp_round_trips(int n) {
  int port = 0;
  const int listener = listen_loopback(&port);
  std::thread server([&] {
    const int fd = ::accept(listener, nullptr, nullptr);
    no_delay(fd);
    char buf[kMessage];
    auto rd = [&](char* p, std::size_t k) { return static_cast<long>(::read(fd, p, k)); };
    auto wr = [&](char* p, std::size_t k) { return static_cast<long>(::write(fd, p, k)); };
    while (exactly(rd, buf) && exactly(wr, buf)) {
    }
    ::close(fd);
  });
  const int fd = dial_loopback(port);
  no_delay(fd);
  char buf[kMessage] = {};
  auto rd = [&](char* p, std::size_t k) { return static_cast<long>(::read(fd, p, k)); };
  auto wr = [&](char* p, std::size_t k) { return static_cast<long>(::write(fd, p, k)); };
  std::vector<double> samples;
  for (int i = 0; i < n + 200; ++i) {
    const auto start = Clock::now();
    if (!exactly(wr, buf) || !exactly(rd, buf)) die("tcp echo broke");
    if (i >= 200) samples.push_back(micros(Clock::now() - start));
  }
  ::close(fd);
  server.join();
  ::close(listener);
  return summarize(std::move(samples));
}

SSL_CTX* tls_context(bool server, const std::string& cert, const std::string& key,
                     const std::string& ca) {
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  BIO* b = BIO_new_mem_buf(cert.data(), static_cast<int>(cert.size()));
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  b = BIO_new_mem_buf(key.data(), static_cast<int>(key.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  b = BIO_new_mem_buf(ca.data(), static_cast<int>(ca.size()));
  X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (!x || !k || !c || SSL_CTX_use_certificate(ctx, x) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), c) != 1) {
    die("cannot set up the TLS echo");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  X509_free(x);
  X509_free(c);
  EVP_PKEY_free(k);
  return ctx;
}

Figures tls_round_trips(const cluster::CertAndKey& server_pair, const wire::AgentIdentity& id,
                        int n) {
  int port = 0;
  const int listener = listen_loopback(&port);
  SSL_CTX* server_ctx = tls_context(true, server_pair.cert_pem, server_pair.key_pem, id.ca_pem);
  SSL_CTX* client_ctx = tls_context(false, id.cert_pem, id.key_pem, id.ca_pem);
  std::thread server([&] {
    const int fd = ::accept(listener, nullptr, nullptr);
    no_delay(fd);
    SSL* ssl = SSL_new(server_ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) die("TLS accept failed");
    char buf[kMessage];
    auto rd = [&](char* p, std::size_t k) {
      return static_cast<long>(SSL_read(ssl, p, static_cast<int>(k)));
    };
    auto wr = [&](char* p, std::size_t k) {
      return static_cast<long>(SSL_write(ssl, p, static_cast<int>(k)));
    };
    while (exactly(rd, buf) && exactly(wr, buf)) {
    }
    SSL_free(ssl);
    ::close(fd);
  });
  const int fd = dial_loopback(port);
  no_delay(fd);
  SSL* ssl = SSL_new(client_ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) die("TLS connect failed");
  char buf[kMessage] = {};
  auto rd = [&](char* p, std::size_t k) {
    return static_cast<long>(SSL_read(ssl, p, static_cast<int>(k)));
  };
  auto wr = [&](char* p, std::size_t k) {
    return static_cast<long>(SSL_write(ssl, p, static_cast<int>(k)));
  };
  std::vector<double> samples;
  for (int i = 0; i < n + 200; ++i) {
    const auto start = Clock::now();
    if (!exactly(wr, buf) || !exactly(rd, buf)) die("tls echo broke");
    if (i >= 200) samples.push_back(micros(Clock::now() - start));
  }
  SSL_shutdown(ssl);
  SSL_free(ssl);
  ::close(fd);
  server.join();
  SSL_CTX_free(server_ctx);
  SSL_CTX_free(client_ctx);
  ::close(listener);
  return summarize(std::move(samples));
}

}  // namespace

int main() {
  const char* env = std::getenv("CORRAL_BENCH_WIRE_N");
  const int n = env ? std::max(100, std::atoi(env)) : 5000;
  cluster::testing::TempDir tmp;
  SystemClock clock;
  wire::testing::TestControllerOptions options;
  options.dir = tmp.path();
  options.echo_heartbeats = true;
  auto controller = wire::testing::TestController::start(options, clock);
  if (!controller) die(controller.error().message);
  Result<std::string> token = (*controller)->tokens().issue("bench-host");
  Result<std::string> key = cluster::generate_private_key();
  if (!token || !key) die("cannot make a token or a key");
  Result<wire::AgentIdentity> id =
      wire::join_cluster("127.0.0.1", (*controller)->join_port(), *token, *key, clock);
  if (!id) die(id.error().message);
  Result<cluster::CertAndKey> server_pair =
      (*controller)->ca().load_or_issue_server_cert({"localhost", "127.0.0.1"});
  if (!server_pair) die(server_pair.error().message);

  std::printf("one message each way on loopback, %d round trips (after warm-up)\n", n);
  print("TCP echo, 48 bytes (floor)", tcp_round_trips(n));
  print("OpenSSL mutual-TLS echo, 48 bytes", tls_round_trips(*server_pair, *id, n));
  print("gRPC bidi stream, mutual TLS (Heartbeat/Ping)", grpc_round_trips(**controller, *id, n));
  return 0;
}
