#include "auth/secrets.h"

#include <sodium.h>

#include <array>
#include <cstdlib>
#include <mutex>

namespace corral::auth {

const PasswordCost kInteractiveCost{crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                    crypto_pwhash_MEMLIMIT_INTERACTIVE};
const PasswordCost kCheapForTests{crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};

namespace {

void init_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Fails only when the kernel has no randomness source to give: nothing safe to go on with.
    if (sodium_init() < 0) std::abort();
  });
}

// base64url without padding of `bytes` random bytes.
template <std::size_t N>
std::string random_text() {
  init_sodium();
  std::array<unsigned char, N> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(N, kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), kVariant);
  out.resize(out.size() - 1);  // the encoder's terminating NUL
  sodium_memzero(bytes.data(), bytes.size());
  return out;
}

bool base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

Result<std::string> hash_password(std::string_view password, PasswordCost cost) {
  init_sodium();
  if (password.size() < kMinPasswordLength) {
    return fail(Error::invalid_argument("a password needs at least " +
                                        std::to_string(kMinPasswordLength) + " characters"));
  }
  if (password.size() > kMaxPasswordLength) {
    return fail(Error::invalid_argument("a password may have at most " +
                                        std::to_string(kMaxPasswordLength) + " characters"));
  }
  if (password.find('\0') != std::string_view::npos) {
    return fail(Error::invalid_argument("a password cannot hold a NUL character"));
  }
  std::array<char, crypto_pwhash_STRBYTES> encoded{};
  if (crypto_pwhash_str(encoded.data(), password.data(), password.size(), cost.ops,
                        cost.mem_bytes) != 0) {
    return fail(Error::internal("cannot hash a password: out of memory"));
  }
  return std::string(encoded.data());
}

bool verify_password(std::string_view encoded, std::string_view password) {
  init_sodium();
  if (encoded.empty() || encoded.size() >= crypto_pwhash_STRBYTES) return false;
  std::array<char, crypto_pwhash_STRBYTES> str{};  // NUL-terminated, as libsodium reads it
  encoded.copy(str.data(), encoded.size());
  return crypto_pwhash_str_verify(str.data(), password.data(), password.size()) == 0;
}

std::string new_token() { return std::string(kTokenPrefix) + random_text<32>(); }

bool token_shaped(std::string_view text) {
  if (text.size() != kTokenLength || !text.starts_with(kTokenPrefix)) return false;
  for (char c : text.substr(kTokenPrefix.size())) {
    if (!base64url_char(c)) return false;
  }
  return true;
}

std::string token_digest(std::string_view token) {
  init_sodium();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size());
  std::string hex(digest.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.pop_back();
  return hex;
}

std::string new_password() { return random_text<18>(); }

}  // namespace corral::auth
