#include "cluster/pki.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "cluster/files.h"
#include "cluster/test_dir.h"

namespace corral::cluster {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr Millis kDay = 86400'000;

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(Pki, FirstStartCreatesThePrivateCaAndLaterStartsLoadTheSameOne) {
  TempDir tmp;
  FakeClock clock;
  const fs::path dir = tmp.path() / "pki";
  Result<CertificateAuthority> first = CertificateAuthority::load_or_create(dir, clock);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(mode_of(dir), 0700);
  EXPECT_EQ(mode_of(dir / "ca.key"), 0600);
  EXPECT_TRUE(first->fingerprint().starts_with("sha256:"));
  EXPECT_EQ(first->fingerprint().size(), 7U + 64U);

  Result<CertificateAuthority> again = CertificateAuthority::load_or_create(dir, clock);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->cert_pem(), first->cert_pem());
  EXPECT_EQ(again->fingerprint(), first->fingerprint());
  EXPECT_EQ(fingerprint_of(first->cert_pem()), first->fingerprint());
}

TEST(Pki, AHalfPresentCaIsAnErrorNeverReplaced) {
  for (const char* missing : {"ca.key", "ca.crt"}) {
    TempDir tmp;
    FakeClock clock;
    ASSERT_TRUE(CertificateAuthority::load_or_create(tmp.path(), clock));
    const std::string kept = *read_file(tmp.path() / "ca.crt");
    fs::remove(tmp.path() / missing);
    Result<CertificateAuthority> ca = CertificateAuthority::load_or_create(tmp.path(), clock);
    ASSERT_FALSE(ca) << missing;
    EXPECT_NE(ca.error().message.find("incomplete"), std::string::npos) << ca.error().message;
    EXPECT_FALSE(fs::exists(tmp.path() / missing)) << "a new CA was written";
    if (std::string(missing) == "ca.key") {
      EXPECT_EQ(*read_file(tmp.path() / "ca.crt"), kept);
    }
  }
}

TEST(Pki, AKeyThatDoesNotMatchTheCertificateIsRefused) {
  TempDir tmp;
  FakeClock clock;
  ASSERT_TRUE(CertificateAuthority::load_or_create(tmp.path() / "a", clock));
  ASSERT_TRUE(CertificateAuthority::load_or_create(tmp.path() / "b", clock));
  fs::copy_file(tmp.path() / "b" / "ca.key", tmp.path() / "a" / "ca.key",
                fs::copy_options::overwrite_existing);
  Result<CertificateAuthority> ca = CertificateAuthority::load_or_create(tmp.path() / "a", clock);
  ASSERT_FALSE(ca);
  EXPECT_NE(ca.error().message.find("does not match"), std::string::npos) << ca.error().message;
}

TEST(Pki, TheServerCertificateIsIssuedOnceAndReissuedWhenExpiredOrLackingAName) {
  TempDir tmp;
  FakeClock clock;
  Result<CertificateAuthority> ca = CertificateAuthority::load_or_create(tmp.path(), clock);
  ASSERT_TRUE(ca);
  Result<CertAndKey> server = ca->load_or_issue_server_cert({"localhost", "127.0.0.1"});
  ASSERT_TRUE(server) << server.error().message;
  EXPECT_EQ(mode_of(tmp.path() / "server.key"), 0600);
  EXPECT_TRUE(verify_issued_by(server->cert_pem, ca->cert_pem(), clock.now_ms()));

  Result<CertAndKey> same = ca->load_or_issue_server_cert({"localhost", "127.0.0.1"});
  ASSERT_TRUE(same);
  EXPECT_EQ(same->cert_pem, server->cert_pem);

  Result<CertAndKey> more = ca->load_or_issue_server_cert({"localhost", "controller.lan"});
  ASSERT_TRUE(more);
  EXPECT_NE(more->cert_pem, server->cert_pem);

  clock.advance(366 * kDay);
  EXPECT_FALSE(verify_issued_by(more->cert_pem, ca->cert_pem(), clock.now_ms()));
  Result<CertAndKey> renewed = ca->load_or_issue_server_cert({"localhost", "controller.lan"});
  ASSERT_TRUE(renewed);
  EXPECT_NE(renewed->cert_pem, more->cert_pem);
  EXPECT_TRUE(verify_issued_by(renewed->cert_pem, ca->cert_pem(), clock.now_ms()));
}

