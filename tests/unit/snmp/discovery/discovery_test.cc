#include "snmp/discovery/discovery.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "snmp/session/fake_session.h"

namespace cg::snmp {
namespace {

// A small switch: three interfaces, system group.
const char* kBase =
    "1.3.6.1.2.1.1.1.0|4|Test switch\n"
    "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.2011.2.23.291\n"
    "1.3.6.1.2.1.1.5.0|4|sw-a\n"
    "1.3.6.1.2.1.2.2.1.2.10|4|XGigabitEthernet0/0/1\n"
    "1.3.6.1.2.1.2.2.1.2.11|4|GigabitEthernet0/0/2\n"
    "1.3.6.1.2.1.2.2.1.2.12|4|Serial0\n"
    "1.3.6.1.2.1.2.2.1.3.10|2|6\n"
    "1.3.6.1.2.1.2.2.1.5.10|66|4294967295\n"
    "1.3.6.1.2.1.2.2.1.5.11|66|100000000\n"
    "1.3.6.1.2.1.2.2.1.5.12|66|1544000\n"
    "1.3.6.1.2.1.2.2.1.8.10|2|1\n"
    "1.3.6.1.2.1.2.2.1.8.11|2|2\n"
    "1.3.6.1.2.1.2.2.1.8.12|2|7\n"
    "1.3.6.1.2.1.31.1.1.1.1.10|4|XGE0/0/1\n"
    "1.3.6.1.2.1.31.1.1.1.1.11|4|\n"
    "1.3.6.1.2.1.31.1.1.1.15.10|66|10000\n"
    "1.3.6.1.2.1.31.1.1.1.15.11|66|0\n"
    "1.3.6.1.2.1.31.1.1.1.18.10|4|uplink to city\n";

FakeSession fake(const std::string& extra) {
  size_t bad = 0;
  auto tree = parse_snmprec(std::string(kBase) + extra, &bad);
  EXPECT_EQ(bad, 0u);
  return FakeSession(std::move(tree));
}

DeviceDiscovery run(FakeSession& s, const DiscoveryOptions& o = {}) {
  auto r = discover_device(s, o);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : DeviceDiscovery{};
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(Discovery, SystemAndInterfaces) {
  auto s = fake("");
  auto d = run(s);
  EXPECT_EQ(d.system.name, "sw-a");
  EXPECT_EQ(d.system.object_id, "1.3.6.1.4.1.2011.2.23.291");
  ASSERT_EQ(d.interfaces.size(), 3u);
  const auto& a = d.interfaces[0];
  EXPECT_EQ(a.name, "XGE0/0/1");  // ifName wins
  EXPECT_EQ(a.alias, "uplink to city");
  EXPECT_EQ(a.speed_mbps, 10000u);  // ifHighSpeed; ifSpeed saturated at 2^32-1
  EXPECT_EQ(a.oper_status, "up");
  EXPECT_EQ(a.type, 6);
  const auto& b = d.interfaces[1];
  EXPECT_EQ(b.name, "GigabitEthernet0/0/2");  // empty ifName -> ifDescr
  EXPECT_EQ(b.speed_mbps, 100u);              // ifHighSpeed 0 -> ifSpeed
  EXPECT_EQ(b.oper_status, "down");
  const auto& c = d.interfaces[2];
  EXPECT_EQ(c.speed_mbps, 2u);  // 1.544 Mbit/s rounds to 2 (RFC 2863 ifHighSpeed rounding)
  EXPECT_EQ(c.oper_status, "lowerLayerDown");
  EXPECT_FALSE(c.type);
  // Everything else is reported as not provided, and tables that were not asked are not.
  for (const char* m :
       {"lldpLocPortTable", "lldpRemTable", "cdpCacheTable", "dot1qTpFdbTable", "dot1dTpFdbTable",
        "dot1dBasePortTable", "ipNetToPhysicalTable", "ipNetToMediaTable"}) {
    EXPECT_TRUE(has(d.missing, m)) << m;
  }
  EXPECT_FALSE(has(d.missing, "ifTable"));
  EXPECT_FALSE(has(d.missing, "lldpRemManAddrTable"));  // no remotes: not asked
  EXPECT_FALSE(has(d.missing, "mtxrNeighborTable"));
}

TEST(Discovery, MissingSystemObjectsAndIfXTable) {
  FakeSession s(parse_snmprec("1.3.6.1.2.1.2.2.1.2.1|4|eth0\n", nullptr));
  auto d = run(s);
  EXPECT_FALSE(d.system.name);
  EXPECT_TRUE(has(d.missing, "sysName"));
  EXPECT_TRUE(has(d.missing, "sysObjectID"));
  EXPECT_TRUE(has(d.missing, "ifXTable"));
  ASSERT_EQ(d.interfaces.size(), 1u);
  EXPECT_EQ(d.interfaces[0].name, "eth0");
  EXPECT_FALSE(d.interfaces[0].speed_mbps);
}

// lldpLocPortNum is not an ifIndex here (Huawei style): the local port table's id names the
// interface. Also: management address, MAC port id falling back to the port description.
TEST(Discovery, LldpLocalPortByName) {
  auto s = fake(
      "1.0.8802.1.1.2.1.3.7.1.2.1|2|5\n"
      "1.0.8802.1.1.2.1.3.7.1.3.1|4|XGigabitEthernet0/0/1\n"
      "1.0.8802.1.1.2.1.4.1.1.4.0.1.3|2|4\n"
      "1.0.8802.1.1.2.1.4.1.1.5.0.1.3|4x|001122334455\n"
      "1.0.8802.1.1.2.1.4.1.1.6.0.1.3|2|3\n"
      "1.0.8802.1.1.2.1.4.1.1.7.0.1.3|4x|001122334466\n"
      "1.0.8802.1.1.2.1.4.1.1.8.0.1.3|4|10GE1/0/42\n"
      "1.0.8802.1.1.2.1.4.1.1.9.0.1.3|4|core\n"
      "1.0.8802.1.1.2.1.4.2.1.3.0.1.3.1.4.10.0.0.9|2|2\n"
      "1.0.8802.1.1.2.1.4.2.1.3.0.1.3.2.16.254.128.0.0.0.0.0.0.0.0.0.0.0.0.0.1|2|2\n");
  auto d = run(s);
  ASSERT_EQ(d.neighbors.size(), 1u);
  const auto& n = d.neighbors[0];
  EXPECT_EQ(n.protocol, "lldp");
  EXPECT_EQ(n.local_port, "XGE0/0/1");  // matched ifDescr, printed as the interface name
  EXPECT_EQ(n.local_if_index, 10u);
  EXPECT_EQ(n.remote_name, "core");
  EXPECT_EQ(n.remote_port, "10GE1/0/42");  // MAC port id -> description
  EXPECT_EQ(n.remote_chassis_id, "00:11:22:33:44:55");
  EXPECT_EQ(n.remote_address, "10.0.0.9");  // IPv4 preferred over IPv6
}

// lldpLocPortNum is a bridge port: dot1dBasePortIfIndex maps it. No sysName: chassis id.
TEST(Discovery, LldpLocalPortByBridgePort) {
  auto s = fake(
      "1.3.6.1.2.1.17.1.4.1.2.2|2|11\n"
      "1.0.8802.1.1.2.1.4.1.1.4.0.2.1|2|4\n"
      "1.0.8802.1.1.2.1.4.1.1.5.0.2.1|4x|00aabbccddee\n"
      "1.0.8802.1.1.2.1.4.1.1.6.0.2.1|2|5\n"
      "1.0.8802.1.1.2.1.4.1.1.7.0.2.1|4|eth0\n");
  auto d = run(s);
  ASSERT_EQ(d.neighbors.size(), 1u);
  EXPECT_EQ(d.neighbors[0].local_port, "GigabitEthernet0/0/2");
  EXPECT_EQ(d.neighbors[0].remote_name, "00:aa:bb:cc:dd:ee");
  EXPECT_EQ(d.neighbors[0].remote_port, "eth0");
  EXPECT_FALSE(d.neighbors[0].remote_address);
  EXPECT_TRUE(has(d.missing, "lldpRemManAddrTable"));
}

// lldpLocPortNum is the ifIndex (Cisco / Juniper style); two-part index (TP-Link); unknown port.
TEST(Discovery, LldpLocalPortByIfIndexTwoPartAndUnknown) {
  auto s = fake(
      "1.0.8802.1.1.2.1.4.1.1.9.0.12.1|4|by-ifindex\n"
      "1.0.8802.1.1.2.1.4.1.1.9.11.4|4|two-part\n"
      "1.0.8802.1.1.2.1.4.1.1.9.0.99.1|4|nowhere\n");
  auto d = run(s);
  ASSERT_EQ(d.neighbors.size(), 3u);
  std::map<std::string, std::optional<std::string>> lp;
  for (const auto& n : d.neighbors) lp[n.remote_name] = n.local_port;
  EXPECT_EQ(lp["by-ifindex"], "Serial0");
  EXPECT_EQ(lp["two-part"], "GigabitEthernet0/0/2");
  EXPECT_EQ(lp["nowhere"], std::nullopt);
  EXPECT_EQ(d.skipped["lldp.local_port_unknown"], 1u);
}

// MikroTik: one-part lldpRemTable indexes; MIKROTIK-MIB's neighbour table gives the ifIndex.
TEST(Discovery, MikrotikOnePartIndex) {
  auto s = fake(
      "1.0.8802.1.1.2.1.4.1.1.9.8|4|MikroTik\n"
      "1.0.8802.1.1.2.1.4.1.1.9.9|4|orphan\n"
      "1.3.6.1.4.1.14988.1.1.11.1.1.8.8|2|11\n");
  auto d = run(s);
  ASSERT_EQ(d.neighbors.size(), 2u);
  EXPECT_EQ(d.neighbors[0].local_port, "GigabitEthernet0/0/2");
  EXPECT_EQ(d.neighbors[1].local_port, std::nullopt);
  EXPECT_FALSE(has(d.missing, "mtxrNeighborTable"));
}

TEST(Discovery, Cdp) {
  auto s = fake(
      "1.3.6.1.4.1.9.9.23.1.2.1.1.3.11.5|2|1\n"
      "1.3.6.1.4.1.9.9.23.1.2.1.1.4.11.5|4x|ac1b3154\n"
      "1.3.6.1.4.1.9.9.23.1.2.1.1.6.11.5|4|ap-1.example\n"
      "1.3.6.1.4.1.9.9.23.1.2.1.1.7.11.5|4|GigabitEthernet0\n"
      "1.3.6.1.4.1.9.9.23.1.2.1.1.6.77.1|4|ghost\n"
      "1.3.6.1.4.1.9.9.23.1.2.1.1.4.77.1|4x|ac1b31\n");
  auto d = run(s);
  ASSERT_EQ(d.neighbors.size(), 2u);
  EXPECT_EQ(d.neighbors[0].protocol, "cdp");
  EXPECT_EQ(d.neighbors[0].local_port, "GigabitEthernet0/0/2");
  EXPECT_EQ(d.neighbors[0].remote_name, "ap-1.example");
  EXPECT_EQ(d.neighbors[0].remote_port, "GigabitEthernet0");
  EXPECT_EQ(d.neighbors[0].remote_address, "172.27.49.84");
  EXPECT_EQ(d.neighbors[1].local_port, std::nullopt);      // ifIndex 77 unknown
  EXPECT_EQ(d.neighbors[1].remote_address, std::nullopt);  // 3-byte address
  EXPECT_EQ(d.skipped["cdpCacheAddress.bad_value"], 1u);
}

TEST(Discovery, FdbQBridgeWithVlanMapAndBridgeFallback) {
  auto s = fake(
      "1.3.6.1.2.1.17.1.4.1.2.1|2|10\n"
      "1.3.6.1.2.1.17.1.4.1.2.2|2|11\n"
      // Q-BRIDGE: fdb 5 <-> VLAN 100 (one VLAN), fdb 6 shared by VLANs 200 and 201
      "1.3.6.1.2.1.17.7.1.2.2.1.2.5.0.17.34.51.68.85|2|1\n"
      "1.3.6.1.2.1.17.7.1.2.2.1.2.6.0.17.34.51.68.86|2|2\n"
      "1.3.6.1.2.1.17.7.1.2.2.1.2.5.0.17.34.51.68.87|2|0\n"
      "1.3.6.1.2.1.17.7.1.2.2.1.2.5.0.17.34.51.68.88|2|2\n"
      "1.3.6.1.2.1.17.7.1.2.2.1.3.5.0.17.34.51.68.88|2|2\n"
      "1.3.6.1.2.1.17.7.1.4.2.1.3.0.100|66|5\n"
      "1.3.6.1.2.1.17.7.1.4.2.1.3.0.200|66|6\n"
      "1.3.6.1.2.1.17.7.1.4.2.1.3.0.201|66|6\n"
      // BRIDGE-MIB repeats one MAC and adds one more
      "1.3.6.1.2.1.17.4.3.1.2.0.17.34.51.68.85|2|1\n"
      "1.3.6.1.2.1.17.4.3.1.2.0.17.34.51.68.99|2|12\n");
  auto d = run(s);
  ASSERT_EQ(d.fdb.size(), 4u);  // .88 is invalid (status 2)
  EXPECT_EQ(d.fdb[0].mac, "00:11:22:33:44:55");
  EXPECT_EQ(d.fdb[0].vlan, 100u);
  EXPECT_EQ(d.fdb[0].port, "XGE0/0/1");
  EXPECT_EQ(d.fdb[1].mac, "00:11:22:33:44:57");  // index order: FDB 5 before FDB 6
  EXPECT_EQ(d.fdb[1].port, std::nullopt);        // port 0 kept, no port
  EXPECT_EQ(d.fdb[1].vlan, 100u);
  EXPECT_EQ(d.fdb[2].vlan, std::nullopt);  // shared learning: VLAN unknown, not guessed
  EXPECT_EQ(d.fdb[2].port, "GigabitEthernet0/0/2");
  EXPECT_EQ(d.fdb[3].mac, "00:11:22:33:44:63");
  EXPECT_EQ(d.fdb[3].vlan, std::nullopt);
  EXPECT_EQ(d.fdb[3].port, "Serial0");  // no bridge-port row: the agent used the ifIndex
  EXPECT_EQ(d.skipped["fdb.status_invalid"], 1u);
  EXPECT_EQ(d.skipped["fdb.port_zero"], 1u);
  EXPECT_EQ(d.skipped["fdb.vlan_shared_fdb"], 1u);
}

TEST(Discovery, FdbJunosFilteringDatabaseIds) {
  auto s = fake(
      "1.3.6.1.2.1.17.7.1.2.2.1.2.262144.0.17.34.51.68.85|2|11\n"
      "1.3.6.1.2.1.17.7.1.2.2.1.2.327680.0.17.34.51.68.86|2|11\n"
      "1.3.6.1.2.1.17.7.1.2.2.1.2.10.0.17.34.51.68.87|2|11\n"
      "1.3.6.1.4.1.2636.3.48.1.3.1.1.3.4|2|23\n");
  auto d = run(s);
  ASSERT_EQ(d.fdb.size(), 3u);
  EXPECT_EQ(d.fdb[0].vlan, 10u);           // plain: FDB id = VLAN
  EXPECT_EQ(d.fdb[1].vlan, 23u);           // 4 << 16 -> jnxL2aldVlanTag[4]
  EXPECT_EQ(d.fdb[2].vlan, std::nullopt);  // 5 << 16: no tag known
  EXPECT_EQ(d.skipped["fdb.vlan_unknown"], 1u);
}

// TP-Link JetStream: bridge-port table indexed by ifIndex, FDB and LLDP count ports 1..n.
TEST(Discovery, TplinkOrdinalPorts) {
  auto s = fake(
      "1.3.6.1.2.1.17.1.4.1.2.10|2|10\n"
      "1.3.6.1.2.1.17.1.4.1.2.11|2|11\n"
      "1.3.6.1.2.1.17.7.1.2.2.1.2.1.0.17.34.51.68.85|2|2\n"
      "1.3.6.1.2.1.17.7.1.2.2.1.2.1.0.17.34.51.68.86|2|3\n"
      "1.0.8802.1.1.2.1.4.1.1.9.1.1|4|peer\n");
  auto d = run(s);
  ASSERT_EQ(d.fdb.size(), 2u);
  EXPECT_EQ(d.fdb[0].port, "GigabitEthernet0/0/2");  // 2nd bridge port = ifIndex 11
  EXPECT_EQ(d.fdb[1].port, std::nullopt);            // there is no 3rd
  ASSERT_EQ(d.neighbors.size(), 1u);
  EXPECT_EQ(d.neighbors[0].local_port, "XGE0/0/1");
  EXPECT_EQ(d.skipped["fdb.port_by_ordinal"], 1u);
  EXPECT_EQ(d.skipped["lldp.local_port_by_ordinal"], 1u);
}

// The ordinal rule stays off when bridge ports are numbered normally (1 -> ifIndex 10).
TEST(Discovery, NoOrdinalGuessOnNormalBridgePorts) {
  auto s = fake(
      "1.3.6.1.2.1.17.1.4.1.2.1|2|10\n"
      "1.3.6.1.2.1.17.1.4.1.2.2|2|11\n"
      "1.3.6.1.2.1.17.7.1.2.2.1.2.1.0.17.34.51.68.85|2|3\n");
  auto d = run(s);
  ASSERT_EQ(d.fdb.size(), 1u);
  EXPECT_EQ(d.fdb[0].port, std::nullopt);
  EXPECT_EQ(d.skipped["fdb.port_unmapped"], 1u);
}

TEST(Discovery, ArpPrefersIpNetToPhysical) {
  auto s = fake(
      "1.3.6.1.2.1.4.35.1.4.11.1.4.10.0.0.5|4x|001122334455\n"
      "1.3.6.1.2.1.4.22.1.2.11.10.0.0.6|4x|001122334456\n");
  auto d = run(s);
  ASSERT_EQ(d.arp.size(), 1u);
  EXPECT_EQ(d.arp[0].ip, "10.0.0.5");
  EXPECT_EQ(d.arp[0].interface, "GigabitEthernet0/0/2");
  EXPECT_FALSE(has(d.missing, "ipNetToMediaTable"));  // not asked
}

TEST(Discovery, MalformedRowsAreSkippedAndCounted) {
  auto s = fake(
      "1.3.6.1.2.1.2.2.1.2.0|4|zero-index\n"
      "1.3.6.1.2.1.2.2.1.8.11.7|2|1\n"
      "1.3.6.1.2.1.31.1.1.1.15.10|4|fast\n"
      "1.0.8802.1.1.2.1.4.1.1.9.1.2.3.4|4|too-deep\n"
      "1.3.6.1.2.1.17.7.1.2.2.1.2.5.0.17.34.51.68|2|1\n"
      "1.3.6.1.2.1.1.5.0|2|42\n");
  auto d = run(s);
  EXPECT_EQ(d.interfaces.size(), 3u);
  EXPECT_FALSE(d.system.name);
  EXPECT_EQ(d.skipped["ifTable.bad_index"], 2u);
  EXPECT_EQ(d.skipped["ifHighSpeed.bad_value"], 1u);
  EXPECT_EQ(d.skipped["lldpRemTable.bad_index"], 1u);
  EXPECT_EQ(d.skipped["dot1qTpFdbTable.bad_index"], 1u);
  EXPECT_EQ(d.skipped["sysName.bad_value"], 1u);
  EXPECT_EQ(d.interfaces[0].speed_mbps, 4295u);  // ifHighSpeed unusable -> ifSpeed
}

TEST(Discovery, UnreachableDeviceStopsAtFirstRequest) {
  FakeSession s;
  s.fail_everything(Status(ErrorCode::kTimeout, "no response"));
  auto r = discover_device(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kTimeout);
  EXPECT_EQ(s.counters().requests, 1u);  // no retry storm: nothing else was asked
  EXPECT_TRUE(s.walked().empty());
}

TEST(Discovery, AuthFailureIsAnError) {
  FakeSession s;
  s.fail_everything(Status(ErrorCode::kAuthFailed, "wrong digest"));
  EXPECT_EQ(discover_device(s).status().code(), ErrorCode::kAuthFailed);
}

TEST(Discovery, DeviceGoingQuietStopsTheProbe) {
  auto s = fake("");
  s.fail_under({1, 3, 6, 1, 2, 1, 17}, Status(ErrorCode::kTimeout, "t"));
  s.fail_under({1, 0, 8802}, Status(ErrorCode::kTimeout, "t"));
  auto d = run(s);
  // dot1dBasePortTable and lldpLocPortTable time out; after two in a row nothing else is asked.
  EXPECT_TRUE(has(d.missing, "dot1dBasePortTable (timeout)"));
  EXPECT_TRUE(has(d.missing, "lldpLocPortTable (timeout)"));
  EXPECT_TRUE(has(d.missing, "cdpCacheTable (not asked: device stopped answering)"));
  EXPECT_EQ(d.walk_errors.size(), 2u);
  size_t walks_after = 0;
  for (const Oid& o : s.walked()) walks_after += oid_starts_with(o, {1, 3, 6, 1, 4, 1, 9}) ? 1 : 0;
  EXPECT_EQ(walks_after, 0u);
  EXPECT_EQ(d.interfaces.size(), 3u);  // what was learned before is kept
}

TEST(Discovery, JsonShapeIsExact) {
  auto s = fake(
      "1.0.8802.1.1.2.1.4.1.1.9.0.12.1|4|peer\n"
      "1.3.6.1.2.1.17.4.3.1.2.0.17.34.51.68.99|2|12\n");
  auto j = to_json(run(s));
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"fdb", "interfaces", "missing", "neighbors", "system"}));
  EXPECT_EQ(j["system"].size(), 5u);  // name, descr, object_id, model, serial
  EXPECT_EQ(j["interfaces"][0].size(), 6u);
  EXPECT_TRUE(j["interfaces"][0].contains("speed_mbps"));
  EXPECT_EQ(j["interfaces"][2]["type"], nullptr);
  EXPECT_EQ(j["neighbors"][0]["protocol"], "lldp");
  EXPECT_EQ(j["neighbors"][0]["local_port"], "Serial0");
  EXPECT_EQ(j["neighbors"][0]["remote_address"], nullptr);
  EXPECT_EQ(j["neighbors"][0].size(), 5u);
  EXPECT_EQ(j["fdb"][0],
            (nlohmann::json{{"mac", "00:11:22:33:44:63"}, {"vlan", nullptr}, {"port", "Serial0"}}));
  EXPECT_TRUE(j["missing"].is_array());
  EXPECT_NO_THROW(j.dump());
}

