#include "snmp/topology/compliance.h"

#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <sstream>

namespace cg::snmp {
namespace {

using nlohmann::json;

std::string where(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.line < 0) return "";
  return " (line " + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ")";
}

Status bad(const std::string& what, const YAML::Node& n) {
  return Status(ErrorCode::kInvalidArgument, "compliance config: " + what + where(n));
}

Status check_keys(const YAML::Node& map, const std::set<std::string>& allowed,
                  const std::string& context) {
  if (!map.IsMap()) return bad(context + " must be a mapping", map);
  for (const auto& kv : map) {
    std::string k = kv.first.Scalar();
    if (!allowed.count(k)) return bad("unknown key '" + k + "' in " + context, kv.first);
  }
  return {};
}

Status read_mbps(const YAML::Node& n, const std::string& key, uint64_t* out) {
  if (!n.IsScalar()) return bad(key + " must be a number of Mbit/s", n);
  try {
    long long v = n.as<long long>();
    if (v <= 0 || v > 10000000) return bad(key + " must be in 1..10000000", n);
    *out = static_cast<uint64_t>(v);
  } catch (const YAML::Exception&) {
    return bad(key + " must be a number of Mbit/s", n);
  }
  return {};
}

Status read_selectors(const YAML::Node& n, const std::string& key, std::vector<PortSelector>* out) {
  if (!n.IsSequence()) return bad(key + " must be a list of {device, port}", n);
  for (const auto& item : n) {
    if (Status s = check_keys(item, {"device", "port"}, key + " entry"); !s.ok()) return s;
    PortSelector sel;
    for (const auto& [field, target] : {std::pair{"device", &sel.device}, {"port", &sel.port}}) {
      if (!item[field]) continue;
      if (!item[field].IsScalar() || item[field].Scalar().empty())
        return bad(key + "." + field + " must be a non-empty string (glob)", item[field]);
      *target = item[field].Scalar();
    }
    out->push_back(std::move(sel));
  }
  return {};
}

bool any_matches(const std::vector<PortSelector>& v, const std::string& d, const std::string& p) {
  for (const auto& s : v)
    if (s.matches(d, p)) return true;
  return false;
}

bool ethernet_like(const Port& p) {
  // ethernetCsmacd, fastEther, gigabitEthernet (obsolete), ethernet3Mbit; plus 117 gigabit
  return p.type && (*p.type == 6 || *p.type == 62 || *p.type == 69 || *p.type == 117);
}

}  // namespace

bool PortSelector::matches(const std::string& device_id, const std::string& port_name) const {
  return fnmatch(device.c_str(), device_id.c_str(), 0) == 0 &&
         fnmatch(port.c_str(), port_name.c_str(), 0) == 0;
}

Result<ComplianceConfig> parse_compliance_config(const std::string& yaml_text) {
  ComplianceConfig c;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status(ErrorCode::kInvalidArgument, std::string("compliance config: ") + e.what());
  }
  if (root.IsNull()) return c;  // empty file: all defaults
  if (Status s = check_keys(
          root, {"uplink_mbps", "classroom_mbps", "expect", "uplinks", "classrooms", "ignore"},
          "the top level");
      !s.ok())
    return s;
  try {
    if (root["uplink_mbps"])
      if (Status s = read_mbps(root["uplink_mbps"], "uplink_mbps", &c.uplink_mbps); !s.ok())
        return s;
    if (root["classroom_mbps"])
      if (Status s = read_mbps(root["classroom_mbps"], "classroom_mbps", &c.classroom_mbps);
          !s.ok())
        return s;
    if (const YAML::Node e = root["expect"]) {
      if (Status s = check_keys(e, {"switches", "aps"}, "expect"); !s.ok()) return s;
      for (const auto& [key, target] :
           {std::pair{"switches", &c.expect_switches}, {"aps", &c.expect_aps}}) {
        if (!e[key]) continue;
        long long v = -1;
        try {
          v = e[key].as<long long>();
        } catch (const YAML::Exception&) {
        }
        if (!e[key].IsScalar() || v < 0)
          return bad(std::string("expect.") + key + " must be a count >= 0", e[key]);
        *target = static_cast<uint64_t>(v);
      }
    }
    for (const auto& [key, target] :
         {std::pair{"uplinks", &c.uplinks}, {"classrooms", &c.classrooms}, {"ignore", &c.ignore}}) {
      if (root[key])
        if (Status s = read_selectors(root[key], key, target); !s.ok()) return s;
    }
  } catch (const YAML::Exception& e) {
    return Status(ErrorCode::kInvalidArgument, std::string("compliance config: ") + e.what());
  }
  return c;
}

