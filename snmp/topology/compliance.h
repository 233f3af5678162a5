// Build-out compliance ("万兆到校、千兆到班"): uplink ports at 10 Gbit/s, classroom access ports at
// 1 Gbit/s, expected numbers of switches and APs. Which ports are uplinks / classroom ports is
// inferred from the topology and can be overridden per device and port (globs) in a YAML file.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "snmp/session/status.h"
#include "snmp/topology/model.h"

namespace cg::snmp {

struct PortSelector {
  std::string device = "*";  // glob on Device::id (fnmatch)
  std::string port = "*";    // glob on Port::name
  bool matches(const std::string& device_id, const std::string& port_name) const;
};

struct ComplianceConfig {
  uint64_t uplink_mbps = 10000;                         // 万兆到校
  uint64_t classroom_mbps = 1000;                       // 千兆到班
  std::optional<uint64_t> expect_switches, expect_aps;  // minimum counts, when given
  std::vector<PortSelector> uplinks;     // explicit uplinks (in addition to the inferred ones)
  std::vector<PortSelector> classrooms;  // explicit classroom ports (replace the inference)
  std::vector<PortSelector> ignore;      // never checked (servers, printers, spare ports)
};

// YAML:
//   uplink_mbps: 10000
//   classroom_mbps: 1000
//   expect: {switches: 3, aps: 12}
//   uplinks:    [{device: core-1, port: "XGigabitEthernet0/0/1"}]
//   classrooms: [{device: "access-*", port: "GigabitEthernet0/0/*"}]
//   ignore:     [{device: "*", port: "Vlanif*"}]
// Unknown keys and wrong types are errors naming the key (and line:column).
Result<ComplianceConfig> parse_compliance_config(const std::string& yaml_text);

struct ComplianceFailure {
  std::string device, port;  // port "" for count failures
  std::string check;         // "uplink", "classroom", "switch_count", "ap_count"
  std::string reason;        // human-readable, e.g. "1000 Mbit/s, expected >= 10000"
  std::optional<uint64_t> speed_mbps, expected_mbps;
};

struct ComplianceReport {
  uint64_t switches = 0, aps = 0;
  uint64_t uplinks_checked = 0, classrooms_checked = 0;
  uint64_t uplinks_ok = 0, classrooms_ok = 0;
  std::vector<ComplianceFailure> failures;
  bool ok() const { return failures.empty(); }
};

// Inference (without explicit selectors): uplinks are ports whose role is "uplink" (they link
// to another switch / router); classroom ports are the other ports of switches that are up and
// are bridge ports (dot1dBasePortTable; without that table: ethernet-like ifTypes 6, 62, 69,
// 117), so VLAN interfaces, loopbacks and the CPU port are not counted. Explicit `uplinks` add to
// the uplinks; explicit `classrooms` replace the classroom inference; `ignore` wins over both.
ComplianceReport check_compliance(const Topology& t, const ComplianceConfig& config);

nlohmann::json to_json(const ComplianceReport& r, const ComplianceConfig& config);
std::string to_text(const ComplianceReport& r, const ComplianceConfig& config);

}  // namespace cg::snmp
