// The server's identity at start: the identity tables opened, the first admin made on the
// first start (its password printed once, or read from --admin-password-file), and the local
// admin credential <data dir>/admin.token (0600) kept valid for the CLI on this machine.
#pragma once

#include <memory>
#include <string>

#include "auth/identity.h"
#include "common/clock.h"
#include "common/result.h"

namespace corral::cli {

// Errors: kUnavailable (the database), kInvalidArgument (an unreadable or too short password
// file). `clock` must outlive the Identity.
[[nodiscard]] Result<std::unique_ptr<auth::Identity>> open_identity(
    const std::string& db_path, const std::string& data_dir, const std::string& admin_password_file,
    Clock& clock);

// Who <data dir>/admin.token authenticates as (the local admin credential open_identity
// keeps), for `corral server --no-auth`. Errors: kUnauthenticated when there is none or it is
// no longer the cloud's admin.
[[nodiscard]] Result<auth::Principal> local_admin_principal(const auth::Identity& identity,
                                                            const std::string& data_dir);

}  // namespace corral::cli
