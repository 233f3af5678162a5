// --replay: runs the worker pipeline over a capture file (libpcap) with capture timestamps as
// the clock, and builds the JSON report (totals, counters, flows).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include <memory>

#include "dataplane/api/policy_image.h"
#include "dataplane/runtime/config.h"

namespace cg::replay {

struct ReplayResult {
  bool ok = false;
  std::string error;
  nlohmann::json report;
};

// `policy` may be null: then every flow is allowed and the report has no verdicts.
ReplayResult run(const std::string& pcap_path, const runtime::DataplaneConfig& cfg,
                 std::shared_ptr<const api::PolicyImage> policy = nullptr);

}  // namespace cg::replay
