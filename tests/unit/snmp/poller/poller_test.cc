#include "snmp/poller/poller.h"

#include <gtest/gtest.h>

#include "snmp/session/fake_session.h"
#include "tests/unit/snmp/topology/campus.h"

namespace cg::snmp {
namespace {

Topology campus_topology() {
  CrawlOptions o;
  o.seeds = {"10.0.0.1"};
  o.subnets = {*Subnet::parse("10.0.0.0/24")};
  return build_topology(crawl(o, testing::fake_factory(testing::campus_agents())), 1);
}

// ifTable / ifXTable counters for acc1's five ports.
FakeSession acc1_counters(uint64_t octets, uint64_t errors, int oper_port1, uint64_t speed_port2) {
  FakeSession s;
  for (uint32_t i = 1; i <= 5; ++i) {
    auto col = [&](std::initializer_list<uint32_t> entry, uint32_t c) {
      Oid o(entry);
      o.push_back(c);
      o.push_back(i);
      return o;
    };
    std::initializer_list<uint32_t> if_entry{1, 3, 6, 1, 2, 1, 2, 2, 1};
    std::initializer_list<uint32_t> ifx_entry{1, 3, 6, 1, 2, 1, 31, 1, 1, 1};
    int oper = i == 1 ? oper_port1 : (i == 5 ? 2 : 1);
    s.set(col(if_entry, 8), Value::make_integer(oper));
    s.set(col(if_entry, 5), Value::make_unsigned(ValueType::kGauge32, 4294967295u));
    s.set(col(if_entry, 14), Value::make_unsigned(ValueType::kCounter32, i == 2 ? errors : 0));
    s.set(col(if_entry, 20), Value::make_unsigned(ValueType::kCounter32, 0));
    s.set(col(if_entry, 10), Value::make_unsigned(ValueType::kCounter32, octets & 0xffffffff));
    s.set(col(if_entry, 16), Value::make_unsigned(ValueType::kCounter32, 0));
    s.set(col(ifx_entry, 6), Value::make_unsigned(ValueType::kCounter64, octets));
    s.set(col(ifx_entry, 10), Value::make_unsigned(ValueType::kCounter64, octets / 2));
    uint64_t mbps = i == 2 ? speed_port2 : (i == 1 ? 10000 : i == 3 ? 100 : 1000);
    s.set(col(ifx_entry, 15), Value::make_unsigned(ValueType::kGauge32, mbps));
  }
  return s;
}

std::map<std::string, int> types(const std::vector<TopologyEvent>& ev) {
  std::map<std::string, int> m;
  for (const auto& e : ev) ++m[e.type];
  return m;
}

TEST(PollInterfaces, ReadsStatusSpeedAndHcCounters) {
  auto s = acc1_counters(5000000000ull, 3, 1, 1000);
  auto r = poll_interfaces(s);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 5u);
  const PortSample& p = r->at(2);
  EXPECT_EQ(p.oper_status, 1);
  EXPECT_EQ(p.speed_mbps, 1000u);
  EXPECT_TRUE(p.hc);
  EXPECT_EQ(p.in_octets, 5000000000ull);  // 64-bit, not the wrapped 32-bit value
  EXPECT_EQ(p.out_octets, 2500000000ull);
  EXPECT_EQ(p.in_errors, 3u);
  EXPECT_EQ(r->at(5).oper_status, 2);
}

TEST(PollInterfaces, DeadDeviceFailsOnce) {
  FakeSession s;
  s.fail_everything(Status(ErrorCode::kTimeout, "timeout"));
  auto r = poll_interfaces(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kTimeout);
  EXPECT_EQ(s.walked().size(), 1u);  // no storm of walks against a dead device
}

TEST(Poller, LinkDownBecomesLinkLostOfTheTopologyLink) {
  Topology t = campus_topology();
  Poller p(t, PollerOptions{});
  auto s1 = acc1_counters(1000, 0, 1, 1000);
  auto e1 = p.update("acc1", *poll_interfaces(s1), 0, 100);
  EXPECT_TRUE(e1.empty());  // same as discovery saw
  // One cycle later: the uplink is down, port 2 renegotiated to 100M and logged 50 errors.
  auto s2 = acc1_counters(1000 + 125000000, 50, 2, 100);
  auto e2 = p.update("acc1", *poll_interfaces(s2), 10000, 110);
  auto m = types(e2);
  EXPECT_EQ(m["link_down"], 1);
  EXPECT_EQ(m["link_lost"], 1);
  EXPECT_EQ(m["speed_changed"], 1);
  EXPECT_EQ(m["error_burst"], 1);
  EXPECT_EQ(m.size(), 4u);
  for (const auto& e : e2) {
    auto j = e.to_json();
    EXPECT_EQ(j["time"], 110);
    if (e.type == "link_lost") {
      EXPECT_EQ(j["a"]["device"], "acc1");
      EXPECT_EQ(j["a"]["port"], "XGE0/0/1");
      EXPECT_EQ(j["b"]["device"], "core");
      EXPECT_EQ(j["b"]["port"], "XGE0/0/2");
    }
    if (e.type == "speed_changed") {
      EXPECT_EQ(j["port"], "GE0/0/2");
      EXPECT_EQ(j["from_mbps"], 1000);
      EXPECT_EQ(j["to_mbps"], 100);
    }
    if (e.type == "error_burst") {
      EXPECT_EQ(j["errors"], 50);
    }
  }
  // Rates over the 10 s: 125 MB in -> 100 Mbit/s, on a 10G port 1 %.
  const PortRates& r = p.rates().at({"acc1", 1});
  EXPECT_DOUBLE_EQ(r.in_bps, 100e6);
  ASSERT_TRUE(r.utilisation);
  EXPECT_DOUBLE_EQ(*r.utilisation, 0.01);
  // Back up: link_up + link_restored.
  auto s3 = acc1_counters(1000 + 125000000, 50, 1, 100);
  auto m3 = types(p.update("acc1", *poll_interfaces(s3), 20000, 120));
  EXPECT_EQ(m3["link_up"], 1);
  EXPECT_EQ(m3["link_restored"], 1);
  EXPECT_EQ(m3.size(), 2u);
  EXPECT_EQ(p.counters().events, 6u);
}

TEST(Poller, CounterResetIsADiscontinuityNotARate) {
  Topology t = campus_topology();
  Poller p(t, PollerOptions{});
  auto s1 = acc1_counters(1000000, 100, 1, 1000);
  p.update("acc1", *poll_interfaces(s1), 0, 1);
  auto s2 = acc1_counters(10, 0, 1, 1000);  // agent restarted
  auto ev = p.update("acc1", *poll_interfaces(s2), 1000, 2);
  EXPECT_TRUE(ev.empty());
  EXPECT_GT(p.counters().counter_discontinuities, 0u);
  EXPECT_EQ(p.rates().at({"acc1", 2}).in_bps, 0);
}

TEST(Poller, FailedDeviceReportedOnceUntilItRecovers) {
  Topology t = campus_topology();
  Poller p(t, PollerOptions{});
  Status timeout(ErrorCode::kTimeout, "timeout");
  EXPECT_EQ(types(p.failed("core", timeout, 1))["poll_failed"], 1);
  EXPECT_TRUE(p.failed("core", timeout, 2).empty());
  EXPECT_EQ(p.counters().device_failures, 2u);
  std::map<uint32_t, PortSample> none;
  EXPECT_EQ(types(p.update("core", none, 0, 3))["poll_recovered"], 1);
}

}  // namespace
}  // namespace cg::snmp
