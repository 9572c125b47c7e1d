// Where the CLI's token comes from, and where `corral login` keeps it.
//
// Contract: the token sent with a request is the first of:
//   1. --token, or the environment's CORRAL_TOKEN;
//   2. the saved login for this server URL (`corral login`), in
//      $XDG_CONFIG_HOME/corral/credentials.json (default ~/.config/corral/), mode 0600;
//   3. for a server on this machine's loopback only: the server's local admin credential,
//      <data dir>/admin.token, readable only by whoever may read the server's data dir
//      (CORRAL_DATA_DIR, default ./var, the server's default): as OpenNebula's
//      ~oneadmin/.one/one_auth, it makes the machine's operator the admin without a login,
//      and it is never sent to a server elsewhere.
// None: no token (the server answers 401 saying to log in).
#pragma once

#include <optional>
#include <string>

#include "cli/failure.h"

namespace corral::cli {

inline constexpr const char* kTokenEnv = "CORRAL_TOKEN";
inline constexpr const char* kDataDirEnv = "CORRAL_DATA_DIR";
inline constexpr const char* kAdminTokenFile = "admin.token";

// The server's data dir on this machine as the CLI assumes it: CORRAL_DATA_DIR, else "var"
// (the server's default ./var, from the directory `make run` runs in).
std::string local_data_dir();

// The token for `server` by the rules above ("" if none). `flag` is --token's value.
std::string token_for(const std::string& server, const std::string& flag);

// The saved login for `server`, if any.
std::optional<std::string> saved_token(const std::string& server);
// Saves (replacing) / forgets the login for `server`. Errors name the file.
[[nodiscard]] CliResult<void> save_token(const std::string& server, const std::string& token);
[[nodiscard]] CliResult<void> forget_token(const std::string& server);
std::string credentials_path();

}  // namespace corral::cli
