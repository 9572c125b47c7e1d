// The agent's identity: its private key, its client certificate and the cluster CA, kept in
// <data-dir>/identity/ (key 0600, written atomically).
//
// Contract: load_or_join() reuses a stored identity (a --join token given again is then
// ignored: the token is spent); with none stored and a token, it joins (wire/join.h) over
// --join-address and stores what it got before returning; with neither, it fails. Errors:
// - kInvalidArgument, message containing "token": the controller refused the token, or it is
//   malformed — fatal (exit 1);
// - kInvalidArgument: no identity and no token; kInternal: a stored identity is incomplete —
//   fatal;
// - kUnavailable: the join port is unreachable — the caller retries.
#pragma once

#include <filesystem>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "wire/credentials.h"

namespace corral::agent {

struct JoinSettings {
  std::string host;  // the controller's join port
  int port = 0;
  std::string token;  // empty: only a stored identity will do
};

std::filesystem::path identity_dir(const std::filesystem::path& data_dir);

// The stored identity; kNotFound when there is none.
[[nodiscard]] Result<wire::AgentIdentity> load_identity(const std::filesystem::path& data_dir);
[[nodiscard]] Status store_identity(const std::filesystem::path& data_dir,
                                    const wire::AgentIdentity& identity);

[[nodiscard]] Result<wire::AgentIdentity> load_or_join(const std::filesystem::path& data_dir,
                                                       const JoinSettings& join,
                                                       const Clock& clock);

}  // namespace corral::agent
