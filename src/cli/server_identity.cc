#include "cli/server_identity.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/identity_store.h"
#include "cli/credentials.h"

namespace corral::cli {
namespace {

namespace fs = std::filesystem;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Result<std::string> read_secret_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail(Error::invalid_argument("--admin-password-file: cannot read " + path));
  std::ostringstream all;
  all << in.rdbuf();
  return trimmed(all.str());
}

// Writes `text` to `path` with mode 0600 from its creation, replacing it atomically.
Status write_private(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const bool ok = fd >= 0 &&
                  ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(Error{ErrorCode::kUnavailable, "cannot write " + path.string(), {}, {}});
  }
  return {};
}

// A user holding admin on the admin project: "admin" if it still does, else the first.
std::optional<auth::UserId> cloud_admin(const auth::Identity& identity) {
  std::optional<auth::UserId> first;
  for (const auth::Assignment& a : identity.assignments()) {
    if (a.project != auth::kAdminProjectId || a.role != auth::Role::kAdmin) continue;
    const std::optional<auth::User> u = identity.find_user(std::to_string(a.user));
    if (!u || !u->enabled) continue;
    if (u->name == "admin") return u->id;
    if (!first) first = u->id;
  }
  return first;
}

// Keeps <data dir>/admin.token a working cloud-admin token: the one there if it still
// authenticates as the cloud's admin, else a new one (never expiring; revoked like any token).
Status keep_local_credential(auth::Identity& identity, const std::string& data_dir) {
  const fs::path path = fs::path(data_dir) / kAdminTokenFile;
  std::ifstream in(path);
  std::string token;
  if (in) std::getline(in, token);
  if (Result<auth::Principal> who = identity.authenticate(token); who && who->cloud_admin()) {
    return {};
  }
  const std::optional<auth::UserId> admin = cloud_admin(identity);
  if (!admin) {
    std::error_code ignored;
    fs::remove(path, ignored);
    std::printf("corral: no enabled user is admin of the admin project: no %s written\n",
                path.c_str());
    return {};
  }
  Result<auth::IssuedToken> issued = identity.issue(
      *admin, auth::kAdminProjectId, 0, true, "local admin credential (" + path.string() + ")");
  if (!issued) return fail(issued.error());
  return write_private(path, issued->token + "\n");
}

}  // namespace

Result<std::unique_ptr<auth::Identity>> open_identity(const std::string& db_path,
                                                      const std::string& data_dir,
                                                      const std::string& admin_password_file,
                                                      Clock& clock) {
  Result<std::unique_ptr<auth::IdentityStore>> store = auth::open_identity_store(db_path);
  if (!store) return fail(store.error());
  auto identity = std::make_unique<auth::Identity>(std::move(*store), clock);
  if (Status loaded = identity->load(); !loaded) return fail(loaded.error());
  std::optional<std::string> password;
  if (!admin_password_file.empty()) {
    Result<std::string> read = read_secret_file(admin_password_file);
    if (!read) return fail(read.error());
    password = std::move(*read);
  }
  Result<std::optional<std::string>> made = identity->bootstrap("admin", password);
  if (!made) return fail(made.error());
  if (made->has_value()) {
    std::printf(
        "corral: created the user admin (admin of the project admin); its password, shown "
        "once: %s\n",
        (*made)->c_str());
  }
  if (Status kept = keep_local_credential(*identity, data_dir); !kept) return fail(kept.error());
  std::printf(
      "corral: users log in with `corral login USER`; the CLI on this machine acts as the admin "
      "through %s when nobody is logged in\n",
      (fs::path(data_dir) / kAdminTokenFile).c_str());
  return identity;
}

Result<auth::Principal> local_admin_principal(const auth::Identity& identity,
                                              const std::string& data_dir) {
  const fs::path path = fs::path(data_dir) / kAdminTokenFile;
  std::ifstream in(path);
  std::string token;
  if (in) std::getline(in, token);
  Result<auth::Principal> who = identity.authenticate(token);
  if (!who || !who->cloud_admin()) {
    return fail(Error{
        ErrorCode::kUnauthenticated,
        "--no-auth acts as the local admin, but " + path.string() + " holds no cloud-admin token",
        {},
        {}});
  }
  return who;
}

}  // namespace corral::cli
