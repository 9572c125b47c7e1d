// One-time join tokens: `corral host add NAME` prints one; `corral agent --join TOKEN` spends it
// to have its certificate signed.
//
// A token reads "cjt1:<host>:<id>:<secret>:<ca-sha256>":
//   - host: the host the token is bound to (the agent's certificate will name it);
//   - id: 16 hex digits, public, to find the record;
//   - secret: 64 hex digits (32 bytes from OpenSSL's RAND_bytes);
//   - ca-sha256: the hex SHA-256 of the cluster CA certificate's DER, so the agent can pin the
//     controller's CA on first contact, before it trusts anything the controller says
//     (kubeadm's --discovery-token-ca-cert-hash).
//
// Contract:
// - Only SHA-256(secret) is stored, with the host and the expiry (default 1 hour), through a
//   JoinTokenStore (a file under the data dir today; the store later).
// - redeem() succeeds at most once per token: the record is removed when spent. A token that is
//   malformed, unknown, already used, expired, or bound to another host is refused with a
//   message saying which; a wrong secret or host does not spend the token. Secrets are compared
//   in constant time.
// - Time comes from the injected Clock.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace corral::cluster {

struct JoinTokenRecord {
  std::string id;
  std::string host;
  std::string secret_sha256;  // hex
  Millis created_at = 0;
  Millis expires_at = 0;
  friend bool operator==(const JoinTokenRecord&, const JoinTokenRecord&) = default;
};

// Where token records live. Implementations serialize their own calls.
class JoinTokenStore {
 public:
  virtual ~JoinTokenStore() = default;
  [[nodiscard]] virtual Status add(const JoinTokenRecord& record) = 0;
  [[nodiscard]] virtual Result<std::optional<JoinTokenRecord>> find(std::string_view id) = 0;
  // Removes the record; false when it was not there (another caller spent it first).
  [[nodiscard]] virtual Result<bool> take(std::string_view id) = 0;
  [[nodiscard]] virtual Result<std::vector<JoinTokenRecord>> list() = 0;
  [[nodiscard]] virtual Status remove_expired(Millis now) = 0;
};

// The records as one JSON file (mode 0600), replaced atomically at every change.
class FileJoinTokenStore final : public JoinTokenStore {
 public:
  explicit FileJoinTokenStore(std::filesystem::path path) : path_(std::move(path)) {}
  Status add(const JoinTokenRecord& record) override;
  Result<std::optional<JoinTokenRecord>> find(std::string_view id) override;
  Result<bool> take(std::string_view id) override;
  Result<std::vector<JoinTokenRecord>> list() override;
  Status remove_expired(Millis now) override;

 private:
  Result<std::vector<JoinTokenRecord>> load() const;
  Status save(const std::vector<JoinTokenRecord>& records) const;
  std::filesystem::path path_;
  std::mutex mu_;
};

// A token as the agent reads it.
struct ParsedJoinToken {
  std::string host;
  std::string id;
  std::string secret;
  std::string ca_fingerprint;  // "sha256:<hex>", as CertificateAuthority::fingerprint()
};
[[nodiscard]] Result<ParsedJoinToken> parse_join_token(std::string_view token);

inline constexpr Millis kDefaultJoinTokenTtl = 3600'000;

class JoinTokens {
 public:
  // ca_fingerprint: "sha256:<hex>" of the cluster CA (CertificateAuthority::fingerprint()).
  JoinTokens(JoinTokenStore& store, const Clock& clock, std::string ca_fingerprint)
      : store_(store), clock_(clock), ca_fingerprint_(std::move(ca_fingerprint)) {}

  // A new token bound to `host`, valid for `ttl`.
  [[nodiscard]] Result<std::string> issue(std::string_view host, Millis ttl = kDefaultJoinTokenTtl);

  // Spends the token; returns the host it was bound to.
  [[nodiscard]] Result<std::string> redeem(std::string_view token);

 private:
  JoinTokenStore& store_;
  const Clock& clock_;
  std::string ca_fingerprint_;
};

}  // namespace corral::cluster