// The recorded Huawei S5720 from ../shared/snmp through the fake: LLDP local ports resolve to
// the right interfaces and bad FDB ports (-1) are skipped with a reason.
TEST(Discovery, RecordedHuaweiS5720) {
  const char* src = std::getenv("CG_SOURCE_DIR");
  std::string path = std::string(src ? src : ".") + "/../shared/snmp/vrp_5720.snmprec";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "recording not found: " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  FakeSession s(parse_snmprec(ss.str(), nullptr));
  auto d = run(s);
  ASSERT_EQ(d.neighbors.size(), 5u);
  std::map<std::string, std::string> by_remote;
  for (const auto& n : d.neighbors) by_remote[n.remote_name + " " + n.remote_port] = *n.local_port;
  EXPECT_EQ(by_remote["LNS-Huawei GigabitEthernet0/0/7"], "GigabitEthernet0/0/14");
  EXPECT_EQ(by_remote["Zrih XGigabitEthernet0/0/1"], "XGigabitEthernet0/0/2");
  EXPECT_EQ(by_remote["pm-test GigabitEthernet0/0/1"], "MEth0/0/1");
  EXPECT_EQ(d.fdb.size(), 2u);
  EXPECT_EQ(d.skipped["dot1dTpFdbTable.bad_port"], 3u);
}

