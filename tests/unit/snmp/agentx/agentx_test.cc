// cg-agentx's value mapping and cache, on canned dataplane replies (no socket, no net-snmp).
#include <gtest/gtest.h>

#include <deque>
#include <string>

#include "snmp/agentx/cache.h"
#include "snmp/agentx/mib_view.h"
#include "snmp/agentx/snapshot.h"

namespace cg::agentx {
namespace {

using nlohmann::json;

json stats_reply() {
  return json::parse(R"({"ok":true,"v":1,
    "ports":{"inside":{"device":"net_af_packet0,iface=cgin","rx_packets":100,"rx_bytes":64000,
                        "tx_packets":90,"tx_bytes":60000,"drop_tx_full":1,"link_up":true,
                        "speed_mbps":10000,"nic_rx_missed":0},
             "outside":{"device":"net_af_packet1,iface=cgout","rx_packets":95,"rx_bytes":70000,
                        "tx_packets":98,"tx_bytes":63000,"drop_tx_full":0}},
    "workers":[{"id":0,"lcore":1,"counters":{"packets":195}}],
    "counters":{"packets":195,"bytes":134000,"forwarded":188,"drop_malformed":2,
                "drop_policy":5,"drop_qos":3,"decode_tcp":150,"flows_active":7,
                "flows_created":12,"drop_tx_full":1},
    "policy":{"generation":3,"rules":[]},"uptime_s":42})");
}

json health_reply() {
  return json::parse(
      R"({"ok":true,"v":1,"state":"running","links_up":true,"workers":2,"uptime_s":42.93,
          "ports":{"inside":{"link_up":true,"rss":false},"outside":{"link_up":true,"rss":false}}})");
}

json policy_reply() {
  return json::parse(R"({"ok":true,"v":1,"generation":3,"prepared":3,"prepares_ok":3,
    "prepares_failed":0,"applies":3,"sha256":"ab12","origin":"school.yaml",
    "loaded_at":"2026-11-30T03:00:00.000000Z","rules":4,"school":"s-01","revision":12})");
}

json qos_reply() {
  return json::parse(R"({"ok":true,"v":1,"generation":3,"workers":[
    {"id":0,"qos":{"classes":[],"uplink":{},
      "classrooms":[{"name":"room-101","packets":10,"bytes_up":1000,"bytes_down":9000,
                     "dropped_packets":1,"dropped_bytes":1500,"rate_bps_up":8000,
                     "rate_bps_down":72000},
                    {"name":"教室-2","packets":4,"bytes_up":400,"bytes_down":0,
                     "dropped_packets":0,"dropped_bytes":0,"rate_bps_up":0,"rate_bps_down":0}],
      "counters":{"qos_packets_passed":14,"qos_drop_class_cap":2,"qos_drop_classroom_rate":1,
                  "qos_drop_uplink_rate":0}}},
    {"id":1,"qos":{"classes":[],"uplink":{},
      "classrooms":[{"name":"room-101","packets":5,"bytes_up":500,"bytes_down":500,
                     "dropped_packets":0,"dropped_bytes":0,"rate_bps_up":1000,
                     "rate_bps_down":1000}],
      "counters":{"qos_drop_class_cap":0,"qos_drop_classroom_rate":0,
                  "qos_drop_uplink_rate":0}}},
    {"id":2,"qos":null}]})");
}

TEST(AgentxMap, StatsFields) {
  DataplaneData d;
  std::string err;
  ASSERT_TRUE(map_stats(stats_reply(), &d, &err)) << err;
  EXPECT_EQ(d.packets, 195u);
  EXPECT_EQ(d.bytes, 134000u);
  EXPECT_EQ(d.forwarded, 188u);
  EXPECT_EQ(d.flows_active, 7u);
  EXPECT_EQ(d.flows_created, 12u);
  EXPECT_EQ(d.policy_generation, 3u);
  EXPECT_EQ(d.ports[0].device, "net_af_packet0,iface=cgin");
  EXPECT_EQ(d.ports[0].rx_packets, 100u);
  EXPECT_EQ(d.ports[0].tx_bytes, 60000u);
  EXPECT_EQ(d.ports[0].drop_tx_full, 1u);
  EXPECT_TRUE(d.ports[0].has_link);
  EXPECT_TRUE(d.ports[0].link_up);
  EXPECT_EQ(d.ports[0].speed_mbps, 10000u);
  EXPECT_FALSE(d.ports[1].has_link);  // the PMD said nothing
  EXPECT_EQ(d.ports[1].rx_bytes, 70000u);
  // Exactly the drop_* counters.
  std::map<std::string, uint64_t> want = {
      {"drop_malformed", 2}, {"drop_policy", 5}, {"drop_qos", 3}, {"drop_tx_full", 1}};
  EXPECT_EQ(d.drops, want);
}

