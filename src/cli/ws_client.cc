#include "cli/ws_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/websocket/codec.h"

namespace corral::cli {
namespace {

Failure unreachable(const Client& client, const std::string& why) {
  return unreachable_failure(client.url(), "the console's WebSocket: " + why);
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  char text[256] = "unknown TLS error";
  if (code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

// "https://host:port" -> host, port.
bool split_host_port(const std::string& scheme_host_port, std::string& host, std::string& port) {
  const std::size_t scheme = scheme_host_port.find("://");
  std::string rest =
      scheme == std::string::npos ? scheme_host_port : scheme_host_port.substr(scheme + 3);
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) return false;
    host = rest.substr(1, close - 1);
    port = close + 2 <= rest.size() ? rest.substr(close + 2) : "";
  } else {
    const std::size_t colon = rest.rfind(':');
    host = rest.substr(0, colon);
    port = colon == std::string::npos ? "" : rest.substr(colon + 1);
  }
  if (port.empty()) port = scheme_host_port.starts_with("https") ? "443" : "80";
  return !host.empty();
}

}  // namespace

struct WsClient::Impl {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  std::unique_ptr<websocket::ClientCodec> codec;
  OnMessage on_message;
  std::string end_reason;
  bool ended = false;
  bool opened = false;

  ~Impl() {
    codec.reset();
    if (ssl != nullptr) SSL_free(ssl);
    if (ctx != nullptr) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
  }
  bool write(const char* data, std::size_t size) const {
    while (size > 0) {
      const long n = ssl != nullptr ? SSL_write(ssl, data, static_cast<int>(size))
                                    : ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }
  // > 0 bytes, 0 nothing yet, -1 closed.
  long read(char* buffer, std::size_t size) const {
    if (ssl != nullptr) {
      const int n = SSL_read(ssl, buffer, static_cast<int>(size));
      if (n > 0) return n;
      const int error = SSL_get_error(ssl, n);
      return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE ? 0 : -1;
    }
    const ssize_t n = ::recv(fd, buffer, size, 0);
    return n > 0 ? n : -1;
  }
};

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WsClient::~WsClient() = default;

CliResult<std::unique_ptr<WsClient>> WsClient::open(const Client& client, const std::string& path,
                                                    const std::string& subprotocol,
                                                    OnMessage on_message) {
  auto impl = std::make_unique<Impl>();
  impl->on_message = std::move(on_message);
  const ServerUrl& url = client.server_url();
  std::string host;
  std::string port;
  if (!split_host_port(url.scheme_host_port, host, port)) {
    return fail(unreachable(client, "no host in " + url.scheme_host_port));
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return fail(unreachable(client, gai_strerror(rc)));
  }
  std::string connect_error = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      impl->fd = fd;
      break;
    }
    connect_error = std::error_code(errno, std::generic_category()).message();
    ::close(fd);
  }
  freeaddrinfo(found);
  if (impl->fd < 0) return fail(unreachable(client, connect_error));

