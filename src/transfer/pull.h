// The target side of a cold migration's file transfer: pulls a VM's files from the source
// agent's TransferService (server.h) into this agent's <data-dir>/vms/<vm>/.
//
// Why pull (the target dials the source) rather than push: the side that writes, verifies and
// renames is the side that dials, so the target alone decides when a file is complete and its
// phase result says so; resuming needs what the target holds (its part file), which it knows
// without asking; and the served side only reads, so no agent ever accepts bytes into its data
// dir from a network caller.
//
// Contract, per file, in the order given:
// - `files` must be on the allow-list (files.h) and `ticket.target_host` must be this agent's
//   host, else kInvalidArgument before any connection. The source's certificate must chain to
//   the cluster CA and name `ticket.source_host` (tls.h), else kUnavailable naming the reason.
// - A file already under its final name with the source's size and SHA-256 is left as it is
//   (already_present; nothing moves). Otherwise bytes go to ".<name>.part" in the VM's
//   directory, resumed from what a previous attempt left there; when the whole file's SHA-256
//   (kept prefix + new bytes) equals the source's, the part is fsync'd and renamed over the
//   final name, and the directory fsync'd. So the final name only ever holds a verified,
//   complete file (or what it held before), whatever crashes when.
// - A mismatch after a resume starts the file over once from byte 0 (the kept prefix was not
//   the source's, e.g. torn by a crash); a mismatch from byte 0 is kInternal and removes the
//   part. A source that goes away mid-file is kUnavailable and leaves the part for the next
//   attempt; so does a progress callback returning false (cancel).
// - One pull() per VM directory at a time in this process: a second one while the first runs
//   is kConflict and touches nothing.
// - Nothing is created on this host before the source accepted the call (ticket, name, file).
// - Sparseness: all-zero chunks cross the network as a count and are left as holes (ftruncate)
//   at 1 MiB granularity, so a sparse or zero-filled source file stays sparse here; qcow2's
//   own allocation is copied byte for byte.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/result.h"
#include "transfer/ticket.h"
#include "wire/credentials.h"

namespace corral::transfer {

struct Progress {
  std::string file;
  std::uint64_t done = 0;   // bytes of this file the target holds (kept prefix included)
  std::uint64_t total = 0;  // the file's size at the source
};

struct FileReport {
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;              // lowercase hex, verified against the source's
  std::uint64_t resumed_from = 0;  // bytes kept from an earlier attempt
  std::uint64_t received = 0;      // bytes this call moved (zero runs included)
  bool already_present = false;
};

struct TransferReport {
  std::vector<FileReport> files;
  std::uint64_t bytes = 0;  // received, all files
  double seconds = 0;
};

struct PullOptions {
  std::filesystem::path data_dir;  // this (target) agent's
  wire::AgentIdentity identity;    // this agent's certificate; identity.host is the target
  std::string source_address;      // host:port of the source agent's TransferService
  Ticket ticket;
  std::vector<std::string> files;                 // e.g. {"disk.qcow2", "memory.state"}
  std::function<bool(const Progress&)> progress;  // after each chunk; false cancels
  std::chrono::milliseconds connect_timeout{10'000};
  // A call on which nothing arrives for this long is cancelled (a source that hangs with its
  // connection up; a dead host is noticed by keepalive pings), as is every call once `stop`
  // is requested (the agent's phase was cancelled). Both are kUnavailable; the part stays.
  std::chrono::milliseconds stall_timeout{60'000};
  std::stop_token stop;
};

[[nodiscard]] Result<TransferReport> pull(const PullOptions& options);

}  // namespace corral::transfer
