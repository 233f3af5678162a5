// The live dataplane: EAL and ports from the config, one worker per lcore running the pipeline
// as a transparent bridge inside <-> outside, and the control thread serving the socket.
#pragma once

#include <string>

#include "dataplane/runtime/config.h"
#include "dataplane/runtime/policy_loader.h"

namespace cg::runtime {

struct RunOptions {
  PolicyCompiler compile;     // serves policy.prepare; without it live loading is refused
  std::string policy_source;  // optional first policy (--policy), loaded before traffic flows
  std::string policy_origin;  // its file name, for diagnostics and policy.status
};

// Runs until SIGINT/SIGTERM or a "shutdown" request. Returns the process exit code.
int run_dataplane(const DataplaneConfig& cfg, const std::string& prog,
                  const RunOptions& opts = {});

}  // namespace cg::runtime
