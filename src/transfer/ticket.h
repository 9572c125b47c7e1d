// Tickets: which VM's files one agent may pull from another, and for how long.
//
// The controller puts the same ticket into the phase requests of both sides of a cold
// migration. The source agent registers it (TicketRegistry::allow) before the target pulls, and
// revokes it when its phase ends; the target presents {vm, op, secret} on every call.
//
// Contract:
// - new_secret() is 32 bytes from OpenSSL's RAND_bytes, as 64 lowercase hex digits.
// - allow() keeps one ticket per (vm, op); a second allow() of the same pair replaces it (a
//   re-sent phase request). Tickets expire at the Clock time given; expired ones are dropped.
// - check() accepts a call only when a live ticket exists for the request's vm and op, its
//   secret equals the presented one (constant-time compare), and the caller's verified
//   certificate CN is the ticket's target host. A refusal says which check failed (the server
//   answers PERMISSION_DENIED with that message), never echoing the secret. A ticket is "one-time"
//   per migration: it serves every call of that transfer (one per file, resumed calls) until
//   revoked or expired, and no other migration.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/clock.h"
#include "common/result.h"

namespace corral::transfer {

struct Ticket {
  std::int64_t vm = 0;
  std::int64_t op = 0;
  std::string source_host;
  std::string target_host;
  std::string secret;
};

[[nodiscard]] Result<std::string> new_secret();

// What check() found wrong; the server maps each to a gRPC status.
enum class Refusal : std::uint8_t {
  kNoTicket,     // no live ticket for this vm and op (never given, revoked, other VM)
  kBadSecret,    // a ticket exists, the secret differs
  kExpired,      // the ticket's time is over
  kWrongCaller,  // the caller's certificate names another host than the ticket's target
};

struct Refused {
  Refusal why;
  std::string message;
};

class TicketRegistry {
 public:
  explicit TicketRegistry(const Clock& clock) : clock_(clock) {}

  void allow(const Ticket& ticket, Millis expires_at);
  void revoke(std::int64_t vm, std::int64_t op);
  std::size_t size() const;

  // The ticket, or why the call is refused.
  [[nodiscard]] std::expected<Ticket, Refused> check(std::int64_t vm, std::int64_t op,
                                                     const std::string& secret,
                                                     const std::string& caller_host) const;

 private:
  struct Entry {
    Ticket ticket;
    Millis expires_at = 0;
  };
  void drop_expired_locked(Millis now);

  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::pair<std::int64_t, std::int64_t>, Entry> tickets_;
};

}  // namespace corral::transfer
