#include "cluster/pki.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <utility>

#include "cluster/files.h"
#include "cluster/openssl_util.h"

namespace corral::cluster {

namespace fs = std::filesystem;

namespace {

constexpr long kBackdateSeconds = 300;  // tolerated clock skew between controller and agents

using Extensions = std::vector<std::pair<int, std::string>>;

bool is_ip_address(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// A certificate for `cn` and `subject_key`, signed by issuer/issuer_key (self-signed when
// issuer is null). Extensions are added in order (subjectKeyIdentifier before
// authorityKeyIdentifier, which reads it on a self-signed certificate).
Result<ossl::Cert> issue(std::string_view cn, EVP_PKEY* subject_key, X509* issuer,
                         EVP_PKEY* issuer_key, Millis now, Millis validity,
                         const Extensions& extensions) {
  ossl::Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return fail(ossl::error("cannot make a certificate"));
  }
  // A random 159-bit serial (RFC 5280: positive, at most 20 octets; CAs use ≥ 64 random bits).
  std::unique_ptr<BIGNUM, ossl::Free> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    return fail(ossl::error("cannot draw a serial number"));
  }
  const time_t seconds = static_cast<time_t>(now / 1000);
  if (!ASN1_TIME_adj(X509_getm_notBefore(cert.get()), seconds, 0, -kBackdateSeconds) ||
      !ASN1_TIME_adj(X509_getm_notAfter(cert.get()), seconds, 0,
                     static_cast<long>(validity / 1000))) {
    return fail(ossl::error("cannot set the validity"));
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.data()),
                                 static_cast<int>(cn.size()), -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    return fail(ossl::error("cannot set the names"));
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    std::unique_ptr<X509_EXTENSION, ossl::Free> ext(
        X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) {
      return fail(
          ossl::error("cannot add extension " + std::string(OBJ_nid2sn(nid)) + "=" + value));
    }
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) {
    return fail(ossl::error("cannot sign the certificate"));
  }
  return cert;
}

Extensions leaf_extensions(std::string_view eku, std::string san) {
  return {{NID_basic_constraints, "critical,CA:FALSE"},
          {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
          {NID_ext_key_usage, std::string(eku)},
          {NID_subject_key_identifier, "hash"},
          {NID_authority_key_identifier, "keyid:always"},
          {NID_subject_alt_name, std::move(san)}};
}

// Valid at `now`: notBefore <= now < notAfter.
bool valid_at(X509* cert, Millis now) {
  time_t t = static_cast<time_t>(now / 1000);
  return X509_cmp_time(X509_get0_notBefore(cert), &t) < 0 &&
         X509_cmp_time(X509_get0_notAfter(cert), &t) > 0;
}

bool is_p256(EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) return false;
  char group[64];
  std::size_t length = 0;
  return EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &length) == 1 &&
         std::string_view(group, length) == "prime256v1";
}

Status write_pair(const fs::path& dir, std::string_view stem, const CertAndKey& pair) {
  // The key first: a crash between the two leaves a key without its certificate, which
  // load_or_create reports instead of replacing.
  if (Status s = write_file_atomic(dir / (std::string(stem) + ".key"), pair.key_pem, 0600); !s) {
    return s;
  }
  return write_file_atomic(dir / (std::string(stem) + ".crt"), pair.cert_pem, 0644);
}

}  // namespace

struct CertificateAuthority::Impl {
  fs::path dir;
  const Clock* clock = nullptr;
  PkiOptions options;
  ossl::Key key;
  ossl::Cert cert;
  std::string cert_pem;
  std::string fingerprint;
};

CertificateAuthority::CertificateAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CertificateAuthority::CertificateAuthority(CertificateAuthority&&) noexcept = default;
CertificateAuthority& CertificateAuthority::operator=(CertificateAuthority&&) noexcept = default;
CertificateAuthority::~CertificateAuthority() = default;

const std::string& CertificateAuthority::cert_pem() const { return impl_->cert_pem; }
const std::string& CertificateAuthority::fingerprint() const { return impl_->fingerprint; }

