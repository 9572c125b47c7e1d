// The daemon module: process start-up shared by `corral server` and the coming
// `corral agent` (issue 11). Each piece has its own header:
//   address.h   HOST:PORT text, both ways (IPv6 hosts in brackets);
//   data_dir.h  the data dir: created 0700 if missing, and locked to one process;
//   signals.h   SIGINT/SIGTERM become an orderly stop (a second one exits at once);
//   logging.h   the log level from --log-level.
//
// Layering: common -> lifecycle -> store, driver -> engine -> daemon -> api, cli. The module
// needs only common/ (so the agent can use it without the engine); api/ and cli/ use it.
#pragma once

#include "daemon/address.h"
#include "daemon/data_dir.h"
#include "daemon/logging.h"
#include "daemon/signals.h"
