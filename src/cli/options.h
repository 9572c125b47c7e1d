// Options every client command shares (--server, -o) and how a command ends.
//
// Contract: add_global_options() puts --server (env CORRAL_URL), --token, --ca-cert and -o on the
// top-level app; subcommands see them because the app falls through (main.cc). A command's callback
// ends with finish(), which prints a failure to stderr and throws CLI::RuntimeError with the
// exit code (failure.h), the mechanism main() turns into the process's exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cli/client.h"
#include "cli/failure.h"

namespace corral::cli {

enum class OutputFormat : std::uint8_t { kTable, kJson };

struct GlobalOptions {
  std::string server{kDefaultServer};
  std::string output = "table";
  std::string token;    // --token (cli/credentials.h says where else one comes from)
  std::string ca_cert;  // --ca-cert (cli/trust.h says where else the CA comes from)

  OutputFormat format() const {
    return output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  }
};

using Globals = std::shared_ptr<const GlobalOptions>;

// Adds --server, --token, --ca-cert and -o/--output to `app`; the returned options are filled
// by parsing.
std::shared_ptr<GlobalOptions> add_global_options(CLI::App& app);

// Adds --vocabulary (validated against the five names) to `cmd`, writing to `vocabulary`.
CLI::Option* add_vocabulary_option(CLI::App* cmd, std::string& vocabulary, std::string_view what);

// The client for --server, or a usage failure for a malformed URL (or an https:// one whose
// CA file is missing).
[[nodiscard]] CliResult<Client> client_for(const GlobalOptions& options);

// Prints `value` as indented JSON on stdout.
void print_json(const nlohmann::json& value);

// Registers `body` as `cmd`'s callback: it runs, a failure is printed as `command_name: ...`,
// and the exit code is thrown as CLI::RuntimeError.
void set_command(CLI::App* cmd, std::string command_name, std::function<CliResult<void>()> body);

}  // namespace corral::cli
