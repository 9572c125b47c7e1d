// OpenSSL 3 handles owned by unique_ptr, PEM in and out, digests and the error queue as text.
// Internal to src/cluster (pki.cc, join_tokens.cc); nothing outside includes it.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace corral::cluster::ossl {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using Req = std::unique_ptr<X509_REQ, Free>;
using Bio = std::unique_ptr<BIO, Free>;

// `what` followed by the reasons OpenSSL queued (the queue is emptied).
Error error(std::string_view what);

Result<Key> generate_p256();
Result<Key> read_key(std::string_view pem);
Result<Cert> read_cert(std::string_view pem);
Result<Req> read_req(std::string_view pem);
Result<std::string> key_pem(EVP_PKEY* key);
Result<std::string> cert_pem(X509* cert);
Result<std::string> req_pem(X509_REQ* req);

std::string sha256_hex(std::span<const unsigned char> bytes);
// "sha256:" + hex of SHA-256 over the certificate's DER (what a join token pins).
Result<std::string> cert_fingerprint(X509* cert);

// The certificate's subject CN ("" if none).
std::string common_name(X509_NAME* name);

}  // namespace corral::cluster::ossl