// The API's HTTPS port keeps its own pair beside the cluster's: issuing one for other names
// leaves the other as it was (each server would otherwise reissue the other's at every start).
TEST(Pki, AServerCertificateInAnotherDirIsIssuedApartFromTheCasOwn) {
  TempDir tmp;
  FakeClock clock;
  Result<CertificateAuthority> ca = CertificateAuthority::load_or_create(tmp.path() / "ca", clock);
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->cert_path(), tmp.path() / "ca" / "ca.crt");
  Result<CertAndKey> cluster = ca->load_or_issue_server_cert({"localhost", "127.0.0.1"});
  ASSERT_TRUE(cluster) << cluster.error().message;
  const fs::path api = tmp.path() / "api";
  Result<CertAndKey> own = ca->load_or_issue_server_cert_in(api, {"localhost", "::1", "api.lan"});
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(mode_of(api), 0700);
  EXPECT_EQ(mode_of(api / "server.key"), 0600);
  EXPECT_EQ(read_file(api / "server.crt"), own->cert_pem);
  EXPECT_TRUE(verify_issued_by(own->cert_pem, ca->cert_pem(), clock.now_ms()));
  EXPECT_EQ(read_file(tmp.path() / "ca" / "server.crt"), cluster->cert_pem);

  Result<CertAndKey> again = ca->load_or_issue_server_cert_in(api, {"localhost", "::1", "api.lan"});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->cert_pem, own->cert_pem) << "still valid and naming them all: reused";
  EXPECT_FALSE(ca->load_or_issue_server_cert_in(api, {"not a name"}));
}

TEST(Pki, AnAgentCsrForItsHostIsSignedWithTheHostAsCommonName) {
  TempDir tmp;
  FakeClock clock;
  Result<CertificateAuthority> ca = CertificateAuthority::load_or_create(tmp.path(), clock);
  ASSERT_TRUE(ca);
  Result<std::string> key = generate_private_key();
  ASSERT_TRUE(key);
  Result<std::string> csr = make_csr(*key, "node-1");
  ASSERT_TRUE(csr) << csr.error().message;
  Result<std::string> cert = ca->sign_agent_csr(*csr, "node-1");
  ASSERT_TRUE(cert) << cert.error().message;
  EXPECT_EQ(common_name_of(*cert), "node-1");
  EXPECT_TRUE(verify_issued_by(*cert, ca->cert_pem(), clock.now_ms()));
  // The private key stayed with the agent: nothing of it is in the CA's directory.
  for (const auto& entry : fs::directory_iterator(tmp.path())) {
    EXPECT_EQ(read_file(entry.path())->find(*key), std::string::npos) << entry.path();
  }
}

TEST(Pki, CsrsThatDoNotProveTheirHostOrKeyAreRefused) {
  TempDir tmp;
  FakeClock clock;
  Result<CertificateAuthority> ca = CertificateAuthority::load_or_create(tmp.path(), clock);
  ASSERT_TRUE(ca);
  Result<std::string> key = generate_private_key();
  ASSERT_TRUE(key);
  Result<std::string> other_host = make_csr(*key, "node-2");
  ASSERT_TRUE(other_host);
  std::string tampered = *make_csr(*key, "node-1");
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';

  struct Case {
    const char* what;
    std::string csr;
    std::string host;
    const char* message;
  };
  const Case cases[] = {
      {"another host's CSR", *other_host, "node-1", "names \"node-2\""},
      {"not PEM", "hello", "node-1", "not a PEM"},
      {"tampered", tampered, "node-1", ""},
      {"bad host", *other_host, "../etc", "not a valid host name"},
  };
  for (const Case& c : cases) {
    Result<std::string> cert = ca->sign_agent_csr(c.csr, c.host);
    ASSERT_FALSE(cert) << c.what;
    EXPECT_NE(cert.error().message.find(c.message), std::string::npos)
        << c.what << ": " << cert.error().message;
  }
}

TEST(Pki, ACertificateOfAnotherCaIsNotIssuedByThisOne) {
  TempDir tmp;
  FakeClock clock;
  Result<CertificateAuthority> ours = CertificateAuthority::load_or_create(tmp.path() / "a", clock);
  Result<CertificateAuthority> theirs =
      CertificateAuthority::load_or_create(tmp.path() / "b", clock);
  ASSERT_TRUE(ours && theirs);
  EXPECT_NE(ours->fingerprint(), theirs->fingerprint());
  Result<std::string> cert = theirs->sign_agent_csr(*make_csr(*generate_private_key(), "n"), "n");
  ASSERT_TRUE(cert);
  EXPECT_FALSE(verify_issued_by(*cert, ours->cert_pem(), clock.now_ms()));
}

TEST(Pki, HostNames) {
  for (const char* good : {"node-1", "a", "h.example.org", "x_y"})
    EXPECT_TRUE(valid_host_name(good));
  for (const char* bad : {"", ".hidden", "-x", "a/b", "a b", "a:b", "..",
                          "0123456789012345678901234567890123456789012345678901234567890123"}) {
    EXPECT_FALSE(valid_host_name(bad)) << bad;
  }
}

}  // namespace
}  // namespace corral::cluster
