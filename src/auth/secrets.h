// Secrets: passwords hashed with Argon2id, API tokens drawn from the kernel's CSPRNG and kept
// only as their SHA-256 digest (libsodium).
//
// Contract:
// - A password is hashed with crypto_pwhash_str (Argon2id, a random salt per hash; the
//   encoded "$argon2id$..." string carries its parameters, so verify() needs no cost and old
//   hashes keep verifying after the cost changes). Never SHA-256 (OpenNebula's unsalted
//   SHA-256 is the warning).
// - A token is "crl_" + 43 base64url characters: 256 random bits. It is shown once; the store
//   keeps token_digest(token) (a fast hash is right for a secret with this much entropy: no
//   guessing attack to slow down) and finds a token by its digest, so a lookup never compares
//   a secret byte by byte.
// - Everything here is thread-safe (libsodium is initialised once, on first use).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace corral::auth {

// Argon2id's work factors. kInteractive is libsodium's INTERACTIVE (t=2, 64 MiB; OWASP asks
// for at least 19 MiB, t=2); kCheapForTests is the minimum, for tests that create many users.
struct PasswordCost {
  unsigned long long ops = 0;
  std::size_t mem_bytes = 0;
};
extern const PasswordCost kInteractiveCost;
extern const PasswordCost kCheapForTests;

inline constexpr std::size_t kMinPasswordLength = 8;
inline constexpr std::size_t kMaxPasswordLength = 1024;

// kInvalidArgument if the password is shorter than kMinPasswordLength, longer than
// kMaxPasswordLength, or holds a NUL; kInternal if libsodium cannot allocate the memory.
[[nodiscard]] Result<std::string> hash_password(std::string_view password, PasswordCost cost);
// Whether `password` is the one `encoded` was made from (false for a malformed `encoded`).
[[nodiscard]] bool verify_password(std::string_view encoded, std::string_view password);

inline constexpr std::string_view kTokenPrefix = "crl_";
inline constexpr std::size_t kTokenLength = 4 + 43;

[[nodiscard]] std::string new_token();
// Whether `text` has a token's shape (prefix, length, base64url alphabet): anything else is
// refused before any lookup.
[[nodiscard]] bool token_shaped(std::string_view text);
// SHA-256 of the token, as 64 lowercase hex digits.
[[nodiscard]] std::string token_digest(std::string_view token);
// A password for a user made by Corral (the first admin): 24 base64url characters (144 bits).
[[nodiscard]] std::string new_password();

}  // namespace corral::auth
