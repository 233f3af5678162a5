// The live dataplane: EAL and ports from the config, one worker per lcore running the pipeline
// as a transparent bridge inside <-> outside, and the control thread serving the socket.
#pragma once

#include <string>

#include "dataplane/runtime/config.h"

namespace cg::runtime {

// Runs until SIGINT/SIGTERM or a "shutdown" request. Returns the process exit code.
int run_dataplane(const DataplaneConfig& cfg, const std::string& prog);

}  // namespace cg::runtime
