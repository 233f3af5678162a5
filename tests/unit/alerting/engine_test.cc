#include "controlplane/alerting/engine.h"

#include <gtest/gtest.h>

namespace cg::alerting {
namespace {

std::shared_ptr<const AlertingConfig> config(const std::string& rules_yaml) {
  std::string y =
      "version: 1\nchannels: {w: {type: webhook, url: 'http://127.0.0.1:1/'}}\n" + rules_yaml;
  auto r = load_config(y, "t.yaml");
  for (const auto& e : r.errors) ADD_FAILURE() << format_diagnostic(e);
  return r.config;
}

nlohmann::json scan(const std::string& src, int sev = 2, const std::string& sig = "port-scan") {
  // The shape of dataplane/api/event.schema.json (fields the rules here look at).
  return {{"timestamp", "2026-11-30T00:00:00.000000+0000"},
          {"event_type", "alert"},
          {"event_id", "5f1c2a9b-0-1"},
          {"schema_version", 1},
          {"src_ip", src},
          {"dest_ip", "10.0.0.1"},
          {"proto", "TCP"},
          {"vlan", {120, 30}},
          {"detector", "port_scan"},
          {"alert", {{"signature", sig}, {"severity", sev}}}};
}

TimePoint at(int64_t s) {
  return from_ms(1'800'000'000'000 + s * 1000);
}

TEST(AlertingEngine, MatchesEqualitySetsCidrAndNumbers) {
  auto cfg = config(R"(rules:
  - name: r
    match:
      event_type: alert
      alert.signature: [port-scan, host-sweep]
      src_ip: {cidr: [10.0.0.0/8], not_cidr: 10.9.0.0/16}
      alert.severity: {lte: 2}
      proto: {not_in: [ICMP]}
    group_by: [src_ip, alert.signature]
    channels: w
)");
  Engine e(cfg);
  EXPECT_EQ(e.ingest(scan("10.1.1.1"), at(0)).raised.size(), 1u);
  EXPECT_EQ(e.ingest(scan("10.1.1.2", 2, "host-sweep"), at(0)).raised.size(), 1u);
  EXPECT_TRUE(e.ingest(scan("10.9.1.1"), at(0)).raised.empty());     // not_cidr
  EXPECT_TRUE(e.ingest(scan("192.168.1.1"), at(0)).raised.empty());  // outside cidr
  EXPECT_TRUE(e.ingest(scan("10.1.1.3", 3), at(0)).raised.empty());  // severity 3 > 2
  EXPECT_TRUE(e.ingest(scan("10.1.1.4", 1, "x"), at(0)).raised.empty());
  auto icmp = scan("10.1.1.5");
  icmp["proto"] = "ICMP";
  EXPECT_TRUE(e.ingest(icmp, at(0)).raised.empty());
  EXPECT_TRUE(e.ingest(nlohmann::json::array(), at(0)).raised.empty());
  Engine v(
      config("rules:\n  - {name: v, match: {vlan: 30}, channels: w}\n"
             "  - {name: v2, match: {vlan: 31}, channels: w}\n"));
  auto hit = v.ingest(scan("10.1.1.1"), at(0)).raised;
  ASSERT_EQ(hit.size(), 1u);  // one element of vlan [120, 30] matches
  EXPECT_EQ(hit[0].rule, "v");
  EXPECT_EQ(e.counters().events_invalid, 1u);
  EXPECT_EQ(e.counters().events_in, 8u);
  EXPECT_EQ(field_text(scan("x"), "vlan"), "120,30");
}

TEST(AlertingEngine, ThresholdOverSlidingWindowPerGroup) {
  auto cfg = config(R"(rules:
  - name: burst
    group_by: src_ip
    threshold: {count: 3, window: 10s}
    dedup: {window: 1s}
    channels: w
)");
  Engine e(cfg);
  EXPECT_TRUE(e.ingest(scan("10.0.0.5"), at(0)).raised.empty());
  EXPECT_TRUE(e.ingest(scan("10.0.0.5"), at(4)).raised.empty());
  EXPECT_TRUE(e.ingest(scan("10.0.0.6"), at(5)).raised.empty());  // other group
  // The event at 0 left the window (10 s) at 10: still only two inside.
  EXPECT_TRUE(e.ingest(scan("10.0.0.5"), at(11)).raised.empty());
  auto out = e.ingest(scan("10.0.0.5"), at(12));
  ASSERT_EQ(out.raised.size(), 1u);
  EXPECT_EQ(out.raised[0].group, "src_ip=10.0.0.5");
  EXPECT_EQ(out.raised[0].events, 3u);
  EXPECT_EQ(out.raised[0].rule, "burst");
  // The window restarts after an alert.
  EXPECT_TRUE(e.ingest(scan("10.0.0.5"), at(13)).raised.empty());
  EXPECT_EQ(e.counters().threshold_pending, 5u);
  EXPECT_EQ(e.group_count(), 2u);
}

TEST(AlertingEngine, DeduplicatesWithinWindowThenRaisesAgain) {
  auto cfg = config(R"(rules:
  - name: d
    group_by: src_ip
    dedup: {key: [src_ip, alert.signature], window: 60s}
    channels: w
)");
  Engine e(cfg);
  auto first = e.ingest(scan("10.0.0.5"), at(0));
  ASSERT_EQ(first.raised.size(), 1u);
  EXPECT_EQ(first.raised[0].dedup, "src_ip=10.0.0.5 alert.signature=port-scan");
  auto again = e.ingest(scan("10.0.0.5"), at(30));
  EXPECT_TRUE(again.raised.empty());
  ASSERT_EQ(again.folded.size(), 1u);
  EXPECT_EQ(again.folded[0].alert_id, first.raised[0].id);
  EXPECT_EQ(e.ingest(scan("10.0.0.5", 2, "host-sweep"), at(31)).raised.size(), 1u);
  auto later = e.ingest(scan("10.0.0.5"), at(60));
  ASSERT_EQ(later.raised.size(), 1u);  // window over: a fresh alert (reminder)
  EXPECT_GT(later.raised[0].id, first.raised[0].id);
  EXPECT_EQ(e.counters().alerts_deduplicated, 1u);
  EXPECT_EQ(e.counters().alerts_raised, 3u);
}

TEST(AlertingEngine, SilencesWithOwnerReasonExpiryAndRuleScope) {
  auto cfg = config(R"(rules:
  - {name: a, group_by: src_ip, channels: w}
  - {name: b, group_by: src_ip, channels: w}
)");
  Engine e(cfg);
  Silence s;
  s.id = "maint";
  s.owner = "wang";
  s.reason = "core switch upgrade";
  s.rules = {"a"};
  std::string err;
  s.match = *matcher_from_json({{"src_ip", {{"cidr", "10.1.0.0/16"}}}}, err);
  s.starts = at(100);
  s.ends = at(200);
  e.add_silence(s);
  auto before = e.ingest(scan("10.1.0.9"), at(50));  // not started yet
  ASSERT_EQ(before.raised.size(), 2u);
  EXPECT_EQ(before.raised[0].state, AlertState::kOpen);
  auto during = e.ingest(scan("10.1.0.10"), at(150));
  ASSERT_EQ(during.raised.size(), 2u);
  EXPECT_EQ(during.raised[0].state, AlertState::kSilenced);
  EXPECT_EQ(during.raised[0].silence_id, "maint");
  EXPECT_EQ(during.raised[1].state, AlertState::kOpen);  // rule b is not silenced
  // A repeat after expiry is not folded into the silenced alert: it is raised open.
  auto after = e.ingest(scan("10.1.0.10"), at(201));
  ASSERT_EQ(after.raised.size(), 1u);
  EXPECT_EQ(after.raised[0].rule, "a");
  EXPECT_EQ(after.raised[0].state, AlertState::kOpen);
  EXPECT_EQ(e.counters().alerts_silenced, 1u);
  std::vector<std::string> expired;
  EXPECT_TRUE(e.silences(at(201), &expired).empty());
  EXPECT_EQ(expired, std::vector<std::string>{"maint"});
  EXPECT_EQ(e.counters().silences_expired, 1u);
}

TEST(AlertingEngine, SeverityRemapping) {
  auto cfg = config(R"(rules:
  - {name: fixed, match: {src_ip: 10.0.0.1}, severity: critical, channels: w}
  - {name: mapped, match: {src_ip: 10.0.0.2}, severity_map: {1: critical, 3: info},
     group_by: alert.signature,
     default_severity: low, channels: w}
  - {name: eve, match: {src_ip: 10.0.0.3}, group_by: alert.signature, channels: w}
  - {name: none, match: {event_type: flow}, default_severity: high, channels: w}
)");
  Engine e(cfg);
  EXPECT_EQ(e.ingest(scan("10.0.0.1", 3), at(0)).raised.at(0).severity, Severity::kCritical);
  EXPECT_EQ(e.ingest(scan("10.0.0.2", 1), at(0)).raised.at(0).severity, Severity::kCritical);
  EXPECT_EQ(e.ingest(scan("10.0.0.2", 3, "b"), at(0)).raised.at(0).severity, Severity::kInfo);
  EXPECT_EQ(e.ingest(scan("10.0.0.2", 2, "c"), at(0)).raised.at(0).severity, Severity::kLow);
  EXPECT_EQ(e.ingest(scan("10.0.0.3", 1), at(0)).raised.at(0).severity, Severity::kCritical);
  EXPECT_EQ(e.ingest(scan("10.0.0.3", 4, "b"), at(0)).raised.at(0).severity, Severity::kLow);
  EXPECT_EQ(e.ingest({{"event_type", "flow"}}, at(0)).raised.at(0).severity, Severity::kHigh);
}

TEST(AlertingEngine, BoundedStateEvictsAndCounts) {
  auto cfg = config(R"(rules:
  - {name: t, group_by: src_ip, threshold: {count: 2, window: 1h}, channels: w}
)");
  Engine e(cfg, EngineLimits{4, 2});
  for (int i = 0; i < 10; ++i) e.ingest(scan("10.0.0." + std::to_string(i)), at(i));
  EXPECT_EQ(e.group_count(), 4u);
  EXPECT_EQ(e.counters().groups_evicted, 6u);
  // 10.0.0.0 was evicted: its first event is forgotten, one more does not reach 2.
  EXPECT_TRUE(e.ingest(scan("10.0.0.0"), at(20)).raised.empty());
  // 10.0.0.9 is still tracked.
  EXPECT_EQ(e.ingest(scan("10.0.0.9"), at(21)).raised.size(), 1u);

  auto one = config("rules:\n  - {name: o, group_by: src_ip, channels: w}\n");
  Engine d(one, EngineLimits{100, 2});
  for (int i = 0; i < 5; ++i) d.ingest(scan("10.0.0." + std::to_string(i)), at(i));
  EXPECT_EQ(d.dedup_count(), 2u);
  EXPECT_EQ(d.counters().dedup_evicted, 3u);
  // 10.0.0.0's dedup entry was evicted: a repeat raises a new alert instead of folding.
  EXPECT_EQ(d.ingest(scan("10.0.0.0"), at(6)).raised.size(), 1u);
  EXPECT_EQ(d.ingest(scan("10.0.0.4"), at(6)).folded.size(), 1u);
}

TEST(AlertingEngine, SummaryTemplate) {
  auto cfg = config(R"y(rules:
  - {name: s, summary: "{alert.signature} from {src_ip} ({school_id}/{zone})",
     group_by: src_ip, channels: w}
)y");
  Engine e(cfg);
  auto ev = scan("10.0.0.7");
  ev["school_id"] = "No.3 Middle School";
  EXPECT_EQ(e.ingest(ev, at(0)).raised.at(0).summary,
            "port-scan from 10.0.0.7 (No.3 Middle "
            "School/-)");
  auto j = alert_to_json(e.ingest(scan("10.0.0.8"), at(0)).raised.at(0));
  auto back = alert_from_json(j);
  ASSERT_TRUE(back);
  EXPECT_EQ(alert_to_json(*back), j);
}

}  // namespace
}  // namespace cg::alerting
