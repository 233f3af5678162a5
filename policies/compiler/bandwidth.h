// The `bandwidth` section: rates, semantic checks and compilation into api::QosImage (the
// PolicyImage's `bandwidth` member). Called by the compiler after zones, schedules and apps are
// known; reports through the compiler's diagnostic sink (file:line:col + YAML path).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dataplane/api/policy_image.h"
#include "policies/compiler/policy.h"

namespace cg::policy {

// Names defined elsewhere in the policy and whether something refers to them.
struct NameTable {
  const std::map<std::string, size_t>* ids = nullptr;
  std::vector<bool>* used = nullptr;
};

struct BandwidthContext {
  api::PolicyImage* image = nullptr;  // zones/schedules/apps filled; `bandwidth` is written
  NameTable zones, schedules, apps;
  std::function<void(const YAML::Node&, const std::string&, std::string, DiagSeverity)> report;
};

void compile_bandwidth(const YAML::Node& bandwidth, BandwidthContext& ctx);

// "10 Gbit", "200Mbit", "1.5 Mbit", "512 kbit" -> bits per second. False on anything else.
bool parse_rate(const std::string& text, uint64_t* bps);
// 10000000000 -> "10 Gbit", 1500000 -> "1.5 Mbit".
std::string rate_text(uint64_t bps);

}  // namespace cg::policy
