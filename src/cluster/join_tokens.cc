#include "cluster/join_tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "cluster/files.h"
#include "cluster/openssl_util.h"
#include "cluster/pki.h"

namespace corral::cluster {

namespace {

using json = nlohmann::json;

constexpr std::string_view kTokenVersion = "cjt1";
constexpr std::string_view kFingerprintPrefix = "sha256:";

Result<std::string> random_hex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    return fail(ossl::error("cannot draw random bytes"));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buf) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

bool is_hex(std::string_view text, std::size_t size) {
  return text.size() == size && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string hash_secret(std::string_view secret) {
  return ossl::sha256_hex({reinterpret_cast<const unsigned char*>(secret.data()), secret.size()});
}

Error refused(const std::string& message) {
  return Error::invalid_argument("join token refused: " + message);
}

}  // namespace

// ---- File store ----------------------------------------------------------------------------

Result<std::vector<JoinTokenRecord>> FileJoinTokenStore::load() const {
  Result<std::string> text = read_file(path_);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return std::vector<JoinTokenRecord>{};
    return fail(text.error());
  }
  const json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return fail(Error::internal(path_.string() + " is not a JSON array"));
  std::vector<JoinTokenRecord> records;
  for (const json& row : doc) {
    if (!row.is_object() || !row.contains("id") || !row["id"].is_string() ||
        !row.contains("host") || !row["host"].is_string() || !row.contains("secret_sha256") ||
        !row["secret_sha256"].is_string() || !row.contains("created_at") ||
        !row["created_at"].is_number_integer() || !row.contains("expires_at") ||
        !row["expires_at"].is_number_integer()) {
      return fail(Error::internal(path_.string() + " has a malformed record"));
    }
    records.push_back(
        {row["id"], row["host"], row["secret_sha256"], row["created_at"], row["expires_at"]});
  }
  return records;
}

Status FileJoinTokenStore::save(const std::vector<JoinTokenRecord>& records) const {
  json doc = json::array();
  for (const JoinTokenRecord& r : records) {
    doc.push_back({{"id", r.id},
                   {"host", r.host},
                   {"secret_sha256", r.secret_sha256},
                   {"created_at", r.created_at},
                   {"expires_at", r.expires_at}});
  }
  return write_file_atomic(path_, doc.dump(1) + "\n", 0600);
}

Status FileJoinTokenStore::add(const JoinTokenRecord& record) {
  std::lock_guard lock(mu_);
  Result<std::vector<JoinTokenRecord>> records = load();
  if (!records) return fail(records.error());
  records->push_back(record);
  return save(*records);
}

Result<std::optional<JoinTokenRecord>> FileJoinTokenStore::find(std::string_view id) {
  std::lock_guard lock(mu_);
  Result<std::vector<JoinTokenRecord>> records = load();
  if (!records) return fail(records.error());
  for (JoinTokenRecord& r : *records) {
    if (r.id == id) return std::optional<JoinTokenRecord>(std::move(r));
  }
  return std::optional<JoinTokenRecord>();
}

Result<bool> FileJoinTokenStore::take(std::string_view id) {
  std::lock_guard lock(mu_);
  Result<std::vector<JoinTokenRecord>> records = load();
  if (!records) return fail(records.error());
  const std::size_t erased = std::erase_if(*records, [&](const auto& r) { return r.id == id; });
  if (erased == 0) return false;
  if (Status s = save(*records); !s) return fail(s.error());
  return true;
}

Result<std::vector<JoinTokenRecord>> FileJoinTokenStore::list() {
  std::lock_guard lock(mu_);
  return load();
}

Status FileJoinTokenStore::remove_expired(Millis now) {
  std::lock_guard lock(mu_);
  Result<std::vector<JoinTokenRecord>> records = load();
  if (!records) return fail(records.error());
  if (std::erase_if(*records, [&](const auto& r) { return r.expires_at <= now; }) == 0) return {};
  return save(*records);
}

// ---- Tokens --------------------------------------------------------------------------------

Result<ParsedJoinToken> parse_join_token(std::string_view token) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t colon = token.find(':', start);
    parts.push_back(token.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 5 || parts[0] != kTokenVersion) {
    return fail(
        refused("malformed (expected cjt1:<host>:<id>:<secret>:<ca-sha256>, as printed by "
                "`corral host add`)"));
  }
  if (!valid_host_name(parts[1]) || !is_hex(parts[2], 16) || !is_hex(parts[3], 64) ||
      !is_hex(parts[4], 64)) {
    return fail(refused("malformed (a field has the wrong length or characters; was it cut?)"));
  }
  return ParsedJoinToken{std::string(parts[1]), std::string(parts[2]), std::string(parts[3]),
                         std::string(kFingerprintPrefix) + std::string(parts[4])};
}

Result<std::string> JoinTokens::issue(std::string_view host, Millis ttl) {
  if (!valid_host_name(host)) {
    return fail(Error::invalid_argument("not a valid host name: \"" + std::string(host) + "\""));
  }
  if (ttl <= 0) return fail(Error::invalid_argument("a join token's lifetime must be positive"));
  if (!ca_fingerprint_.starts_with(kFingerprintPrefix)) {
    return fail(Error::internal("the CA fingerprint is not sha256:<hex>"));
  }
  Result<std::string> id = random_hex(8);
  if (!id) return fail(id.error());
  Result<std::string> secret = random_hex(32);
  if (!secret) return fail(secret.error());
  const Millis now = clock_.now_ms();
  if (Status s = store_.remove_expired(now); !s) return fail(s.error());
  JoinTokenRecord record{*id, std::string(host), hash_secret(*secret), now, now + ttl};
  if (Status s = store_.add(record); !s) return fail(s.error());
  return std::string(kTokenVersion) + ":" + std::string(host) + ":" + *id + ":" + *secret + ":" +
         ca_fingerprint_.substr(kFingerprintPrefix.size());
}

Result<std::string> JoinTokens::redeem(std::string_view token) {
  Result<ParsedJoinToken> parsed = parse_join_token(token);
  if (!parsed) return fail(parsed.error());
  if (parsed->ca_fingerprint != ca_fingerprint_) {
    return fail(refused("it was issued by another cluster (its CA fingerprint differs)"));
  }
  Result<std::optional<JoinTokenRecord>> record = store_.find(parsed->id);
  if (!record) return fail(record.error());
  const std::string expected = hash_secret(parsed->secret);
  if (!record->has_value() || (*record)->secret_sha256.size() != expected.size() ||
      CRYPTO_memcmp((*record)->secret_sha256.data(), expected.data(), expected.size()) != 0) {
    // One message for "never issued", "already used" and "wrong secret": a guesser learns nothing.
    return fail(refused("unknown or already used; ask for a new one with `corral host add " +
                        parsed->host + "`"));
  }
  const JoinTokenRecord& r = **record;
  if (r.host != parsed->host) {
    return fail(refused("it is bound to host \"" + r.host + "\", not \"" + parsed->host + "\""));
  }
  if (clock_.now_ms() >= r.expires_at) {
    (void)store_.take(r.id);  // expired: drop it; failing to is harmless, it stays refused
    return fail(refused("expired at " + format_time(r.expires_at) +
                        "; ask for a new one with `corral host add " + r.host + "`"));
  }
  Result<bool> taken = store_.take(r.id);
  if (!taken) return fail(taken.error());
  if (!*taken) return fail(refused("already used"));
  return r.host;
}

}  // namespace corral::cluster
