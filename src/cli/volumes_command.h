// `corral volume create|list|show|attach|detach|resize|snapshot|delete-snapshot|delete`:
// persistent volumes (Cinder's `openstack volume`, OpenNebula's persistent `oneimage`
// DATABLOCKs). Attach and detach are the VM's disk_attach / disk_detach.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace corral::cli {

// Registers `volume` on `app`.
void add_volumes_command(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
