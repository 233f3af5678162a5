#include <gtest/gtest.h>

#include <cstdio>

#include "snmp/topology/compliance.h"
#include "snmp/topology/crawl.h"
#include "snmp/topology/model.h"
#include "tests/unit/snmp/topology/campus.h"

namespace cg::snmp {
namespace {

using testing::campus_agents;
using testing::fake_factory;

CrawlOptions campus_options() {
  CrawlOptions o;
  o.seeds = {"10.0.0.1"};
  o.subnets = {*Subnet::parse("10.0.0.0/24")};
  o.max_parallel = 4;
  return o;
}

Topology campus_topology(int64_t now = 1000) {
  auto crawl_result = crawl(campus_options(), fake_factory(campus_agents()));
  return build_topology(crawl_result, now);
}

const Link* find_link(const Topology& t, const std::string& dev, const std::string& port) {
  for (const Link& l : t.links)
    if ((l.a.device == dev && l.a.port == port) || (l.b.device == dev && l.b.port == port))
      return &l;
  return nullptr;
}

TEST(Subnet, ParseAndContains) {
  auto s = Subnet::parse("10.1.2.3/16");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->to_string(), "10.1.0.0/16");
  EXPECT_TRUE(s->contains("10.1.200.7"));
  EXPECT_FALSE(s->contains("10.2.0.1"));
  EXPECT_FALSE(s->contains("2001:db8::1"));
  EXPECT_FALSE(s->contains("not-an-address"));
  auto v6 = Subnet::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains("2001:db8:ffff::1"));
  EXPECT_FALSE(v6->contains("2001:db9::1"));
  EXPECT_TRUE(Subnet::parse("192.0.2.1"));  // a /32
  EXPECT_FALSE(Subnet::parse("10.0.0.0/33"));
  EXPECT_FALSE(Subnet::parse("10.0.0.0/"));
  EXPECT_FALSE(Subnet::parse("10.0.0.0/-1"));
  EXPECT_FALSE(Subnet::parse("host.example/24"));
}

TEST(Crawl, FollowsNeighboursInsideSubnetsOnly) {
  auto r = crawl(campus_options(), fake_factory(campus_agents()));
  ASSERT_EQ(r.devices.size(), 3u);
  EXPECT_EQ(r.devices[0].address, "10.0.0.1");
  EXPECT_EQ(r.devices[0].found_via, "seed");
  EXPECT_EQ(r.devices[1].found_via, "lldp neighbour of 10.0.0.1");
  EXPECT_EQ(r.counters.probed, 3u);
  EXPECT_EQ(r.counters.failed, 0u);
  EXPECT_EQ(r.counters.waves, 2u);
  EXPECT_EQ(r.outside_subnets, std::vector<std::string>{"172.16.0.1"});
  EXPECT_EQ(r.counters.skipped_outside_subnets, 1u);
  // acc1 names the core by its second address (10.0.9.1, from the core's ipAddrTable), acc2 by
  // the one already probed: neither is probed again.
  EXPECT_EQ(r.counters.skipped_known, 2u);
  EXPECT_EQ(r.counters.skipped_no_address, 1u);  // the AP
  EXPECT_GT(r.counters.requests, 0u);
}

TEST(Crawl, SameDeviceUnderTwoSeedsIsOneDevice) {
  auto o = campus_options();
  o.seeds = {"10.0.0.1", "10.0.9.1"};
  auto agents = campus_agents();
  agents["10.0.9.1"] = agents["10.0.0.1"];
  auto r = crawl(o, fake_factory(agents));
  EXPECT_EQ(r.counters.duplicates, 1u);
  ASSERT_EQ(r.devices.size(), 4u);
  EXPECT_EQ(r.devices[1].duplicate_of, "10.0.0.1");
  EXPECT_FALSE(r.devices[1].discovery);
  EXPECT_EQ(build_topology(r, 1).counters.at("devices"), 5u);  // 3 managed + city-gw + AP
}

