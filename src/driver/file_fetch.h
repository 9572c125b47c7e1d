// FileFetch: how a driver on a cold migration's target host gets the VM's files from the source
// host. The driver names the files and where they come from; the agent, which holds this host's
// certificate, moves them (agent/transfer_files.h over src/transfer) into the driver's data
// dir, <data-dir>/vms/<vm>/, each file verified by SHA-256 and renamed into place only when
// complete. Drivers never link the transfer code; an in-process server has no fetcher (a
// single host moves nothing).
//
// Contract of a FileFetcher:
// - Blocks until every file is in place (or was already, unchanged), or fails: kUnavailable
//   when the source cannot be reached or went away (a retry resumes what arrived),
//   kInvalidArgument for a bad name or host, kInternal for a checksum that never matched,
//   kCancelled when `progress` returned false.
// - Calls `progress` after each chunk; never from two threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "driver/driver.h"

namespace corral::driver {

struct FetchRequest {
  store::VmId vm = 0;
  store::OpId op = 0;
  std::string source_host;  // the cluster's name of the host that serves (its certificate's)
  FileSource source;
  std::vector<std::string> files;  // "disk.qcow2", "memory.state"
  // bytes of all files held so far, and their total (0 until the first answer); false cancels
  std::function<bool(std::uint64_t done, std::uint64_t total)> progress;
};

struct FetchedFile {
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;
  std::uint64_t received = 0;  // bytes moved by this call (0: it was already here)
};

using FileFetcher = std::function<Result<std::vector<FetchedFile>>(const FetchRequest&)>;

}  // namespace corral::driver