TEST(AgentxMap, StatsErrorsNameTheField) {
  DataplaneData d;
  std::string err;
  json r = stats_reply();
  r["counters"]["packets"] = "many";
  EXPECT_FALSE(map_stats(r, &d, &err));
  EXPECT_EQ(err, "stats.counters.packets: not an unsigned number");
  r = stats_reply();
  r["counters"]["drop_policy"] = -1;
  EXPECT_FALSE(map_stats(r, &d, &err));
  EXPECT_EQ(err, "stats.counters.drop_policy: not an unsigned number");
  r = stats_reply();
  r["ports"].erase("outside");
  EXPECT_FALSE(map_stats(r, &d, &err));
  EXPECT_EQ(err, "stats.ports.outside: missing or not an object");
  r = stats_reply();
  r["ports"]["inside"].erase("rx_bytes");
  EXPECT_FALSE(map_stats(r, &d, &err));
  EXPECT_EQ(err, "stats.ports.inside.rx_bytes: missing");
  EXPECT_FALSE(map_stats(json::array(), &d, &err));
  EXPECT_EQ(err, "stats: reply is not a JSON object");
  EXPECT_FALSE(map_stats(json{{"ok", false}, {"error", "busy"}}, &d, &err));
  EXPECT_EQ(err, "stats: busy");
}

TEST(AgentxMap, HealthAndPolicy) {
  DataplaneData d;
  std::string err;
  ASSERT_TRUE(map_health(health_reply(), &d, &err)) << err;
  EXPECT_TRUE(d.running);
  EXPECT_TRUE(d.links_up);
  EXPECT_EQ(d.workers, 2u);
  EXPECT_EQ(d.uptime_s, 42u);
  json h = health_reply();
  h["state"] = "stopping";
  ASSERT_TRUE(map_health(h, &d, &err));
  EXPECT_FALSE(d.running);
  h["uptime_s"] = -1.5;
  EXPECT_FALSE(map_health(h, &d, &err));
  EXPECT_EQ(err, "health.uptime_s: not a non-negative number");

  ASSERT_TRUE(map_policy_status(policy_reply(), &d, &err)) << err;
  EXPECT_EQ(d.policy_generation, 3u);
  EXPECT_EQ(d.policy_sha256, "ab12");
  EXPECT_EQ(d.policy_origin, "school.yaml");
  EXPECT_EQ(d.policy_loaded_at, "2026-11-30T03:00:00.000000Z");
  EXPECT_EQ(d.policy_rules, 4u);
  EXPECT_EQ(d.policy_school, "s-01");
  EXPECT_EQ(d.policy_applies, 3u);
  EXPECT_EQ(d.policy_revision, 12u);

  // No policy: generation 0, the rest absent.
  DataplaneData none;
  ASSERT_TRUE(
      map_policy_status(json::parse(R"({"ok":true,"generation":0,"applies":0})"), &none, &err));
  EXPECT_EQ(none.policy_generation, 0u);
  EXPECT_EQ(none.policy_sha256, "");
  EXPECT_FALSE(map_policy_status(json::parse(R"({"ok":true,"generation":"x"})"), &none, &err));
  EXPECT_EQ(err, "policy.status.generation: not an unsigned number");
}

