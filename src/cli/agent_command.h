// `corral agent`: the hypervisor host's side of a cluster (issue 11). Joins with --join TOKEN
// on first start (the certificate is kept in --data-dir), then keeps one stream to the
// controller's agent port (--controller) and runs the phases it is sent on the local driver.
//
// Exit codes: 0 after SIGTERM/SIGINT (the guests keep running), 1 when it cannot start or the
// controller refuses it (a refused token: the message says "token"; a refused certificate:
// "certificate"; a Refuse: the controller's message), 2 usage.
#pragma once

#include <CLI/CLI.hpp>

namespace corral::cli {

void add_agent_command(CLI::App& app);

}  // namespace corral::cli
