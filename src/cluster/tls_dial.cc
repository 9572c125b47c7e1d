#include "cluster/tls_dial.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cluster/openssl_util.h"

namespace corral::cluster {

namespace {

struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

struct SslFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
};

Result<int> dial(const std::string& host, int port, int timeout_ms, Socket& sock) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return fail(Error{
        ErrorCode::kUnavailable, "cannot resolve " + host + ": " + ::gai_strerror(rc), {}, {}});
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
  timeval tv{timeout_ms / 1000, static_cast<suseconds_t>(timeout_ms % 1000) * 1000};
  for (addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
    Socket s{::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol)};
    if (s.fd < 0) continue;
    ::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(s.fd, a->ai_addr, a->ai_addrlen) == 0) {
      std::swap(sock.fd, s.fd);
      return sock.fd;
    }
  }
  return fail(Error{ErrorCode::kUnavailable,
                    "cannot connect to the controller at " + host + ":" + service,
                    {},
                    {}});
}

}  // namespace

Result<std::string> fetch_pinned_ca(const std::string& host, int port, std::string_view pin,
                                    int timeout_ms) {
  const std::string where = host + ":" + std::to_string(port);
  Socket sock;
  if (Result<int> fd = dial(host, port, timeout_ms, sock); !fd) return fail(fd.error());

  std::unique_ptr<SSL_CTX, SslFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return fail(ossl::error("cannot make a TLS context"));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);  // the pin below is the check
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  static constexpr unsigned char kAlpn[] = {2, 'h', '2'};
  if (!ssl || SSL_set_alpn_protos(ssl.get(), kAlpn, sizeof kAlpn) != 0 ||
      SSL_set_tlsext_host_name(ssl.get(), host.c_str()) != 1 ||
      SSL_set_fd(ssl.get(), sock.fd) != 1) {
    return fail(ossl::error("cannot set up TLS"));
  }
  if (SSL_connect(ssl.get()) != 1) {
    Error e = ossl::error("TLS handshake with the controller at " + where + " failed");
    e.code = ErrorCode::kUnavailable;
    return fail(std::move(e));
  }
  X509* leaf = SSL_get0_peer_certificate(ssl.get());
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get());
  std::string seen;
  std::string found;
  for (int i = 0; leaf != nullptr && chain != nullptr && i < sk_X509_num(chain); ++i) {
    X509* cert = sk_X509_value(chain, i);
    Result<std::string> fingerprint = ossl::cert_fingerprint(cert);
    if (!fingerprint) continue;
    seen += (seen.empty() ? "" : ", ") + *fingerprint;
    if (*fingerprint != pin) continue;
    if (X509_check_issued(cert, leaf) != X509_V_OK ||
        X509_verify(leaf, X509_get0_pubkey(cert)) != 1) {
      ERR_clear_error();
      continue;  // the pinned CA is in the chain but did not sign this server: not our controller
    }
    Result<std::string> pem = ossl::cert_pem(cert);
    if (!pem) return fail(pem.error());
    found = std::move(*pem);
    break;
  }
  SSL_shutdown(ssl.get());
  if (found.empty()) {
    return fail(Error::invalid_argument(
        "the controller at " + where + " does not present the CA " + std::string(pin) +
        " that the join token pins (it presents: " + (seen.empty() ? "nothing" : seen) +
        "); the token is for another cluster, or this is not the controller"));
  }
  return found;
}

Status probe_client_certificate(const std::string& host, int port, const std::string& cert_pem,
                                const std::string& key_pem, const std::string& ca_pem,
                                int timeout_ms) {
  const std::string where = host + ":" + std::to_string(port);
  Result<ossl::Cert> cert = ossl::read_cert(cert_pem);
  if (!cert) return fail(cert.error());
  Result<ossl::Key> key = ossl::read_key(key_pem);
  if (!key) return fail(key.error());
  Result<ossl::Cert> ca = ossl::read_cert(ca_pem);
  if (!ca) return fail(ca.error());
  Socket sock;
  if (Result<int> fd = dial(host, port, timeout_ms, sock); !fd) return fail(fd.error());

  std::unique_ptr<SSL_CTX, SslFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_use_certificate(ctx.get(), cert->get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), key->get()) != 1 ||
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), ca->get()) != 1) {
    return fail(ossl::error("cannot set up TLS with the agent's certificate"));
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  static constexpr unsigned char kAlpn[] = {2, 'h', '2'};
  if (!ssl || SSL_set_alpn_protos(ssl.get(), kAlpn, sizeof kAlpn) != 0 ||
      SSL_set_fd(ssl.get(), sock.fd) != 1) {
    return fail(ossl::error("cannot set up TLS"));
  }
  auto refused = [&](const std::string& what) {
    Error e = ossl::error(what);
    e.code = ErrorCode::kUnavailable;
    return fail(std::move(e));
  };
  if (SSL_connect(ssl.get()) != 1) {
    const long verdict = SSL_get_verify_result(ssl.get());
    if (verdict != X509_V_OK) {
      ERR_clear_error();
      return fail(Error{ErrorCode::kUnavailable,
                        "the server at " + where +
                            " presents a certificate that this agent's cluster CA did not sign (" +
                            X509_verify_cert_error_string(verdict) +
                            "): it is not the controller this agent joined",
                        {},
                        {}});
    }
    return refused("the controller at " + where +
                   " refused this agent's certificate in the TLS handshake");
  }
  // Under TLS 1.3 the controller judges the client certificate after the client's handshake
  // is over: its alert, or its first HTTP/2 bytes, come with the first read.
  char byte = 0;
  const int n = SSL_read(ssl.get(), &byte, 1);
  if (n > 0) {
    SSL_shutdown(ssl.get());
    return {};
  }
  switch (SSL_get_error(ssl.get(), n)) {
    case SSL_ERROR_SSL:          // an alert, or (gRPC's way) the socket closed without one
    case SSL_ERROR_ZERO_RETURN:  // a clean close before any byte
      return refused("the controller at " + where +
                     " refused this agent's certificate right after the TLS handshake (not "
                     "signed by this cluster's CA, or expired? re-join with a new token from "
                     "`corral host add`)");
    default:
      ERR_clear_error();
      return {};  // nothing came before the timeout: no verdict against the certificate
  }
}

}  // namespace corral::cluster