TEST(AgentxMap, QosZonesSummedOverWorkers) {
  DataplaneData d;
  std::string err;
  ASSERT_TRUE(map_stats(stats_reply(), &d, &err)) << err;
  ASSERT_TRUE(map_qos(qos_reply(), &d, &err)) << err;
  ASSERT_EQ(d.zones.size(), 2u);
  const ZoneCounters& r = d.zones.at("room-101");
  EXPECT_EQ(r.packets, 15u);
  EXPECT_EQ(r.bytes_up, 1500u);
  EXPECT_EQ(r.bytes_down, 9500u);
  EXPECT_EQ(r.dropped_packets, 1u);
  EXPECT_EQ(r.dropped_bytes, 1500u);
  EXPECT_EQ(r.rate_bps_up, 9000u);
  EXPECT_EQ(r.rate_bps_down, 73000u);
  EXPECT_EQ(d.zones.at("教室-2").bytes_up, 400u);
  // qos_drop_* rows join the stats drop_* rows, summed over workers.
  EXPECT_EQ(d.drops.at("qos_drop_class_cap"), 2u);
  EXPECT_EQ(d.drops.at("qos_drop_classroom_rate"), 1u);
  EXPECT_EQ(d.drops.at("qos_drop_uplink_rate"), 0u);
  EXPECT_EQ(d.drops.at("drop_policy"), 5u);
  EXPECT_EQ(d.drops.size(), 7u);
  // Order does not matter: stats after qos keeps the qos rows.
  DataplaneData e;
  ASSERT_TRUE(map_qos(qos_reply(), &e, &err));
  ASSERT_TRUE(map_stats(stats_reply(), &e, &err));
  EXPECT_EQ(e.drops, d.drops);
}

TEST(AgentxMap, QosWithoutPlanAndBadShapes) {
  DataplaneData d;
  std::string err;
  ASSERT_TRUE(map_qos(json::parse(R"({"ok":true,"workers":[{"id":0,"qos":null}]})"), &d, &err));
  EXPECT_TRUE(d.zones.empty());
  EXPECT_FALSE(map_qos(json::parse(R"({"ok":true})"), &d, &err));
  EXPECT_EQ(err, "qos.workers: missing or not an array");
  EXPECT_FALSE(map_qos(
      json::parse(R"({"ok":true,"workers":[{"qos":{"classrooms":[{"packets":1}]}}]})"), &d, &err));
  EXPECT_EQ(err, "qos.workers[0].qos.classrooms[0].name: missing or empty");
  EXPECT_FALSE(map_qos(json::parse(R"({"ok":true,"workers":[7]})"), &d, &err));
  EXPECT_EQ(err, "qos.workers[0]: not an object");
}

TEST(AgentxEvents, CountsBySeverity) {
  EventCounts c;
  count_event_line(R"({"event_type":"alert","alert":{"severity":1,"severity_name":"critical"}})",
                   &c);
  count_event_line(R"({"event_type":"alert","alert":{"severity":3}})", &c);
  count_event_line(R"({"event_type":"alert","alert":{"severity":3}})", &c);
  count_event_line(R"({"event_type":"overflow","overflow":{"where":"subscriber","lost":40}})", &c);
  count_event_line(R"({"event_type":"alert","alert":{"severity":9}})", &c);
  count_event_line(R"({"event_type":"alert"})", &c);
  count_event_line("not json", &c);
  count_event_line(R"({"event_type":"overflow","overflow":{"lost":-3}})", &c);
  EXPECT_EQ(c.by_severity[0], 1u);
  EXPECT_EQ(c.by_severity[2], 2u);
  EXPECT_EQ(c.by_severity[4], 0u);
  EXPECT_EQ(c.missed, 40u);
  EXPECT_EQ(c.malformed, 4u);
}

const Oid kRoot = mib_root(kDefaultEnterprise);

Oid at(std::initializer_list<uint32_t> sub) {
  Oid o = kRoot;
  o.push_back(1);  // cgObjects
  o.insert(o.end(), sub.begin(), sub.end());
  return o;
}

