#include "cluster/openssl_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

namespace corral::cluster::ossl {

Error error(std::string_view what) {
  std::string message(what);
  bool first = true;
  while (unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    message += first ? ": " : "; ";
    message += text;
    first = false;
  }
  return Error::internal(std::move(message));
}

namespace {

Bio read_bio(std::string_view pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

template <typename Write>
Result<std::string> write_pem(Write write, std::string_view what) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1)
    return fail(error(std::string("cannot write ") + std::string(what)));
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

Result<Key> generate_p256() {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return fail(error("cannot generate an EC P-256 key"));
  return key;
}

Result<Key> read_key(std::string_view pem) {
  Bio bio = read_bio(pem);
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return fail(error("not a PEM private key"));
  return key;
}

Result<Cert> read_cert(std::string_view pem) {
  Bio bio = read_bio(pem);
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return fail(error("not a PEM certificate"));
  return cert;
}

Result<Req> read_req(std::string_view pem) {
  Bio bio = read_bio(pem);
  Req req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return fail(error("not a PEM certificate signing request"));
  return req;
}

Result<std::string> key_pem(EVP_PKEY* key) {
  return write_pem(
      [&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
      },
      "private key");
}

Result<std::string> cert_pem(X509* cert) {
  return write_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert); }, "certificate");
}

Result<std::string> req_pem(X509_REQ* req) {
  return write_pem([&](BIO* bio) { return PEM_write_bio_X509_REQ(bio, req); }, "request");
}

std::string sha256_hex(std::span<const unsigned char> bytes) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(bytes.data(), bytes.size(), md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof md);
  for (unsigned char b : md) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

Result<std::string> cert_fingerprint(X509* cert) {
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert, &der);
  if (size <= 0) return fail(error("cannot encode the certificate"));
  std::string hex = sha256_hex({der, static_cast<std::size_t>(size)});
  OPENSSL_free(der);
  return "sha256:" + hex;
}

std::string common_name(X509_NAME* name) {
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<std::size_t>(ASN1_STRING_length(data)));
}

}  // namespace corral::cluster::ossl
