// `corral vm action ID VERB` and one `corral vm <verb> ID` per verb of every vocabulary.
//
// Contract: the verb subcommands are the union of all vocabularies' verbs (lifecycle::verbs),
// minus names `vm` uses itself (create, delete, ...); each forwards to the same request as
// `vm action`. With --vocabulary the verb must be that vocabulary's; without it, a verb that
// is not canonical but belongs to exactly one vocabulary is sent in that vocabulary, and one
// that belongs to several is a usage error asking for --vocabulary.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "cli/options.h"
#include "cli/request.h"

namespace corral::cli {

// The vocabulary a verb is sent in: `given` if not empty (and the verb must be one of its
// verbs), else as described above.
[[nodiscard]] CliResult<std::string> vocabulary_for_verb(std::string_view given,
                                                         std::string_view verb);

// POST /v1/vms/{id}/actions with `args` (vocabulary resolved by vocabulary_for_verb()).
[[nodiscard]] CliResult<void> run_action(const GlobalOptions& globals, std::string_view id,
                                         ActionArgs args, std::string_view given_vocabulary);

// Registers `action` and the verb subcommands on `vm`. `vocabulary` is vm's --vocabulary
// ("" when not given), read when a command runs.
void add_action_commands(CLI::App* vm, const Globals& globals,
                         const std::shared_ptr<const std::string>& vocabulary);

}  // namespace corral::cli