Snapshot ok_snapshot() {
  Snapshot s;
  s.status = SourceStatus::kOk;
  s.refreshes = 4;
  s.last_success = 1764471600;
  s.refresh_interval_s = 5;
  std::string err;
  EXPECT_TRUE(map_health(health_reply(), &s.dp, &err));
  EXPECT_TRUE(map_stats(stats_reply(), &s.dp, &err));
  EXPECT_TRUE(map_policy_status(policy_reply(), &s.dp, &err));
  EXPECT_TRUE(map_qos(qos_reply(), &s.dp, &err));
  return s;
}

TEST(AgentxView, RootIsTheEnterpriseSubtree) {
  EXPECT_EQ(oid_to_string(kRoot), ".1.3.6.1.4.1.32473");
  EXPECT_EQ(oid_to_string(mib_root(99999)), ".1.3.6.1.4.1.99999");
}

TEST(AgentxView, LiveValues) {
  MibView v = build_view(kRoot, ok_snapshot());
  auto num = [&](const Oid& o) {
    const Value* x = v.get(o);
    EXPECT_NE(x, nullptr) << oid_to_string(o);
    return x ? x->num : ~0ull;
  };
  auto str = [&](const Oid& o) {
    const Value* x = v.get(o);
    EXPECT_NE(x, nullptr) << oid_to_string(o);
    return x ? x->str : std::string("?");
  };
  EXPECT_EQ(num(at({1, 1, 0})), 1u);  // cgAgentDataplaneStatus ok
  EXPECT_EQ(str(at({1, 2, 0})), "");
  EXPECT_EQ(num(at({1, 3, 0})), 1764471600u);
  EXPECT_EQ(num(at({1, 6, 0})), 5u);
  EXPECT_EQ(num(at({2, 1, 0})), 1u);  // running
  EXPECT_EQ(num(at({2, 2, 0})), 1u);  // links up: true(1)
  EXPECT_EQ(num(at({3, 1, 0})), 195u);
  EXPECT_EQ(v.get(at({3, 1, 0}))->type, Value::Type::kCounter64);
  EXPECT_EQ(num(at({3, 2, 0})), 134000u);
  EXPECT_EQ(num(at({3, 3, 0})), 188u);
  EXPECT_EQ(str(at({3, 4, 1, 2, 1})), "net_af_packet0,iface=cgin");
  EXPECT_EQ(num(at({3, 4, 1, 3, 1})), 100u);
  EXPECT_EQ(num(at({3, 4, 1, 6, 2})), 63000u);
  EXPECT_EQ(num(at({3, 4, 1, 8, 1})), 1u);  // up
  EXPECT_EQ(num(at({3, 4, 1, 8, 2})), 3u);  // unknown
  EXPECT_EQ(num(at({3, 4, 1, 9, 1})), 10000u);
  // Drop table, IMPLIED name index: one sub-identifier per byte.
  Oid drop_policy = at({4, 1, 1, 3});
  for (char c : std::string("drop_policy")) drop_policy.push_back(static_cast<uint8_t>(c));
  EXPECT_EQ(num(drop_policy), 5u);
  // Zone table: UTF-8 names are bytes in the index.
  Oid zone = at({5, 1, 1, 5});
  for (char c : std::string("教室-2")) zone.push_back(static_cast<uint8_t>(c));
  EXPECT_EQ(zone.size(), at({5, 1, 1, 5}).size() + 8);
  EXPECT_EQ(num(zone), 0u);
  Oid room = at({5, 1, 1, 9});
  for (char c : std::string("room-101")) room.push_back(static_cast<uint8_t>(c));
  EXPECT_EQ(num(room), 73u);  // kbit/s
  EXPECT_EQ(num(at({6, 1, 0})), 7u);
  EXPECT_EQ(num(at({6, 2, 0})), 12u);
  EXPECT_EQ(num(at({8, 1, 0})), 3u);
  EXPECT_EQ(str(at({8, 2, 0})), "ab12");
  EXPECT_EQ(str(at({8, 4, 0})), "2026-11-30T03:00:00.000000Z");
  EXPECT_EQ(num(at({8, 5, 0})), 4u);
  EXPECT_EQ(num(at({8, 8, 0})), 12u);  // cgPolicyRevision: controld's commit revision
  EXPECT_EQ(num(at({7, 1, 1, 2, 1})), 0u);  // cgEventCount.critical
}

