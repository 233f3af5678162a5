// The `bandwidth` section: rates, the compiled QosImage, and the tree checks with positions.
#include "policies/compiler/bandwidth.h"

#include <gtest/gtest.h>

#include "tests/unit/policies/test_util.h"

namespace cg::policy {
namespace {
using namespace cg::policy::testing;

constexpr uint64_t kMbit = 1'000'000;

const std::string kHead = R"(apiVersion: campusguard/v1
school: { id: wh-001, name: 乌海市第一中学 }
zones:
  classrooms: { vlans: [101-103, 110] }
  teachers: { vlans: [20], subnets: [10.20.0.0/16] }
  wifi: { subnets: [10.50.0.0/16] }
schedules:
  class-hours: { days: [weekdays], times: ["08:00-11:50"] }
apps:
  teaching: { hosts: ["*.smartedu.cn"] }
  video: { protocols: [YouTube], categories: [Video] }
  p2p: { protocols: [BitTorrent] }
)";

TEST(Bandwidth, ParsesRates) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_rate("10 Gbit", &v));
  EXPECT_EQ(v, 10'000'000'000u);
  EXPECT_TRUE(parse_rate("200Mbit", &v));
  EXPECT_EQ(v, 200 * kMbit);
  EXPECT_TRUE(parse_rate("1.5 Mbit", &v));
  EXPECT_EQ(v, 1'500'000u);
  EXPECT_TRUE(parse_rate("512 kbit", &v));
  EXPECT_EQ(v, 512'000u);
  for (const char* bad : {"", "10", "10 gbit", "10 Gbps", "1.2345 Mbit", "1. Mbit", " 1 Mbit",
                          "10  Mbit", "99999999999999 Gbit"})
    EXPECT_FALSE(parse_rate(bad, &v)) << bad;
  EXPECT_EQ(rate_text(10'000'000'000), "10 Gbit");
  EXPECT_EQ(rate_text(1'500'000), "1.5 Mbit");
  EXPECT_EQ(rate_text(8'000), "8 kbit");
  EXPECT_EQ(rate_text(1'250'000'000), "1.25 Gbit");
}

TEST(Bandwidth, BurstIsAutomaticUnlessWritten) {
  const std::string text = kHead + R"(bandwidth:
  uplink: { up: 1 Gbit, down: 1 Gbit }
  zones:
    classrooms: { rate: 20 Mbit }
)";
  auto r = compile_policy(text, "t.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.image->bandwidth.burst_ms, api::kQosAutoBurst);  // sized for TCP per rate
}

TEST(Bandwidth, CompilesTheTree) {
  const std::string text = kHead + R"(rules:
  - { name: teaching, to-app: teaching, action: allow }
bandwidth:
  uplink: { up: 1 Gbit, down: 10 Gbit }
  burst-ms: 50
  zones:
    classrooms: { rate: 20 Mbit, guaranteed: 5 Mbit }
    teachers: { rate: 200 Mbit, per: zone }
  classes:
    - { name: teaching, app: teaching, priority: true, guaranteed: 8 Mbit }
    - { name: video, app: video, when: class-hours, zones: classrooms, cap: 5 Mbit }
    - { name: p2p, app: [p2p], cap: 1 Mbit }
)";
  auto r = compile_policy(text, "t.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.warning_count(), 1) << dump(r);  // zone wifi is used by nothing
  const api::QosImage& q = r.image->bandwidth;
  ASSERT_TRUE(q.enabled);
  EXPECT_EQ(q.uplink_bps[0], 1000 * kMbit);
  EXPECT_EQ(q.uplink_bps[1], 10'000 * kMbit);
  EXPECT_EQ(q.burst_ms, 50u);
  ASSERT_EQ(q.zones.size(), 2u);
  EXPECT_EQ(q.zones[0].zone, 0);
  EXPECT_EQ(q.zones[0].rate_bps, 20 * kMbit);
  EXPECT_EQ(q.zones[0].guaranteed_bps, 5 * kMbit);
  EXPECT_TRUE(q.zones[0].per_vlan);
  EXPECT_FALSE(q.zones[1].per_vlan);
  // classrooms: VLANs 101, 102, 103, 110; teachers: one; the unzoned one last.
  ASSERT_EQ(q.classrooms.size(), 6u);
  EXPECT_EQ(q.classrooms[0].vlan, 101);
  EXPECT_EQ(q.classrooms[3].vlan, 110);
  EXPECT_EQ(q.classrooms[4].qos_zone, 1);
  EXPECT_EQ(q.classrooms[4].vlan, 0);
  EXPECT_EQ(q.classrooms[5].qos_zone, api::kNoQosZone);
  ASSERT_EQ(q.classes.size(), 3u);
  EXPECT_EQ(q.class_count(), 4u);
  EXPECT_EQ(q.classes[0].name, "teaching");
  EXPECT_TRUE(q.classes[0].priority);
  EXPECT_EQ(q.classes[0].guaranteed_bps, 8 * kMbit);
  EXPECT_EQ(q.classes[1].schedule, 0);
  EXPECT_EQ(q.classes[1].zones, std::vector<uint16_t>{0});
  EXPECT_EQ(q.classes[1].cap_bps, 5 * kMbit);
  EXPECT_EQ(q.classes[1].line, 23u);
  EXPECT_EQ(q.classes[2].apps, std::vector<uint16_t>{2});
  // The summary cgctl prints carries the tree.
  const std::string j = image_summary_json(*r.image);
  EXPECT_NE(j.find("\"bandwidth\""), std::string::npos);
  EXPECT_NE(j.find("\"cap_bps\": 5000000"), std::string::npos);
}

TEST(Bandwidth, AbsentSectionMeansNoShaping) {
  auto r = compile_policy(kHead +
                              "rules:\n  - { name: v, app: [video, p2p, teaching], to: wifi,"
                              " from: [classrooms, teachers], when: class-hours, "
                              "action: deny }\n",
                          "t.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_FALSE(r.image->bandwidth.enabled);
}

TEST(Bandwidth, ZonesAndAppsUsedOnlyByBandwidthAreNotUnused) {
  const std::string text = kHead + R"(bandwidth:
  uplink: { up: 1 Gbit, down: 1 Gbit }
  zones:
    classrooms: { rate: 20 Mbit }
    teachers: { rate: 20 Mbit }
    wifi: { rate: 20 Mbit }
  classes:
    - { name: t, app: [teaching, video, p2p], when: class-hours, cap: 10 Mbit }
)";
  auto r = compile_policy(text, "t.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.warning_count(), 0) << dump(r);
}

TEST(Bandwidth, ChildrenGuaranteedMoreThanTheParentIsAnErrorAtTheGuarantee) {
  const std::string text = kHead + R"(bandwidth:
  uplink: { up: 1 Gbit, down: 1 Gbit }
  zones:
    classrooms: { rate: 20 Mbit }
  classes:
    - { name: teaching, app: teaching, priority: true, guaranteed: 15 Mbit }
    - { name: video, app: video, guaranteed: 6 Mbit }
)";
  auto r = compile_policy(text, "t.yaml");
  ASSERT_FALSE(r.ok());
  const Pos p = at(text, "6 Mbit");
  EXPECT_TRUE(has_diag(r, p.line, p.col,
                       "bandwidth.classes[1].guaranteed: classes are guaranteed more than a "
                       "classroom of zone 'classrooms': teaching 15 Mbit + video 6 Mbit = 21 "
                       "Mbit > 20 Mbit"))
      << dump(r);
  EXPECT_EQ(r.error_count(), 1) << dump(r);
}

TEST(Bandwidth, GuaranteesOfUnzonedTrafficAreBoundByTheUplink) {
  const std::string text = kHead + R"(bandwidth:
  uplink: { up: 10 Mbit, down: 1 Gbit }
  classes:
    - { name: teaching, app: teaching, guaranteed: 15 Mbit }
)";
  auto r = compile_policy(text, "t.yaml");
  const Pos p = at(text, "15 Mbit");
  EXPECT_TRUE(has_diag(r, p.line, p.col, "more than the uplink (unzoned traffic)")) << dump(r);
}

TEST(Bandwidth, ClassListInAZoneNotUnderBandwidthIsAnError) {
  const std::string text = kHead + R"(bandwidth:
  uplink: { up: 1 Gbit, down: 1 Gbit }
  zones:
    classrooms: { rate: 20 Mbit }
  classes:
    - { name: video, app: video, zones: [classrooms, wifi], cap: 2 Mbit }
)";
  auto r = compile_policy(text, "t.yaml");
  const Pos p = at(text, "wifi]");
  EXPECT_TRUE(has_diag(r, p.line, p.col,
                       "bandwidth.classes[0].zones[1]: zone 'wifi' has no entry in "
                       "bandwidth.zones"))
      << dump(r);
}

TEST(Bandwidth, UselessCapIsAWarning) {
  const std::string text = kHead + R"(bandwidth:
  uplink: { up: 1 Gbit, down: 1 Gbit }
  zones:
    classrooms: { rate: 20 Mbit }
  classes:
    - { name: video, app: video, zones: classrooms, cap: 20 Mbit }
    - { name: bulk }
)";
  auto r = compile_policy(text, "t.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Pos p = at(text, "20 Mbit }\n    - { name: bulk");
  EXPECT_TRUE(has_diag(r, p.line, p.col, "it never limits", DiagSeverity::kWarning)) << dump(r);
  const Pos b = at(text, "{ name: bulk");
  EXPECT_TRUE(has_diag(r, b.line, b.col, "it only counts", DiagSeverity::kWarning)) << dump(r);
}

TEST(Bandwidth, AtMostFifteenClasses) {
  std::string text = kHead + "bandwidth:\n  uplink: { up: 1 Gbit, down: 1 Gbit }\n  classes:\n";
  for (int i = 0; i < 16; ++i)
    text += "    - { name: c" + std::to_string(i) + ", app: video, cap: 1 Mbit }\n";
  auto r = compile_policy(text, "t.yaml");
  const Pos p = at(text, "{ name: c15");
  EXPECT_TRUE(has_diag(r, p.line, p.col, "too many classes (at most 15)")) << dump(r);
  EXPECT_EQ(r.error_count(), 1);
}

TEST(Bandwidth, RatesOutsideTheSupportedRange) {
  const std::string text = kHead + R"(bandwidth:
  uplink: { up: 1 kbit, down: 500 Gbit }
)";
  auto r = compile_policy(text, "t.yaml");
  EXPECT_TRUE(has_diag(r, at(text, "1 kbit").line, at(text, "1 kbit").col,
                       "rate 1 kbit is outside 8 kbit .. 400 Gbit"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "500 Gbit").line, at(text, "500 Gbit").col, "is outside"));
}

TEST(Bandwidth, PerHostFairShareAndCapCompile) {
  const std::string text = kHead + R"(bandwidth:
  uplink: { up: 1 Gbit, down: 1 Gbit }
  zones:
    classrooms: { rate: 20 Mbit, per-host: { fair: true } }
    teachers: { rate: 200 Mbit, per: zone, per-host: { cap: 50 Mbit } }
    wifi: { rate: 100 Mbit, per-host: { fair: true, cap: 10 Mbit } }
)";
  auto r = compile_policy(text, "t.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const api::QosImage& q = r.image->bandwidth;
  ASSERT_EQ(q.zones.size(), 3u);
  EXPECT_TRUE(q.zones[0].host_fair);
  EXPECT_EQ(q.zones[0].host_cap_bps, 0u);
  EXPECT_FALSE(q.zones[1].host_fair);
  EXPECT_EQ(q.zones[1].host_cap_bps, 50 * kMbit);
  EXPECT_TRUE(q.zones[2].host_fair && q.zones[2].per_host());
  EXPECT_EQ(q.zones[2].host_cap_bps, 10 * kMbit);
  // Absent: no host level.
  auto plain = compile_policy(kHead + "bandwidth:\n  uplink: { up: 1 Gbit, down: 1 Gbit }\n"
                                      "  zones:\n    classrooms: { rate: 20 Mbit }\n",
                              "t.yaml");
  ASSERT_TRUE(plain.ok()) << dump(plain);
  EXPECT_FALSE(plain.image->bandwidth.zones[0].per_host());
}

TEST(Bandwidth, PerHostCapAboveTheClassroomRateIsAnError) {
  const std::string text = kHead + R"(bandwidth:
  uplink: { up: 1 Gbit, down: 1 Gbit }
  zones:
    classrooms: { rate: 20 Mbit, per-host: { fair: true, cap: 30 Mbit } }
    wifi: { rate: 100 Mbit, per-host: { fair: false } }
    teachers: { rate: 200 Mbit, per-host: { cap: 200 Mbit } }
)";
  auto r = compile_policy(text, "t.yaml");
  ASSERT_FALSE(r.ok());
  const Pos p = at(text, "30 Mbit");
  EXPECT_TRUE(has_diag(r, p.line, p.col,
                       "bandwidth.zones.classrooms.per-host.cap: the per-host cap 30 Mbit is "
                       "more than the classroom's rate 20 Mbit"))
      << dump(r);
  const Pos e = at(text, "{ fair: false }");
  EXPECT_TRUE(has_diag(r, e.line, e.col,
                       "bandwidth.zones.wifi.per-host: per-host needs 'fair: true', a 'cap', "
                       "or both"))
      << dump(r);
  const Pos w = at(text, "200 Mbit } }");
  EXPECT_TRUE(has_diag(r, w.line, w.col, "equals the classroom's rate: it never limits",
                       DiagSeverity::kWarning))
      << dump(r);
  EXPECT_EQ(r.error_count(), 2) << dump(r);
}

TEST(Bandwidth, PerHostKeysAreChecked) {
  const std::string text = kHead + R"(bandwidth:
  uplink: { up: 1 Gbit, down: 1 Gbit }
  zones:
    classrooms: { rate: 20 Mbit, per-host: { fair: yes, cap: 10 Mbps, share: 2 } }
)";
  auto r = compile_policy(text, "t.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(has_diag(r, at(text, "yes").line, at(text, "yes").col, "per-host.fair")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "10 Mbps").line, at(text, "10 Mbps").col, "per-host.cap"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "share").line, at(text, "share").col, "share")) << dump(r);
}

TEST(Bandwidth, EveryExampleHasAValidBandwidthSection) {
  for (const char* f : {"middle-school.yaml", "vocational-school.yaml", "primary-school.yaml"}) {
    auto r = compile_policy_file(source_dir() + "/policies/examples/" + f);
    ASSERT_TRUE(r.ok()) << f << "\n" << dump(r);
    EXPECT_TRUE(r.image->bandwidth.enabled) << f;
    EXPECT_EQ(r.image->bandwidth.uplink_bps[1], 10'000'000'000u) << f;
  }
}

TEST(Bandwidth, SchemaDeclaresTheSection) {
  const std::string s = policy_json_schema_text();
  EXPECT_NE(s.find("\"bandwidth\""), std::string::npos);
  EXPECT_NE(s.find("(kbit|Mbit|Gbit)"), std::string::npos);
}

}  // namespace
}  // namespace cg::policy
