// Small durable-file helpers for the cluster's secrets (keys, certificates, join tokens).
//
// Contract: write_file_atomic() leaves either the old content or the new one at `path`, never a
// mix, even across a crash (write to a temporary file beside it, fsync, rename, fsync the
// directory); the file is created with `mode` (0600 for keys and token hashes) before any byte
// is written, so a secret is never readable by others, even for a moment.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace corral::cluster {

[[nodiscard]] Status write_file_atomic(const std::filesystem::path& path, std::string_view bytes,
                                       mode_t mode);

// The whole file; kNotFound when it does not exist.
[[nodiscard]] Result<std::string> read_file(const std::filesystem::path& path);

// Creates `dir` (and parents) with mode 0700 when missing; fails if it is not a directory.
[[nodiscard]] Status ensure_private_dir(const std::filesystem::path& dir);

}  // namespace corral::cluster