TEST(AgentxView, DownDataplaneHasNoDataObjects) {
  Snapshot s = ok_snapshot();
  s.status = SourceStatus::kUnreachable;
  s.error = "stats: connection refused";
  MibView v = build_view(kRoot, s);
  EXPECT_EQ(v.get(at({1, 1, 0}))->num, 2u);
  EXPECT_EQ(v.get(at({1, 2, 0}))->str, "stats: connection refused");
  EXPECT_EQ(v.get(at({3, 1, 0})), nullptr);
  EXPECT_EQ(v.get(at({2, 1, 0})), nullptr);
  EXPECT_EQ(v.get(at({8, 1, 0})), nullptr);
  for (const auto& [oid, val] : v.rows()) {
    Oid prefix(oid.begin(), oid.begin() + static_cast<long>(kRoot.size()) + 2);
    EXPECT_TRUE(prefix == at({1}) || prefix == at({7})) << oid_to_string(oid);
  }
  EXPECT_NE(v.get(at({7, 1, 1, 2, 5})), nullptr);  // event counts are the agent's own
}

TEST(AgentxView, WalkOrderAndNext) {
  MibView v = build_view(kRoot, ok_snapshot());
  // next() from before the root gives the first row; a walk visits every row once, ascending.
  const MibView::Row* r = v.next({1, 3, 6, 1, 4, 1});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->first, at({1, 1, 0}));
  size_t n = 1;
  Oid prev = r->first;
  while ((r = v.next(prev)) != nullptr) {
    EXPECT_LT(prev, r->first);
    prev = r->first;
    ++n;
  }
  EXPECT_EQ(n, v.rows().size());
  // A GETNEXT on a column (no instance part) lands on its first instance.
  EXPECT_EQ(v.next(at({3, 4, 1, 3}))->first, at({3, 4, 1, 3, 1}));
  EXPECT_EQ(v.get(at({3, 4, 1, 3})), nullptr);
  EXPECT_EQ(v.get(at({3, 1})), nullptr);  // a scalar without .0 is not an instance
}

TEST(AgentxView, OverlongNamesAreSkippedAndCounted) {
  Snapshot s = ok_snapshot();
  s.dp.zones[std::string(65, 'z')] = ZoneCounters{};
  s.dp.zones[std::string(64, 'y')] = ZoneCounters{};
  ViewStats st;
  MibView v = build_view(kRoot, s, &st);
  EXPECT_EQ(st.rows_skipped, 1u);
  EXPECT_EQ(v.get(at({1, 9, 0}))->num, 1u);
  Oid y = at({5, 1, 1, 3});
  y.insert(y.end(), 64, 'y');
  EXPECT_NE(v.get(y), nullptr);
}

// A dataplane whose replies and failures a test scripts.
class FakeSource : public DataplaneSource {
 public:
  bool reachable = true;
  std::map<std::string, json> replies;
  std::vector<std::string> asked;
  bool begin(std::string* err) override {
    if (!reachable) *err = "/run/x.sock: Connection refused";
    return reachable;
  }
  RequestError request(const json& req, json* reply, std::string* err) override {
    std::string cmd = req.at("cmd");
    asked.push_back(cmd);
    auto it = replies.find(cmd);
    if (it == replies.end()) {
      *err = cmd + ": no reply within 2000 ms";
      return RequestError::kUnreachable;
    }
    *reply = it->second;
    return RequestError::kNone;
  }
  void end() override {}
};