Result<CertificateAuthority> CertificateAuthority::load_or_create(const fs::path& dir,
                                                                  const Clock& clock,
                                                                  const PkiOptions& options) {
  if (Status s = ensure_private_dir(dir); !s) return fail(s.error());
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->clock = &clock;
  impl->options = options;

  const fs::path key_path = dir / "ca.key";
  const fs::path cert_path = dir / "ca.crt";
  const bool has_key = fs::exists(key_path);
  const bool has_cert = fs::exists(cert_path);
  if (has_key != has_cert) {
    return fail(Error::internal(
        "the cluster CA in " + dir.string() + " is incomplete (" +
        (has_key ? cert_path : key_path).string() +
        " is missing); restore it from a backup: a new CA would make every agent's certificate "
        "worthless"));
  }
  if (has_key) {
    Result<std::string> key_pem = read_file(key_path);
    if (!key_pem) return fail(key_pem.error());
    Result<std::string> cert_text = read_file(cert_path);
    if (!cert_text) return fail(cert_text.error());
    Result<ossl::Key> key = ossl::read_key(*key_pem);
    if (!key) return fail(Error::internal(key_path.string() + ": " + key.error().message));
    Result<ossl::Cert> cert = ossl::read_cert(*cert_text);
    if (!cert) return fail(Error::internal(cert_path.string() + ": " + cert.error().message));
    if (X509_check_private_key(cert->get(), key->get()) != 1) {
      return fail(ossl::error(key_path.string() + " does not match " + cert_path.string()));
    }
    impl->key = std::move(*key);
    impl->cert = std::move(*cert);
    impl->cert_pem = std::move(*cert_text);
  } else {
    Result<ossl::Key> key = ossl::generate_p256();
    if (!key) return fail(key.error());
    Result<ossl::Cert> cert = issue(options.cluster_name + " cluster CA", key->get(), nullptr,
                                    key->get(), clock.now_ms(), options.ca_validity_ms,
                                    {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                     {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                     {NID_subject_key_identifier, "hash"},
                                     {NID_authority_key_identifier, "keyid:always"}});
    if (!cert) return fail(cert.error());
    Result<std::string> key_pem = ossl::key_pem(key->get());
    Result<std::string> cert_text = ossl::cert_pem(cert->get());
    if (!key_pem) return fail(key_pem.error());
    if (!cert_text) return fail(cert_text.error());
    if (Status s = write_pair(dir, "ca", {*cert_text, *key_pem}); !s) return fail(s.error());
    impl->key = std::move(*key);
    impl->cert = std::move(*cert);
    impl->cert_pem = std::move(*cert_text);
  }
  Result<std::string> fingerprint = ossl::cert_fingerprint(impl->cert.get());
  if (!fingerprint) return fail(fingerprint.error());
  impl->fingerprint = std::move(*fingerprint);
  return CertificateAuthority(std::move(impl));
}

fs::path CertificateAuthority::cert_path() const { return impl_->dir / "ca.crt"; }

Result<CertAndKey> CertificateAuthority::load_or_issue_server_cert(
    const std::vector<std::string>& names) {
  return load_or_issue_server_cert_in(impl_->dir, names);
}

Result<CertAndKey> CertificateAuthority::load_or_issue_server_cert_in(
    const fs::path& dir, const std::vector<std::string>& names) {
  if (names.empty()) return fail(Error::invalid_argument("a server certificate needs a name"));
  if (Status s = ensure_private_dir(dir); !s) return fail(s.error());
  const Millis now = impl_->clock->now_ms();
  Result<std::string> cert_text = read_file(dir / "server.crt");
  Result<std::string> key_text = read_file(dir / "server.key");
  if (cert_text && key_text) {
    Result<ossl::Cert> cert = ossl::read_cert(*cert_text);
    Result<ossl::Key> key = ossl::read_key(*key_text);
    bool usable = cert && key && X509_check_private_key(cert->get(), key->get()) == 1 &&
                  X509_verify(cert->get(), X509_get0_pubkey(impl_->cert.get())) == 1 &&
                  valid_at(cert->get(), now);
    for (const std::string& name : names) {
      if (!usable) break;
      usable = is_ip_address(name)
                   ? X509_check_ip_asc(cert->get(), name.c_str(), 0) == 1
                   : X509_check_host(cert->get(), name.data(), name.size(), 0, nullptr) == 1;
    }
    ERR_clear_error();  // the failed checks above queue reasons we do not report
    if (usable) return CertAndKey{std::move(*cert_text), std::move(*key_text)};
  }
  std::string san;
  for (const std::string& name : names) {
    if (!is_ip_address(name) && !valid_host_name(name)) {
      return fail(Error::invalid_argument("not a host name nor an IP address: " + name));
    }
    san += (san.empty() ? "" : ",") + std::string(is_ip_address(name) ? "IP:" : "DNS:") + name;
  }
  Result<ossl::Key> key = ossl::generate_p256();
  if (!key) return fail(key.error());
  Result<ossl::Cert> cert =
      issue(names.front(), key->get(), impl_->cert.get(), impl_->key.get(), now,
            impl_->options.leaf_validity_ms, leaf_extensions("serverAuth", san));
  if (!cert) return fail(cert.error());
  Result<std::string> key_pem = ossl::key_pem(key->get());
  Result<std::string> cert_pem = ossl::cert_pem(cert->get());
  if (!key_pem) return fail(key_pem.error());
  if (!cert_pem) return fail(cert_pem.error());
  CertAndKey pair{std::move(*cert_pem), std::move(*key_pem)};
  if (Status s = write_pair(dir, "server", pair); !s) return fail(s.error());
  return pair;
}

Status check_agent_csr(std::string_view csr_pem, std::string_view host) {
  if (!valid_host_name(host)) {
    return fail(Error::invalid_argument("not a valid host name: \"" + std::string(host) + "\""));
  }
  Result<ossl::Req> req = ossl::read_req(csr_pem);
  if (!req) return fail(Error::invalid_argument(req.error().message));
  EVP_PKEY* key = X509_REQ_get0_pubkey(req->get());
  if (key == nullptr || X509_REQ_verify(req->get(), key) != 1) {
    ERR_clear_error();
    return fail(Error::invalid_argument("the certificate request's signature does not verify"));
  }
  if (!is_p256(key)) {
    return fail(Error::invalid_argument("the certificate request's key is not EC P-256"));
  }
  const std::string cn = ossl::common_name(X509_REQ_get_subject_name(req->get()));
  if (cn != host) {
    return fail(Error::invalid_argument("the certificate request names \"" + cn +
                                        "\", not the host \"" + std::string(host) + "\""));
  }
  return {};
}

Result<std::string> CertificateAuthority::sign_agent_csr(std::string_view csr_pem,
                                                         std::string_view host) {
  if (Status ok = check_agent_csr(csr_pem, host); !ok) return fail(ok.error());
  Result<ossl::Req> req = ossl::read_req(csr_pem);
  if (!req) return fail(req.error());
  Result<ossl::Cert> cert =
      issue(host, X509_REQ_get0_pubkey(req->get()), impl_->cert.get(), impl_->key.get(),
            impl_->clock->now_ms(), impl_->options.leaf_validity_ms,
            leaf_extensions("clientAuth", "DNS:" + std::string(host)));
  if (!cert) return fail(cert.error());
  return ossl::cert_pem(cert->get());
}

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 63 || host.front() == '.' || host.front() == '-') return false;
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<std::string> generate_private_key() {
  Result<ossl::Key> key = ossl::generate_p256();
  if (!key) return fail(key.error());
  return ossl::key_pem(key->get());
}

