#include "cli/credentials.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace corral::cli {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::ostringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

nlohmann::json load_all() {
  const std::string text = read_file(credentials_path());
  if (text.empty()) return nlohmann::json::object();
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_object() ? parsed : nlohmann::json::object();
}

CliResult<void> store_all(const nlohmann::json& all) {
  const fs::path path = credentials_path();
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp";
  // 0600 from the start: the file holds secrets.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const std::string text = all.dump(2) + "\n";
  const bool written =
      fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!written || !synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    Failure failure;
    failure.kind = FailureKind::kUsage;
    failure.error = Error::invalid_argument("cannot write " + path.string());
    return fail(std::move(failure));
  }
  return {};
}

// Whether `server` (a URL) is on this machine's loopback: the only server the local admin
// credential is ever sent to, so a CORRAL_URL pointing elsewhere never receives it.
bool loopback_server(std::string_view server) {
  const std::size_t scheme = server.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view host = server.substr(scheme + 3);
  host = host.substr(0, host.find('/'));
  if (host.starts_with("[")) return host.starts_with("[::1]");
  const std::string name(host.substr(0, host.find(':')));
  in_addr address{};
  return name == "localhost" || (::inet_pton(AF_INET, name.c_str(), &address) == 1 &&
                                 (ntohl(address.s_addr) >> 24) == 127);
}

}  // namespace

std::string credentials_path() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return (fs::path(xdg) / "corral" / "credentials.json").string();
  }
  const char* home = std::getenv("HOME");
  return (fs::path(home != nullptr ? home : ".") / ".config" / "corral" / "credentials.json")
      .string();
}

std::optional<std::string> saved_token(const std::string& server) {
  const nlohmann::json all = load_all();
  const auto it = all.find(server);
  if (it == all.end() || !it->is_object() || !it->contains("token") ||
      !(*it)["token"].is_string()) {
    return std::nullopt;
  }
  return (*it)["token"].get<std::string>();
}

CliResult<void> save_token(const std::string& server, const std::string& token) {
  nlohmann::json all = load_all();
  all[server] = {{"token", token}};
  return store_all(all);
}

CliResult<void> forget_token(const std::string& server) {
  nlohmann::json all = load_all();
  if (!all.contains(server)) return {};
  all.erase(server);
  return store_all(all);
}

std::string token_for(const std::string& server, const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv(kTokenEnv); env != nullptr && *env != '\0') return env;
  if (std::optional<std::string> saved = saved_token(server)) return *saved;
  if (!loopback_server(server)) return "";
  return read_file(fs::path(local_data_dir()) / kAdminTokenFile);
}

std::string local_data_dir() {
  const char* dir = std::getenv(kDataDirEnv);
  return dir != nullptr && *dir != '\0' ? std::string(dir) : std::string("var");
}

}  // namespace corral::cli