TEST(AgentxCache, RefreshStatusTransitions) {
  auto src = std::make_unique<FakeSource>();
  FakeSource* fake = src.get();
  uint64_t now = 1000;
  CacheOptions opt;
  opt.interval_s = 3;
  Cache cache(opt, std::move(src), [&] { return now; });
  // Before the first refresh: notYetAsked, no data.
  EXPECT_EQ(cache.view()->get(at({1, 1, 0}))->num, 4u);
  EXPECT_EQ(cache.view()->get(at({1, 6, 0}))->num, 3u);
  EXPECT_EQ(cache.view()->get(at({3, 1, 0})), nullptr);

  fake->replies = {{"health", health_reply()},
                   {"stats", stats_reply()},
                   {"policy.status", policy_reply()},
                   {"qos", qos_reply()}};
  cache.refresh_once();
  EXPECT_EQ((fake->asked), (std::vector<std::string>{"health", "stats", "policy.status", "qos"}));
  auto v = cache.view();
  EXPECT_EQ(v->get(at({1, 1, 0}))->num, 1u);
  EXPECT_EQ(v->get(at({1, 3, 0}))->num, 1000u);
  EXPECT_EQ(v->get(at({3, 1, 0}))->num, 195u);

  // Dataplane gone: status says so, no stale numbers, last success kept.
  now = 1010;
  fake->reachable = false;
  cache.refresh_once();
  v = cache.view();
  EXPECT_EQ(v->get(at({1, 1, 0}))->num, 2u);
  EXPECT_EQ(v->get(at({1, 2, 0}))->str, "/run/x.sock: Connection refused");
  EXPECT_EQ(v->get(at({1, 3, 0}))->num, 1000u);
  EXPECT_EQ(v->get(at({1, 4, 0}))->num, 2u);
  EXPECT_EQ(v->get(at({1, 5, 0}))->num, 1u);
  EXPECT_EQ(v->get(at({3, 1, 0})), nullptr);

  // A reply of the wrong shape: badReply, with the field named.
  fake->reachable = true;
  fake->replies["stats"]["counters"].erase("forwarded");
  cache.refresh_once();
  v = cache.view();
  EXPECT_EQ(v->get(at({1, 1, 0}))->num, 3u);
  EXPECT_EQ(v->get(at({1, 2, 0}))->str, "stats.counters.forwarded: missing");
  EXPECT_EQ(v->get(at({3, 2, 0})), nullptr);

  // A request that times out mid-refresh counts as unreachable.
  fake->replies = {{"health", health_reply()}};
  cache.refresh_once();
  EXPECT_EQ(cache.view()->get(at({1, 1, 0}))->num, 2u);
  EXPECT_EQ(cache.snapshot().error, "stats: no reply within 2000 ms");

  // Back: live again.
  fake->replies = {{"health", health_reply()},
                   {"stats", stats_reply()},
                   {"policy.status", policy_reply()},
                   {"qos", qos_reply()}};
  now = 1020;
  cache.refresh_once();
  v = cache.view();
  EXPECT_EQ(v->get(at({1, 1, 0}))->num, 1u);
  EXPECT_EQ(v->get(at({1, 2, 0}))->str, "");
  EXPECT_EQ(v->get(at({1, 3, 0}))->num, 1020u);
  EXPECT_EQ(v->get(at({1, 5, 0}))->num, 3u);
}

TEST(AgentxCache, EventCountsAppearAtTheNextRefresh) {
  auto src = std::make_unique<FakeSource>();
  src->reachable = false;
  Cache cache(CacheOptions{}, std::move(src));
  cache.set_event_stream(true);
  cache.add_event_line(R"({"event_type":"alert","alert":{"severity":2}})");
  cache.add_event_line(R"({"event_type":"alert","alert":{"severity":2}})");
  EXPECT_EQ(cache.view()->get(at({7, 1, 1, 2, 2}))->num, 0u);  // not before the refresh
  cache.refresh_once();
  auto v = cache.view();
  EXPECT_EQ(v->get(at({7, 1, 1, 2, 2}))->num, 2u);
  EXPECT_EQ(v->get(at({1, 7, 0}))->num, 1u);  // connected
  EXPECT_EQ(v->get(at({1, 8, 0}))->num, 1u);
  cache.set_event_stream(false);
  cache.refresh_once();
  EXPECT_EQ(cache.view()->get(at({1, 7, 0}))->num, 2u);
  EXPECT_EQ(cache.view()->get(at({7, 1, 1, 2, 2}))->num, 2u);  // counts survive a disconnect
}

}  // namespace
}  // namespace cg::agentx