  if (url.tls) {
    impl->ctx = SSL_CTX_new(TLS_client_method());
    if (impl->ctx == nullptr) return fail(unreachable(client, openssl_error()));
    SSL_CTX_set_min_proto_version(impl->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(impl->ctx, SSL_VERIFY_PEER, nullptr);
    // Only the cluster's CA, as every other request of the CLI.
    if (SSL_CTX_load_verify_locations(impl->ctx, client.ca_cert().c_str(), nullptr) != 1) {
      return fail(unreachable(client, "cannot load the CA certificate " + client.ca_cert()));
    }
    impl->ssl = SSL_new(impl->ctx);
    SSL_set_fd(impl->ssl, impl->fd);
    in6_addr ip{};
    const bool is_ip =
        inet_pton(AF_INET, host.c_str(), &ip) == 1 || inet_pton(AF_INET6, host.c_str(), &ip) == 1;
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(impl->ssl), host.c_str());
    } else {
      SSL_set_tlsext_host_name(impl->ssl, host.c_str());
      SSL_set1_host(impl->ssl, host.c_str());
    }
    if (SSL_connect(impl->ssl) != 1) {
      const long verify = SSL_get_verify_result(impl->ssl);
      return fail(unreachable(client, verify != X509_V_OK
                                          ? std::string("the server's certificate: ") +
                                                X509_verify_cert_error_string(verify)
                                          : "the TLS handshake failed: " + openssl_error()));
    }
  }

  Impl* raw = impl.get();
  std::vector<std::string> protocols{subprotocol};
  if (!client.token().empty()) protocols.push_back("bearer." + client.token());
  raw->codec = std::make_unique<websocket::ClientCodec>(
      "ws://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port +
          url.base_path + path,
      std::move(protocols),
      websocket::Callbacks{
          [raw](const char* data, std::size_t size) { return raw->write(data, size); },
          [raw](const std::string& payload, bool /*binary*/) {
            if (raw->on_message) raw->on_message(payload);
          },
          [raw] { raw->opened = true; },
          [raw](const std::string& reason) {
            raw->ended = true;
            raw->end_reason = reason;
          }});
  std::string error;
  if (!raw->codec->start(error)) return fail(unreachable(client, error));
  std::unique_ptr<WsClient> ws(new WsClient(std::move(impl)));
  // Until the server answers the handshake.
  while (!raw->opened && !raw->ended) {
    pollfd p{raw->fd, POLLIN, 0};
    if (!ws->has_buffered() && ::poll(&p, 1, 10'000) <= 0) {
      return fail(unreachable(client, "no answer to the WebSocket handshake in 10 s"));
    }
    ws->pump();
  }
  if (!raw->opened) {
    const int status = raw->codec->refused_status();
    const nlohmann::json body = nlohmann::json::parse(raw->codec->refused_body(), nullptr, false);
    std::string message = body.is_object() && body.contains("error")
                              ? body["error"].value("message", std::string())
                              : raw->codec->refused_body();
    if (message.empty()) {
      // The refusal's body often comes after its head, which is all the handshake reads.
      message = "the server refused the console's WebSocket (HTTP " + std::to_string(status) +
                (status == 409   ? "): the VM has no console now (is it running?)"
                 : status == 404 ? "): no such VM"
                                 : ")");
    }
    const std::string code = body.is_object() && body.contains("error")
                                 ? body["error"].value("code", std::string())
                                 : std::string();
    return fail(Failure{
        FailureKind::kRefused,
        Error{code.empty() ? ErrorCode::kConflict : parse_error_code(code), message, {}, {}},
        status,
        {},
        {}});
  }
  return ws;
}

int WsClient::fd() const { return impl_->fd; }
bool WsClient::has_buffered() const { return impl_->ssl != nullptr && SSL_pending(impl_->ssl) > 0; }
bool WsClient::is_open() const { return !impl_->ended; }
const std::string& WsClient::end_reason() const { return impl_->end_reason; }

bool WsClient::pump() {
  char buffer[16 * 1024];
  const long n = impl_->read(buffer, sizeof(buffer));
  if (n < 0) {
    impl_->codec->eof();
    if (!impl_->ended) {
      impl_->ended = true;
      if (impl_->end_reason.empty()) impl_->end_reason = "the connection closed";
    }
    return false;
  }
  if (n > 0) impl_->codec->feed(buffer, static_cast<std::size_t>(n));
  return !impl_->ended;
}

bool WsClient::send(const std::string& payload) { return impl_->codec->send(payload, true); }

void WsClient::close() {
  if (impl_->ended) return;
  impl_->codec->close(1000, "the client detached");
  for (int i = 0; i < 10 && !impl_->ended; ++i) {
    pollfd p{impl_->fd, POLLIN, 0};
    if (!has_buffered() && ::poll(&p, 1, 100) <= 0) continue;
    if (!pump()) break;
  }
}

}  // namespace corral::cli