// ENTITY-MIB: the chassis of a stack is the first chassis not inside another chassis; model and
// serial are trimmed; the LLDP local chassis id and ipAddrTable addresses are read too.
TEST(Discovery, EntityChassisAddressesAndChassisId) {
  auto s = fake(
      "1.0.8802.1.1.2.1.3.1.0|2|4\n"
      "1.0.8802.1.1.2.1.3.2.0|4x|00e0fc123456\n"
      "1.3.6.1.2.1.47.1.1.1.1.4.1|2|0\n"
      "1.3.6.1.2.1.47.1.1.1.1.5.1|2|11\n"  // stack
      "1.3.6.1.2.1.47.1.1.1.1.4.2|2|1\n"
      "1.3.6.1.2.1.47.1.1.1.1.5.2|2|3\n"  // member chassis 1
      "1.3.6.1.2.1.47.1.1.1.1.11.2|4|  SN-0001  \n"
      "1.3.6.1.2.1.47.1.1.1.1.13.2|4|S5735-L48T4X\n"
      "1.3.6.1.2.1.47.1.1.1.1.4.3|2|1\n"
      "1.3.6.1.2.1.47.1.1.1.1.5.3|2|3\n"  // member chassis 2
      "1.3.6.1.2.1.47.1.1.1.1.11.3|4|SN-0002\n"
      "1.3.6.1.2.1.47.1.1.1.1.4.4|2|2\n"
      "1.3.6.1.2.1.47.1.1.1.1.5.4|2|3\n"   // a chassis inside chassis 2: not primary
      "1.3.6.1.2.1.47.1.1.1.1.5.5|2|77\n"  // bad class: skipped, counted
      "1.3.6.1.2.1.4.20.1.1.10.0.0.1|64x|0a000001\n"
      "1.3.6.1.2.1.4.20.1.1.192.168.1.1|64x|c0a80101\n"
      "1.3.6.1.2.1.4.20.1.1.1.2.3|64x|01020304\n"  // index too short
      "1.3.6.1.2.1.17.1.4.1.2.1|2|10\n");
  auto d = run(s);
  EXPECT_EQ(d.system.model, "S5735-L48T4X");
  EXPECT_EQ(d.system.serial, "SN-0001");
  EXPECT_EQ(d.system.chassis_id, "00:e0:fc:12:34:56");
  EXPECT_EQ(d.system.addresses, (std::vector<std::string>{"10.0.0.1", "192.168.1.1"}));
  EXPECT_EQ(d.skipped["entPhysicalClass.bad_value"], 1u);
  EXPECT_EQ(d.skipped["ipAddrTable.bad_index"], 1u);
  EXPECT_FALSE(has(d.missing, "entPhysicalTable"));
  EXPECT_TRUE(d.interfaces[0].bridge_port);  // ifIndex 10 is bridge port 1
  EXPECT_FALSE(d.interfaces[1].bridge_port);
  auto j = to_json(d);
  EXPECT_EQ(j["system"]["model"], "S5735-L48T4X");
  EXPECT_EQ(j["system"]["serial"], "SN-0001");

  // No chassis row: model / serial null, counted; no ENTITY-MIB at all: listed as missing.
  auto s2 = fake("1.3.6.1.2.1.47.1.1.1.1.5.1|2|10\n1.3.6.1.2.1.47.1.1.1.1.13.1|4|SFP-10G\n");
  auto d2 = run(s2);
  EXPECT_FALSE(d2.system.model);
  EXPECT_EQ(d2.skipped["entity.no_chassis"], 1u);
  auto s3 = fake("");
  auto d3 = run(s3);
  EXPECT_TRUE(has(d3.missing, "entPhysicalTable"));
  EXPECT_TRUE(has(d3.missing, "ipAddrTable"));
  EXPECT_TRUE(to_json(d3)["system"]["model"].is_null());
}

// ENTITY-MIB containment loops (an agent bug) cannot hang the chassis search; a chassis that
// ends up inside itself is not the primary one.
TEST(Discovery, EntityContainmentLoop) {
  auto s = fake(
      "1.3.6.1.2.1.47.1.1.1.1.4.1|2|2\n"
      "1.3.6.1.2.1.47.1.1.1.1.5.1|2|9\n"
      "1.3.6.1.2.1.47.1.1.1.1.4.2|2|1\n"
      "1.3.6.1.2.1.47.1.1.1.1.5.2|2|3\n"
      "1.3.6.1.2.1.47.1.1.1.1.13.2|4|LOOPY\n");
  auto d = run(s);
  EXPECT_FALSE(d.system.model);
  EXPECT_EQ(d.skipped["entity.no_chassis"], 1u);
}

}  // namespace
}  // namespace cg::snmp
