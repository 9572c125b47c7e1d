// Which CA the CLI verifies an https:// server with (cli/client.h verifies against it alone).
//
// Contract: the first of
//   1. --ca-cert FILE (`flag`), or the environment's CORRAL_CA_CERT;
//   2. the cluster CA of the server on this machine: <CORRAL_DATA_DIR, default ./var>/cluster/
//      ca.crt, which `corral server` creates on its first start and issues its API
//      certificate from (so `make run`'s CLI needs nothing).
// The path is returned whether or not the file exists: make_client() says when it is missing.
#pragma once

#include <string>

namespace corral::cli {

inline constexpr const char* kCaCertEnv = "CORRAL_CA_CERT";
// The cluster CA's certificate in a server's data dir (cluster/pki.h's ca.crt).
inline constexpr const char* kClusterCaFile = "cluster/ca.crt";

std::string ca_cert_for(const std::string& flag);

}  // namespace corral::cli