ComplianceReport check_compliance(const Topology& t, const ComplianceConfig& config) {
  ComplianceReport r;
  for (const Device& d : t.devices) {
    if (d.kind == "switch") ++r.switches;
    if (d.kind == "ap") ++r.aps;
  }
  auto check = [&](const Device& d, const Port& p, const char* what, uint64_t want) {
    bool uplink = std::string(what) == "uplink";
    ++(uplink ? r.uplinks_checked : r.classrooms_checked);
    ComplianceFailure f{d.id, p.name, what, "", p.speed_mbps, want};
    if (p.oper_status && *p.oper_status != "up") {
      f.reason = "port is " + *p.oper_status;
    } else if (!p.speed_mbps || *p.speed_mbps == 0) {
      f.reason = "speed unknown (the device reports no ifSpeed / ifHighSpeed)";
    } else if (*p.speed_mbps < want) {
      f.reason = std::to_string(*p.speed_mbps) + " Mbit/s, expected >= " + std::to_string(want);
    } else {
      ++(uplink ? r.uplinks_ok : r.classrooms_ok);
      return;
    }
    r.failures.push_back(std::move(f));
  };
  for (const Device& d : t.devices) {
    if (!d.managed) continue;
    bool has_bridge_ports = false;
    for (const Port& p : d.ports) has_bridge_ports |= p.bridge_port;
    for (const Port& p : d.ports) {
      if (any_matches(config.ignore, d.id, p.name)) continue;
      bool uplink = p.role == "uplink" || any_matches(config.uplinks, d.id, p.name);
      if (uplink) {
        check(d, p, "uplink", config.uplink_mbps);
        continue;
      }
      bool classroom = config.classrooms.empty()
                           ? d.kind == "switch" && p.oper_status == "up" &&
                                 (has_bridge_ports ? p.bridge_port : ethernet_like(p))
                           : any_matches(config.classrooms, d.id, p.name);
      if (classroom) check(d, p, "classroom", config.classroom_mbps);
    }
  }
  auto count_check = [&](const char* what, const char* noun, uint64_t have,
                         const std::optional<uint64_t>& want) {
    if (!want || have >= *want) return;
    r.failures.push_back(
        {"", "", what,
         std::to_string(have) + " " + noun + " found, expected " + std::to_string(*want),
         std::nullopt, std::nullopt});
  };
  count_check("switch_count", "switches", r.switches, config.expect_switches);
  count_check("ap_count", "APs", r.aps, config.expect_aps);
  return r;
}

json to_json(const ComplianceReport& r, const ComplianceConfig& config) {
  auto num = [](const std::optional<uint64_t>& v) { return v ? json(*v) : json(nullptr); };
  json j;
  j["ok"] = r.ok();
  j["expected"] = {{"uplink_mbps", config.uplink_mbps},
                   {"classroom_mbps", config.classroom_mbps},
                   {"switches", num(config.expect_switches)},
                   {"aps", num(config.expect_aps)}};
  j["counts"] = {{"switches", r.switches},
                 {"aps", r.aps},
                 {"uplinks_checked", r.uplinks_checked},
                 {"uplinks_ok", r.uplinks_ok},
                 {"classrooms_checked", r.classrooms_checked},
                 {"classrooms_ok", r.classrooms_ok}};
  j["failures"] = json::array();
  for (const auto& f : r.failures) {
    j["failures"].push_back({{"device", f.device.empty() ? json(nullptr) : json(f.device)},
                             {"port", f.port.empty() ? json(nullptr) : json(f.port)},
                             {"check", f.check},
                             {"reason", f.reason},
                             {"speed_mbps", num(f.speed_mbps)},
                             {"expected_mbps", num(f.expected_mbps)}});
  }
  return j;
}

std::string to_text(const ComplianceReport& r, const ComplianceConfig& config) {
  std::ostringstream o;
  o << "switches " << r.switches << ", APs " << r.aps << "\n";
  o << "uplinks (>= " << config.uplink_mbps << " Mbit/s): " << r.uplinks_ok << "/"
    << r.uplinks_checked << " ok\n";
  o << "classroom ports (>= " << config.classroom_mbps << " Mbit/s): " << r.classrooms_ok << "/"
    << r.classrooms_checked << " ok\n";
  if (r.ok()) {
    o << "compliant\n";
    return o.str();
  }
  o << "\n" << r.failures.size() << " failing:\n";
  for (const auto& f : r.failures) {
    o << "  " << f.check << "\t" << (f.device.empty() ? "-" : f.device) << "\t"
      << (f.port.empty() ? "-" : f.port) << "\t" << f.reason << "\n";
  }
  return o.str();
}

}  // namespace cg::snmp
