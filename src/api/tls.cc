#include "api/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

namespace corral::api {
namespace {

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct KeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

// `what` and the first reason OpenSSL queued; the queue is emptied (it is per thread, and the
// next handshake on this thread must not report this failure).
std::string openssl_error(const std::string& what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char text[256] = {};
  ERR_error_string_n(code, text, sizeof text);
  return what + ": " + text;
}

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

bool configure(SSL_CTX& ctx, const TlsIdentity& tls, std::string& error) {
  // TLS 1.0 and 1.1 are deprecated (RFC 8996); the library's own floor is 1.1.
  if (SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) != 1) {
    error = openssl_error("cannot require TLS 1.2");
    return false;
  }
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION |
                                SSL_OP_CIPHER_SERVER_PREFERENCE);
  std::unique_ptr<BIO, BioFree> certs = memory_bio(tls.cert_pem);
  std::unique_ptr<X509, X509Free> leaf(
      certs ? PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!leaf || SSL_CTX_use_certificate(&ctx, leaf.get()) != 1) {
    error = openssl_error("the API's TLS certificate cannot be used");
    return false;
  }
  while (X509* next = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(&ctx, next) != 1) {  // takes `next` only when it succeeds
      X509_free(next);
      error = openssl_error("the API's TLS certificate chain cannot be used");
      return false;
    }
  }
  ERR_clear_error();  // the loop above ends on "no start line"
  std::unique_ptr<BIO, BioFree> key_bio = memory_bio(tls.key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || SSL_CTX_use_PrivateKey(&ctx, key.get()) != 1 ||
      SSL_CTX_check_private_key(&ctx) != 1) {
    error = openssl_error("the API's TLS key cannot be used with its certificate");
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<httplib::Server> make_http_server(const std::optional<TlsIdentity>& tls,
                                                  std::string& error) {
  error.clear();
  if (!tls) return std::make_unique<httplib::Server>();
  // The library calls this once, from the constructor: `identity` need not outlive it.
  const TlsIdentity& identity = *tls;
  auto server = std::make_unique<httplib::SSLServer>(
      [&identity, &error](SSL_CTX& ctx) { return configure(ctx, identity, error); });
  if (!server->is_valid() && error.empty()) error = openssl_error("cannot make a TLS context");
  return server;
}

}  // namespace corral::api
