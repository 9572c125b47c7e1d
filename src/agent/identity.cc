#include "agent/identity.h"

#include "cluster/files.h"
#include "cluster/pki.h"
#include "wire/join.h"

namespace corral::agent {

namespace fs = std::filesystem;

fs::path identity_dir(const fs::path& data_dir) { return data_dir / "identity"; }

Result<wire::AgentIdentity> load_identity(const fs::path& data_dir) {
  const fs::path dir = identity_dir(data_dir);
  std::error_code ec;
  if (!fs::exists(dir / "agent.crt", ec)) {
    return fail(Error::not_found("no agent identity in " + dir.string()));
  }
  wire::AgentIdentity id;
  struct Part {
    const char* file;
    std::string* into;
  };
  for (const Part& part : {Part{"host", &id.host}, Part{"agent.crt", &id.cert_pem},
                           Part{"agent.key", &id.key_pem}, Part{"ca.crt", &id.ca_pem}}) {
    Result<std::string> text = cluster::read_file(dir / part.file);
    if (!text) {
      return fail(Error{ErrorCode::kInternal,
                        "the agent identity in " + dir.string() + " is incomplete (" +
                            text.error().message + "); delete the directory and join again",
                        {},
                        {}});
    }
    *part.into = std::move(*text);
  }
  return id;
}

Status store_identity(const fs::path& data_dir, const wire::AgentIdentity& id) {
  const fs::path dir = identity_dir(data_dir);
  if (Status ok = cluster::ensure_private_dir(dir); !ok) return ok;
  // The certificate last: its presence says the identity is complete.
  if (Status ok = cluster::write_file_atomic(dir / "agent.key", id.key_pem, 0600); !ok) return ok;
  if (Status ok = cluster::write_file_atomic(dir / "ca.crt", id.ca_pem, 0644); !ok) return ok;
  if (Status ok = cluster::write_file_atomic(dir / "host", id.host, 0644); !ok) return ok;
  return cluster::write_file_atomic(dir / "agent.crt", id.cert_pem, 0644);
}

Result<wire::AgentIdentity> load_or_join(const fs::path& data_dir, const JoinSettings& join,
                                         const Clock& clock) {
  Result<wire::AgentIdentity> stored = load_identity(data_dir);
  if (stored || stored.error().code != ErrorCode::kNotFound) return stored;
  if (join.token.empty()) {
    return fail(Error{ErrorCode::kInvalidArgument,
                      "this agent has not joined a cluster yet (nothing in " +
                          identity_dir(data_dir).string() +
                          "): start it once with --join TOKEN, the token `corral host add "
                          "NAME` prints",
                      {},
                      {}});
  }
  Result<std::string> key = cluster::generate_private_key();
  if (!key) return fail(key.error());
  Result<wire::AgentIdentity> joined =
      wire::join_cluster(join.host, join.port, join.token, *key, clock);
  if (!joined) {
    Error e = joined.error();
    if (e.code == ErrorCode::kUnavailable) {
      e.message =
          "cannot join through " + join.host + ":" + std::to_string(join.port) + ": " + e.message;
      return fail(std::move(e));
    }
    // Anything else is the token's fault or one no retry fixes: say which token.
    return fail(Error::invalid_argument("the controller refused the --join token: " + e.message));
  }
  if (Status saved = store_identity(data_dir, *joined); !saved) return fail(saved.error());
  return joined;
}

}  // namespace corral::agent
