#include "auth/roles.h"

namespace corral::auth {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kMember:
      return "member";
    case Role::kManager:
      return "manager";
    case Role::kAdmin:
      return "admin";
  }
  return "reader";
}

std::optional<Role> parse_role(std::string_view name) {
  for (Role role : kRoleChain) {
    if (role_name(role) == name) return role;
  }
  return std::nullopt;
}

bool role_known(Role role) {
  switch (role) {
    case Role::kReader:
    case Role::kMember:
    case Role::kManager:
    case Role::kAdmin:
      return true;
  }
  return false;
}

}  // namespace corral::auth
