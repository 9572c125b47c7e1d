#include "cli/options.h"

#include <fmt/core.h>

#include <iostream>
#include <utility>

#include "cli/credentials.h"
#include "cli/trust.h"

namespace corral::cli {

std::shared_ptr<GlobalOptions> add_global_options(CLI::App& app) {
  auto options = std::make_shared<GlobalOptions>();
  app.add_option(
         "--server", options->server,
         fmt::format("Corral API base URL (env {}; default {})", kServerEnv, kDefaultServer))
      ->envname(std::string(kServerEnv));
  app.add_option("--token", options->token,
                 fmt::format("API token (env {}; default: the saved `corral login`, then "
                             "<data dir>/admin.token)",
                             kTokenEnv));
  app.add_option("--ca-cert", options->ca_cert,
                 fmt::format("CA certificate an https:// server is verified with (env {}; "
                             "default: <data dir>/{}, the local server's cluster CA)",
                             kCaCertEnv, kClusterCaFile))
      ->envname(kCaCertEnv);
  app.add_option("-o,--output", options->output, "Output format of client commands: table or json")
      ->check(CLI::IsMember({"table", "json"}));
  return options;
}

CLI::Option* add_vocabulary_option(CLI::App* cmd, std::string& vocabulary, std::string_view what) {
  return cmd
      ->add_option("--vocabulary", vocabulary,
                   fmt::format("{}: corral (default), opennebula, nova, azure, stratuslab", what))
      ->check(
          CLI::IsMember({"corral", "opennebula", "nova", "azure", "stratuslab"}, CLI::ignore_case));
}

CliResult<Client> client_for(const GlobalOptions& options) {
  return make_client(options.server, token_for(options.server, options.token),
                     ca_cert_for(options.ca_cert));
}

void print_json(const nlohmann::json& value) {
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void set_command(CLI::App* cmd, std::string command_name, std::function<CliResult<void>()> body) {
  cmd->callback([name = std::move(command_name), body = std::move(body)] {
    CliResult<void> result;
    try {
      result = body();
    } catch (const nlohmann::json::exception& e) {
      Failure failure;
      failure.error = Error::internal(fmt::format("unexpected JSON from the server: {}", e.what()));
      result = fail(std::move(failure));
    }
    std::cout.flush();
    throw CLI::RuntimeError(report(name, result));
  });
}

}  // namespace corral::cli