TEST(Crawl, DeadNeighbourIsReportedNotFatal) {
  auto agents = campus_agents();
  agents.erase("10.0.0.3");
  auto r = crawl(campus_options(), fake_factory(agents));
  EXPECT_EQ(r.counters.probed, 3u);
  EXPECT_EQ(r.counters.failed, 1u);
  Topology t = build_topology(r, 1);
  const Device* d = t.device("10.0.0.3");
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->managed);
  ASSERT_TRUE(d->error);
  EXPECT_NE(d->error->find("timeout"), std::string::npos);
}

TEST(Crawl, MaxDevicesBoundsTheCrawl) {
  auto o = campus_options();
  o.max_devices = 2;
  auto r = crawl(o, fake_factory(campus_agents()));
  EXPECT_EQ(r.counters.probed, 2u);
  EXPECT_EQ(r.counters.skipped_max_devices, 1u);
}

TEST(Topology, DevicesWithModelSerialAndKinds) {
  Topology t = campus_topology();
  const Device* core = t.device("core");
  ASSERT_TRUE(core);
  EXPECT_TRUE(core->managed);
  EXPECT_EQ(core->model, "S6730-H24X6C");
  EXPECT_EQ(core->serial, "CORE0001");
  EXPECT_EQ(core->kind, "switch");
  EXPECT_EQ(core->chassis_id, "02:00:00:00:00:01");
  EXPECT_EQ(core->addresses, (std::vector<std::string>{"10.0.0.1", "10.0.9.1"}));
  const Device* ap = t.device("AP-101");
  ASSERT_TRUE(ap);
  EXPECT_FALSE(ap->managed);
  EXPECT_EQ(ap->kind, "ap");
  const Device* gw = t.device("city-gw");
  ASSERT_TRUE(gw);
  EXPECT_EQ(gw->kind, "other");
  EXPECT_EQ(gw->address, "172.16.0.1");
}

TEST(Topology, LinksMatchedAcrossDevicesAndDeduplicated) {
  Topology t = campus_topology();
  ASSERT_EQ(t.links.size(), 4u);
  const Link* l = find_link(t, "acc1", "XGE0/0/1");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->a.device, "acc1");
  EXPECT_EQ(l->b.device, "core");
  EXPECT_EQ(l->b.port, "XGE0/0/2");
  EXPECT_TRUE(l->both_sides);
  EXPECT_EQ(l->protocols, std::vector<std::string>{"lldp"});
  const Link* l2 = find_link(t, "acc2", "XGE0/0/1");
  ASSERT_TRUE(l2);
  EXPECT_EQ(l2->b.port, "XGE0/0/3");
  EXPECT_TRUE(l2->both_sides);
  const Link* up = find_link(t, "core", "XGE0/0/1");
  ASSERT_TRUE(up);
  EXPECT_FALSE(up->both_sides);
  EXPECT_EQ(up->a.device, "city-gw");
  EXPECT_EQ(up->a.port, "xe-0/0/0");
  EXPECT_EQ(t.counters.at("links.duplicates_merged"), 2u);
  // Roles.
  EXPECT_EQ(t.device("acc1")->port("XGE0/0/1")->role, "uplink");
  EXPECT_EQ(t.device("acc1")->port("GE0/0/4")->role, "ap");
  EXPECT_EQ(t.device("acc1")->port("GE0/0/2")->role, "edge");
  EXPECT_EQ(t.device("core")->port("XGE0/0/1")->role, "uplink");
}

TEST(Topology, HostsLocatedOnEdgePortsNotUplinks) {
  Topology t = campus_topology();
  ASSERT_EQ(t.hosts.size(), 4u);  // A, B, C and the AP's own MAC
  auto a = locate(t, "10.0.0.101");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->matched, "ip");
  EXPECT_EQ(a->host.device, "acc1");
  EXPECT_EQ(a->host.port, "GE0/0/2");
  EXPECT_EQ(a->host.vlan, 10u);
  EXPECT_EQ(a->host.mac, "00:16:3e:00:0a:01");
  EXPECT_EQ(a->host.sightings, 3u);  // core, acc1, acc2
  auto c = locate(t, "10.0.0.103");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host.device, "acc2");
  EXPECT_EQ(c->host.port, "GE0/0/2");
  EXPECT_EQ(c->host.vlan, 20u);
  auto b = locate(t, "00-16-3E-00-0B-02");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->matched, "mac");
  EXPECT_EQ(b->host.port, "GE0/0/3");
  EXPECT_EQ(b->host.ips, std::vector<std::string>{"10.0.0.102"});
  auto ap = locate(t, "00e0.fc00.00a0");
  ASSERT_TRUE(ap);
  EXPECT_EQ(ap->host.port, "GE0/0/4");
  EXPECT_FALSE(locate(t, "10.0.0.250"));
  EXPECT_FALSE(locate(t, "garbage"));
  EXPECT_EQ(t.device("acc1")->port("XGE0/0/1")->mac_count, 1u);
}