Result<std::string> make_csr(std::string_view key_pem, std::string_view host) {
  if (!valid_host_name(host)) {
    return fail(Error::invalid_argument("not a valid host name: \"" + std::string(host) + "\""));
  }
  Result<ossl::Key> key = ossl::read_key(key_pem);
  if (!key) return fail(key.error());
  ossl::Req req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(host.data()),
                                 static_cast<int>(host.size()), -1, 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), key->get()) != 1 ||
      X509_REQ_sign(req.get(), key->get(), EVP_sha256()) <= 0) {
    return fail(ossl::error("cannot make the certificate request"));
  }
  return ossl::req_pem(req.get());
}

Result<std::string> fingerprint_of(std::string_view cert_pem) {
  Result<ossl::Cert> cert = ossl::read_cert(cert_pem);
  if (!cert) return fail(cert.error());
  return ossl::cert_fingerprint(cert->get());
}

Result<std::string> common_name_of(std::string_view cert_pem) {
  Result<ossl::Cert> cert = ossl::read_cert(cert_pem);
  if (!cert) return fail(cert.error());
  return ossl::common_name(X509_get_subject_name(cert->get()));
}

Status verify_issued_by(std::string_view cert_pem, std::string_view ca_pem, Millis now) {
  Result<ossl::Cert> cert = ossl::read_cert(cert_pem);
  if (!cert) return fail(cert.error());
  Result<ossl::Cert> ca = ossl::read_cert(ca_pem);
  if (!ca) return fail(ca.error());
  if (X509_check_issued(ca->get(), cert->get()) != X509_V_OK ||
      X509_verify(cert->get(), X509_get0_pubkey(ca->get())) != 1) {
    ERR_clear_error();
    return fail(Error::invalid_argument("the certificate is not signed by this CA"));
  }
  if (!valid_at(cert->get(), now)) {
    return fail(Error::invalid_argument("the certificate is not valid now (expired or not yet)"));
  }
  return {};
}

}  // namespace corral::cluster
