#include "transfer/ticket.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

namespace corral::transfer {

Result<std::string> new_secret() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return fail(Error::internal("cannot draw a random ticket secret"));
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

void TicketRegistry::allow(const Ticket& ticket, Millis expires_at) {
  std::lock_guard lock(mu_);
  drop_expired_locked(clock_.now_ms());
  tickets_[{ticket.vm, ticket.op}] = Entry{ticket, expires_at};
}

void TicketRegistry::revoke(std::int64_t vm, std::int64_t op) {
  std::lock_guard lock(mu_);
  tickets_.erase({vm, op});
}

std::size_t TicketRegistry::size() const {
  std::lock_guard lock(mu_);
  return tickets_.size();
}

void TicketRegistry::drop_expired_locked(Millis now) {
  std::erase_if(tickets_, [now](const auto& item) { return item.second.expires_at <= now; });
}

std::expected<Ticket, Refused> TicketRegistry::check(std::int64_t vm, std::int64_t op,
                                                     const std::string& secret,
                                                     const std::string& caller_host) const {
  const std::string which = "VM " + std::to_string(vm) + " operation " + std::to_string(op);
  std::lock_guard lock(mu_);
  const auto it = tickets_.find({vm, op});
  if (it == tickets_.end()) {
    return std::unexpected(
        Refused{Refusal::kNoTicket, "this agent holds no transfer ticket for " + which});
  }
  const Entry& entry = it->second;
  // Secret first: a caller that does not know it learns nothing else about the ticket.
  if (secret.size() != entry.ticket.secret.size() ||
      CRYPTO_memcmp(secret.data(), entry.ticket.secret.data(), secret.size()) != 0) {
    return std::unexpected(
        Refused{Refusal::kBadSecret, "wrong transfer ticket secret for " + which});
  }
  if (entry.expires_at <= clock_.now_ms()) {
    return std::unexpected(
        Refused{Refusal::kExpired, "the transfer ticket for " + which + " has expired"});
  }
  if (caller_host.empty() || caller_host != entry.ticket.target_host) {
    return std::unexpected(Refused{
        Refusal::kWrongCaller, "the transfer ticket for " + which + " is for host \"" +
                                   entry.ticket.target_host + "\", not \"" + caller_host + "\""});
  }
  return entry.ticket;
}

}  // namespace corral::transfer
