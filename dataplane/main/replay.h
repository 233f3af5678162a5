// --replay: runs the worker pipeline over a capture file (libpcap) with capture timestamps as
// the clock, and builds the JSON report (totals, counters, flows).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "dataplane/runtime/config.h"

namespace cg::replay {

struct ReplayResult {
  bool ok = false;
  std::string error;
  nlohmann::json report;
};

ReplayResult run(const std::string& pcap_path, const runtime::DataplaneConfig& cfg);

}  // namespace cg::replay
