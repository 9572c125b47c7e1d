// Roles: Keystone's bootstrap roles and their implied chain (admin -> manager -> member ->
// reader), as data.
//
// Contract: a role's number is persisted (role_assignments.role) and never reused. A role
// implies every role below it in kRoleChain, so "needs member" is met by member, manager and
// admin. Admin is cloud-wide only when held on the admin project (auth/identity.h); held on
// any other project it is that project's highest role and nothing more — the fix for Keystone
// bug 968696, where admin on any project was admin everywhere.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace corral::auth {

enum class Role : std::uint8_t {
  kReader = 1,   // reads its project's resources
  kMember = 2,   // creates, changes and deletes its project's resources
  kManager = 3,  // and moves them (migrate without a host), as Nova's project manager
  kAdmin = 4,    // and its project's users and quotas; on the admin project: everything
};

// Lowest first: each implies the ones before it.
inline constexpr std::array<Role, 4> kRoleChain = {Role::kReader, Role::kMember, Role::kManager,
                                                   Role::kAdmin};

// Whether holding `held` satisfies a need for `needed` (the implied chain).
constexpr bool role_implies(Role held, Role needed) {
  return static_cast<std::uint8_t>(held) >= static_cast<std::uint8_t>(needed);
}

std::string_view role_name(Role role);  // "member"
std::optional<Role> parse_role(std::string_view name);
// Whether `n` is a stored role's number (for reading rows).
bool role_known(Role role);

}  // namespace corral::auth
