// A synthetic three-switch campus as FakeSession agents (snmprec text), shared by the topology,
// compliance and poller unit tests.
//
//   city-gw (LLDP only, 172.16.0.1, outside the subnets)
//      | XGE0/0/1 (10G)
//   core 10.0.0.1 (also 10.0.9.1) -- XGE0/0/2 (10G) -- acc1 XGE0/0/1   hosts A (GE0/0/2),
//      |                                                               B (GE0/0/3, 100M),
//      XGE0/0/3 (1G!) -- acc2 XGE0/0/1 (1G)  host C (GE0/0/2)          AP-101 (GE0/0/4)
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "snmp/session/fake_session.h"
#include "snmp/topology/crawl.h"

namespace cg::snmp::testing {

struct PortSpec {
  uint32_t index;
  std::string name;
  uint64_t mbps;
  int oper = 1;
};
struct NeighborSpec {
  uint32_t local_index;
  std::string chassis_hex;  // 6 bytes hex, "" = none
  std::string port, sys_name, sys_descr;
  std::string ip;  // "" = no management address
};
struct FdbSpec {
  std::string mac;  // "aabbccddeeff"
  uint32_t vlan, if_index;
};
struct ArpSpec {
  uint32_t if_index;
  std::string ip, mac;
};
struct DeviceSpec {
  std::string name, chassis_hex, model, serial, descr = "Test switch";
  std::vector<std::string> ips;
  std::vector<PortSpec> ports;
  std::vector<NeighborSpec> neighbors;
  std::vector<FdbSpec> fdb;
  std::vector<ArpSpec> arp;
};

inline std::string dotted_mac(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < 12; i += 2) {
    out += (i ? "." : "") + std::to_string(std::stoul(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

inline std::string ip_hex(const std::string& ip) {
  unsigned a, b, c, d;
  std::sscanf(ip.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d);
  char buf[9];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x", a, b, c, d);
  return buf;
}

inline std::string snmprec(const DeviceSpec& s) {
  std::string r;
  auto line = [&](const std::string& oid, const std::string& type, const std::string& v) {
    r += oid + "|" + type + "|" + v + "\n";
  };
  line("1.3.6.1.2.1.1.1.0", "4", s.descr);
  line("1.3.6.1.2.1.1.2.0", "6", "1.3.6.1.4.1.99999.1");
  line("1.3.6.1.2.1.1.5.0", "4", s.name);
  line("1.0.8802.1.1.2.1.3.1.0", "2", "4");
  line("1.0.8802.1.1.2.1.3.2.0", "4x", s.chassis_hex);
  line("1.3.6.1.2.1.47.1.1.1.1.4.1", "2", "0");
  line("1.3.6.1.2.1.47.1.1.1.1.5.1", "2", "3");
  line("1.3.6.1.2.1.47.1.1.1.1.11.1", "4", s.serial);
  line("1.3.6.1.2.1.47.1.1.1.1.13.1", "4", s.model);
  for (const auto& p : s.ports) {
    std::string i = std::to_string(p.index);
    line("1.3.6.1.2.1.2.2.1.2." + i, "4", p.name);
    line("1.3.6.1.2.1.2.2.1.3." + i, "2", "6");
    line("1.3.6.1.2.1.2.2.1.5." + i, "66",
         std::to_string(std::min<uint64_t>(p.mbps * 1000000, 4294967295ull)));
    line("1.3.6.1.2.1.2.2.1.8." + i, "2", std::to_string(p.oper));
    line("1.3.6.1.2.1.31.1.1.1.1." + i, "4", p.name);
    line("1.3.6.1.2.1.31.1.1.1.15." + i, "66", std::to_string(p.mbps));
    line("1.3.6.1.2.1.17.1.4.1.2." + i, "2", i);  // bridge port = ifIndex
  }
  uint32_t n = 0;
  for (const auto& nb : s.neighbors) {
    std::string k = "0." + std::to_string(nb.local_index) + "." + std::to_string(++n);
    if (!nb.chassis_hex.empty()) {
      line("1.0.8802.1.1.2.1.4.1.1.4." + k, "2", "4");
      line("1.0.8802.1.1.2.1.4.1.1.5." + k, "4x", nb.chassis_hex);
    }
    line("1.0.8802.1.1.2.1.4.1.1.6." + k, "2", "5");
    line("1.0.8802.1.1.2.1.4.1.1.7." + k, "4", nb.port);
    line("1.0.8802.1.1.2.1.4.1.1.9." + k, "4", nb.sys_name);
    if (!nb.sys_descr.empty()) line("1.0.8802.1.1.2.1.4.1.1.10." + k, "4", nb.sys_descr);
    if (!nb.ip.empty()) {
      line("1.0.8802.1.1.2.1.4.2.1.3." + k + ".1.4." + nb.ip, "2", "2");
    }
  }
  for (const auto& f : s.fdb) {
    std::string k = std::to_string(f.vlan) + "." + dotted_mac(f.mac);
    line("1.3.6.1.2.1.17.7.1.2.2.1.2." + k, "2", std::to_string(f.if_index));
    line("1.3.6.1.2.1.17.7.1.2.2.1.3." + k, "2", "3");
  }
  for (const auto& a : s.arp) {
    line("1.3.6.1.2.1.4.22.1.2." + std::to_string(a.if_index) + "." + a.ip, "4x", a.mac);
    line("1.3.6.1.2.1.4.22.1.4." + std::to_string(a.if_index) + "." + a.ip, "2", "3");
  }
  for (const auto& ip : s.ips) line("1.3.6.1.2.1.4.20.1.1." + ip, "64x", ip_hex(ip));
  return r;
}

inline const char* kMacA = "00163e000a01";
inline const char* kMacB = "00163e000b02";
inline const char* kMacC = "00163e000c03";
inline const char* kMacAp = "00e0fc0000a0";

inline std::map<std::string, DeviceSpec> campus() {
  std::map<std::string, DeviceSpec> m;
  m["10.0.0.1"] =
      DeviceSpec{"core",
                 "020000000001",
                 "S6730-H24X6C",
                 "CORE0001",
                 "Huawei core switch",
                 {"10.0.0.1", "10.0.9.1"},
                 {{1, "XGE0/0/1", 10000}, {2, "XGE0/0/2", 10000}, {3, "XGE0/0/3", 1000}},
                 {{1, "", "xe-0/0/0", "city-gw", "Juniper MX204 router", "172.16.0.1"},
                  {2, "020000000002", "XGE0/0/1", "acc1", "", "10.0.0.2"},
                  {3, "020000000003", "XGE0/0/1", "acc2", "", "10.0.0.3"}},
                 {{kMacA, 10, 2}, {kMacB, 10, 2}, {kMacC, 20, 3}},
                 {{2, "10.0.0.101", kMacA}, {2, "10.0.0.102", kMacB}, {3, "10.0.0.103", kMacC}}};
  m["10.0.0.2"] = DeviceSpec{"acc1",
                             "020000000002",
                             "S5735-L24T4X",
                             "ACC10001",
                             "Huawei access switch",
                             {"10.0.0.2"},
                             {{1, "XGE0/0/1", 10000},
                              {2, "GE0/0/2", 1000},
                              {3, "GE0/0/3", 100},
                              {4, "GE0/0/4", 1000},
                              {5, "GE0/0/5", 1000, 2}},
                             {{1, "020000000001", "XGE0/0/2", "core", "", "10.0.9.1"},
                              {4, "", "eth0", "AP-101", "Huawei AirEngine5760-10", ""}},
                             {{kMacA, 10, 2}, {kMacB, 10, 3}, {kMacC, 20, 1}, {kMacAp, 10, 4}},
                             {}};
  m["10.0.0.3"] = DeviceSpec{"acc2",
                             "020000000003",
                             "S5735-L24T4X",
                             "ACC20001",
                             "Huawei access switch",
                             {"10.0.0.3"},
                             {{1, "XGE0/0/1", 1000}, {2, "GE0/0/2", 1000}, {3, "GE0/0/3", 1000, 2}},
                             {{1, "020000000001", "XGE0/0/3", "core", "", "10.0.0.1"}},
                             {{kMacC, 20, 2}, {kMacA, 10, 1}, {kMacB, 10, 1}},
                             {}};
  return m;
}

// Factory over snmprec texts by address; unknown addresses time out like a dead device.
inline SessionFactory fake_factory(std::map<std::string, std::string> agents) {
  return [agents = std::move(agents)](
             const std::string& address) -> Result<std::unique_ptr<SnmpSession>> {
    auto it = agents.find(address);
    auto s = std::make_unique<FakeSession>();
    if (it == agents.end()) {
      s->fail_everything(Status(ErrorCode::kTimeout, "timeout talking to " + address));
    } else {
      size_t bad = 0;
      s = std::make_unique<FakeSession>(parse_snmprec(it->second, &bad));
    }
    return std::unique_ptr<SnmpSession>(std::move(s));
  };
}

inline std::map<std::string, std::string> campus_agents() {
  std::map<std::string, std::string> out;
  for (const auto& [addr, spec] : campus()) out[addr] = snmprec(spec);
  return out;
}

}  // namespace cg::snmp::testing