TEST(Topology, JsonRoundTrip) {
  Topology t = campus_topology();
  t.events.push_back({5, "link_lost", {{"a", {{"device", "x"}, {"port", "y"}}}}});
  nlohmann::json j = to_json(t);
  EXPECT_EQ(j["schema_version"], kTopologySchemaVersion);
  auto back = topology_from_json(j);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(to_json(*back), j);
  // Saved and loaded through a file.
  std::string path = ::testing::TempDir() + "/topo.json";
  ASSERT_TRUE(save_topology_file(path, t).ok());
  auto loaded = load_topology_file(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(to_json(*loaded), j);
  std::remove(path.c_str());
}

TEST(Topology, JsonErrorsAreStatusesNotExceptions) {
  EXPECT_FALSE(topology_from_json(nlohmann::json::array()).ok());
  EXPECT_FALSE(topology_from_json({{"schema_version", 99}}).ok());
  nlohmann::json j = to_json(campus_topology());
  j["devices"][0]["ports"] = "not a list";
  auto r = topology_from_json(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(load_topology_file("/nonexistent/topo.json").ok());
}

TEST(Topology, ChangesBecomeEvents) {
  Topology before = campus_topology(1000);
  // Host B moves to acc2 GE0/0/3 and acc1's AP goes away.
  auto specs = testing::campus();
  auto& acc1 = specs["10.0.0.2"];
  acc1.neighbors.pop_back();  // AP-101 gone
  acc1.fdb[1] = {testing::kMacB, 10, 1};
  auto& acc2 = specs["10.0.0.3"];
  acc2.ports[2].oper = 1;
  acc2.fdb[2] = {testing::kMacB, 10, 3};
  std::map<std::string, std::string> agents;
  for (const auto& [a, s] : specs) agents[a] = testing::snmprec(s);
  Topology after = build_topology(crawl(campus_options(), fake_factory(agents)), 2000);
  auto events = diff_topology(before, after, 2000);
  std::map<std::string, int> types;
  for (const auto& e : events) ++types[e.type];
  EXPECT_EQ(types["host_moved"], 1);
  EXPECT_EQ(types["link_lost"], 1);
  EXPECT_EQ(types["device_lost"], 1);
  EXPECT_EQ(types.size(), 3u);
  for (const auto& e : events) {
    EXPECT_EQ(e.time, 2000);
    if (e.type == "host_moved") {
      auto j = e.to_json();
      EXPECT_EQ(j["mac"], "00:16:3e:00:0b:02");
      EXPECT_EQ(j["from"]["port"], "GE0/0/3");
      EXPECT_EQ(j["to"]["device"], "acc2");
      EXPECT_EQ(j["to"]["port"], "GE0/0/3");
    }
    if (e.type == "link_lost") {
      EXPECT_EQ(e.to_json()["a"]["device"], "AP-101");
    }
  }
  // History: carried across saves, bounded.
  before.events.push_back({900, "link_added", {}});
  TopologyOptions o;
  o.max_events = 3;
  carry_history(before, after, 2000, o);
  ASSERT_EQ(after.events.size(), 3u);
  EXPECT_EQ(after.counters["events.dropped_oldest"], 1u);
  EXPECT_EQ(after.events.back().time, 2000);
}

TEST(Topology, MacNormalisation) {
  EXPECT_EQ(normalize_mac("AA:BB:CC:DD:EE:FF"), "aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(normalize_mac("aabb.ccdd.eeff"), "aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(normalize_mac("aabbccddeeff"), "aa:bb:cc:dd:ee:ff");
  EXPECT_FALSE(normalize_mac("aa:bb:cc:dd:ee"));
  EXPECT_FALSE(normalize_mac("10.0.0.1"));
}

// ---- compliance

TEST(Compliance, InferredUplinksAndClassroomPorts) {
  Topology t = campus_topology();
  ComplianceConfig c;
  c.expect_aps = 2;
  c.expect_switches = 3;
  auto r = check_compliance(t, c);
  EXPECT_EQ(r.switches, 3u);
  EXPECT_EQ(r.aps, 1u);
  // Uplinks: core XGE0/0/1..3, acc1 XGE0/0/1, acc2 XGE0/0/1.
  EXPECT_EQ(r.uplinks_checked, 5u);
  EXPECT_EQ(r.uplinks_ok, 3u);
  // Classroom ports (up, ethernet, not uplinks): acc1 GE0/0/2..4, acc2 GE0/0/2.
  EXPECT_EQ(r.classrooms_checked, 4u);
  EXPECT_EQ(r.classrooms_ok, 3u);
  std::vector<std::string> got;
  for (const auto& f : r.failures) got.push_back(f.check + " " + f.device + " " + f.port);
  EXPECT_EQ(got, (std::vector<std::string>{"uplink core XGE0/0/3", "classroom acc1 GE0/0/3",
                                           "uplink acc2 XGE0/0/1", "ap_count  "}));
  EXPECT_EQ(r.failures[0].reason, "1000 Mbit/s, expected >= 10000");
  EXPECT_EQ(r.failures[1].reason, "100 Mbit/s, expected >= 1000");
  EXPECT_EQ(r.failures[3].reason, "1 APs found, expected 2");
  auto j = to_json(r, c);
  EXPECT_FALSE(j["ok"]);
  EXPECT_EQ(j["failures"].size(), 4u);
  EXPECT_EQ(j["failures"][0]["speed_mbps"], 1000);
}

TEST(Compliance, ExplicitOverrides) {
  Topology t = campus_topology();
  auto c = parse_compliance_config(R"(
uplink_mbps: 1000
classroom_mbps: 100
expect: {switches: 3, aps: 1}
classrooms: [{device: "acc*", port: "GE0/0/[23]"}]
ignore: [{port: "XGE0/0/1"}]
uplinks: [{device: acc2, port: GE0/0/3}]
)");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  auto r = check_compliance(t, *c);
  // Uplinks: core XGE0/0/2, XGE0/0/3 (XGE0/0/1 ignored everywhere) + acc2 GE0/0/3 (down).
  EXPECT_EQ(r.uplinks_checked, 3u);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].device, "acc2");
  EXPECT_EQ(r.failures[0].reason, "port is down");
  EXPECT_EQ(r.classrooms_checked, 3u);  // acc1 GE0/0/2, GE0/0/3, acc2 GE0/0/2
}

TEST(Compliance, ConfigErrorsNameTheKey) {
  auto bad_key = parse_compliance_config("uplink_mbps: 10000\nclasroom_mbps: 1000\n");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.status().message().find("unknown key 'clasroom_mbps'"), std::string::npos);
  EXPECT_NE(bad_key.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(parse_compliance_config("uplink_mbps: fast\n").ok());
  EXPECT_FALSE(parse_compliance_config("uplink_mbps: 0\n").ok());
  EXPECT_FALSE(parse_compliance_config("expect: {aps: -1}\n").ok());
  EXPECT_FALSE(parse_compliance_config("uplinks: {device: a}\n").ok());
  EXPECT_FALSE(parse_compliance_config("uplinks: [{device: a, prot: b}]\n").ok());
  EXPECT_FALSE(parse_compliance_config("[1, 2").ok());
  auto empty = parse_compliance_config("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->uplink_mbps, 10000u);
  EXPECT_EQ(empty->classroom_mbps, 1000u);
}

}  // namespace
}  // namespace cg::snmp
