#include "cli/trust.h"

#include <cstdlib>
#include <filesystem>

#include "cli/credentials.h"

namespace corral::cli {

std::string ca_cert_for(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv(kCaCertEnv); env != nullptr && *env != '\0') return env;
  return (std::filesystem::path(local_data_dir()) / kClusterCaFile).string();
}

}  // namespace corral::cli
