// The QoS stage: flow -> classroom / class assignment from a compiled policy, re-assignment when
// the app becomes known, the schedule changes or a new image arrives; policing per flow.
#include "dataplane/qos/shaper.h"

#include <gtest/gtest.h>

#include "dataplane/qos/report.h"
#include "policies/compiler/policy.h"

namespace cg::qos {
namespace {

constexpr uint64_t kSec = 1'000'000'000;
// 2026-12-01 (a Tuesday) 02:00 UTC = 10:00 in Asia/Shanghai: inside class hours.
constexpr uint64_t kInClass = 1'796'090'400ull * kSec;
// The same day 10:00 UTC = 18:00 local: outside.
constexpr uint64_t kAfterClass = kInClass + 8 * 3600 * kSec;

const char* kPolicy = R"(apiVersion: campusguard/v1
school: { id: wh-001, name: 乌海市第一中学, timezone: Asia/Shanghai }
zones:
  classrooms: { vlans: [101-102] }
  teachers: { subnets: [10.20.0.0/16] }
schedules:
  class-hours: { days: [weekdays], times: ["08:00-11:50"] }
apps:
  teaching: { hosts: ["*.smartedu.cn"] }
  video: { protocols: [YouTube] }
bandwidth:
  uplink: { up: 100 Mbit, down: 100 Mbit }
  zones:
    classrooms: { rate: 20 Mbit }
    teachers: { rate: 50 Mbit, per: zone }
  classes:
    - { name: teaching, app: teaching, priority: true, guaranteed: 5 Mbit }
    - { name: video, app: video, when: class-hours, cap: 5 Mbit }
)";

std::shared_ptr<const api::PolicyImage> compile(const std::string& text) {
  auto r = policy::compile_policy(text, "t.yaml");
  EXPECT_TRUE(r.ok());
  for (const auto& d : r.diagnostics) ADD_FAILURE() << policy::format_diagnostic(d);
  return r.image;
}

std::array<uint8_t, 16> v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

// A flow opened from `client` (inside, on `vlan`) to 93.184.216.34:443.
flow::FlowEntry make_flow(std::array<uint8_t, 16> client, uint16_t vlan, bool outside = false) {
  flow::FlowEntry e{};
  e.key.lo_addr = client;  // 10.x < 93.x
  e.key.hi_addr = v4(93, 184, 216, 34);
  e.key.lo_port = 40000;
  e.key.hi_port = 443;
  e.key.proto_vlan = 6u << 24 | vlan;
  e.flags = flow::FlowEntry::kInUse | flow::FlowEntry::kInitiatorIsLo |
            (outside ? flow::FlowEntry::kInitiatorOutside : 0);
  return e;
}

struct Fixture : ::testing::Test {
  void SetUp() override {
    ASSERT_TRUE(shaper.attach(reg));
    shaper.set_image(compile(kPolicy));
    ASSERT_TRUE(shaper.enabled());
  }
  flow::ExtRegistry reg;
  Shaper shaper;
};

AppFacts app_of(uint16_t app, std::string_view host = {}) {
  AppFacts f;
  f.app = f.master = app;
  f.host = host;
  return f;
}

TEST_F(Fixture, ClassroomIsTheVlanOfTheInsideEndpoint) {
  const auto& q = shaper.image()->bandwidth;
  ASSERT_EQ(q.classrooms.size(), 4u);  // vlan101, vlan102, teachers, unzoned
  EXPECT_EQ(shaper.classroom_name(0), "classrooms/vlan101");
  EXPECT_EQ(shaper.classroom_name(2), "teachers");
  EXPECT_EQ(shaper.classroom_name(3), "unzoned");
  EXPECT_EQ(shaper.classroom_of(v4(10, 1, 0, 5), 102), 1u);
  EXPECT_EQ(shaper.classroom_of(v4(10, 20, 3, 4), 0), 2u);    // by subnet
  EXPECT_EQ(shaper.classroom_of(v4(10, 99, 0, 1), 0), 3u);    // no zone
  EXPECT_EQ(shaper.classroom_of(v4(10, 99, 0, 1), 999), 3u);  // VLAN of no zone
  // The inside endpoint is the server when the flow was opened from outside.
  flow::FlowEntry in = make_flow(v4(10, 1, 0, 5), 101);
  EXPECT_EQ(shaper.assign(in, app_of(0), kInClass).room(), 0u);
  EXPECT_EQ(Shaper::direction(in, true), Dir::kUp);
  EXPECT_EQ(Shaper::direction(in, false), Dir::kDown);
  flow::FlowEntry out = make_flow(v4(10, 20, 0, 1), 0, true);
  EXPECT_EQ(Shaper::direction(out, true), Dir::kDown);
  EXPECT_EQ(shaper.assign(out, app_of(0), kInClass).room(), 3u)
      << "the inside endpoint 93.184.216.34 is in no zone";
}

TEST_F(Fixture, ClassFollowsAppAndSchedule) {
  const uint16_t youtube = 124;  // NDPI_PROTOCOL_YOUTUBE in nDPI 4.2
  flow::FlowEntry e = make_flow(v4(10, 1, 0, 5), 101);
  AppFacts unknown;
  unknown.known = false;
  const FlowQos& s0 = shaper.assign(e, unknown, kInClass);
  EXPECT_EQ(s0.cls(), 2u) << "provisionally default while an app class could match";
  EXPECT_TRUE(s0.flags() & FlowQos::kPending);
  EXPECT_EQ(shaper.counter(Counter::kFlowsAssigned), 0u);
  EXPECT_EQ(shaper.assign(e, app_of(youtube), kInClass).cls(), 1u);
  EXPECT_EQ(shaper.class_name(1), "video");
  EXPECT_EQ(shaper.counter(Counter::kFlowsAssigned), 1u);
  // After class hours the video class is off: the flow moves to default.
  EXPECT_EQ(shaper.assign(e, app_of(youtube), kAfterClass).cls(), 2u);
  EXPECT_EQ(shaper.counter(Counter::kFlowsReassigned), 1u);
  // An injected clock offset (live timetable tests) puts the same packet time back in class.
  shaper.set_clock_offset_ns(-8 * 3600 * static_cast<int64_t>(kSec));
  EXPECT_EQ(shaper.assign(e, app_of(youtube), kAfterClass).cls(), 1u);
  shaper.set_clock_offset_ns(0);
  // Hostname classes.
  flow::FlowEntry t = make_flow(v4(10, 1, 0, 6), 102);
  EXPECT_EQ(shaper.assign(t, app_of(7, "basic.smartedu.cn"), kInClass).cls(), 0u);
}

TEST_F(Fixture, PolicesPerFlowClassAndHotSwapsRates) {
  const uint16_t youtube = 124;
  flow::FlowEntry e = make_flow(v4(10, 1, 0, 5), 101);
  shaper.assign(e, app_of(youtube), kInClass);
  // 5 Mbit/s cap: 1000-byte packets every 0.8 ms = 10 Mbit/s for 2 s -> about half pass, plus
  // the full bucket a new image starts with (automatic depth: 250 ms of the cap).
  uint64_t passed = 0, now = kInClass;
  for (int i = 0; i < 2500; ++i, now += 800'000)
    passed += shaper.police(e, false, 1000, now) ? 1000 : 0;
  const double first = 5e6 / 8 * 2 + depth_bytes(5'000'000, api::kQosAutoBurst);
  EXPECT_NEAR(static_cast<double>(passed), first, first * 0.03);
  EXPECT_EQ(shaper.policer()->drops(DropReason::kClassCap), 2500 - passed / 1000);
  EXPECT_EQ(shaper.counter(Counter::kBytesPassed), passed);
  // A new image with a 10 Mbit/s cap: the flow is re-assigned and polices at the new rate.
  std::string doubled = kPolicy;
  doubled.replace(doubled.find("cap: 5 Mbit"), 11, "cap: 10 Mbit");
  shaper.set_image(compile(doubled));
  EXPECT_TRUE(shaper.stale(e));
  shaper.assign(e, app_of(youtube), now);
  passed = 0;
  for (int i = 0; i < 2500; ++i, now += 400'000)  // 20 Mbit/s offered
    passed += shaper.police(e, false, 1000, now) ? 1000 : 0;
  const double second = 10e6 / 8 + depth_bytes(10'000'000, api::kQosAutoBurst);
  EXPECT_NEAR(static_cast<double>(passed), second, second * 0.03);
}

TEST_F(Fixture, AdmitWithoutClassifierUsesL3Facts) {
  flow::FlowEntry e = make_flow(v4(10, 20, 1, 1), 0);
  EXPECT_TRUE(shaper.admit(e, nullptr, true, 100, kInClass));
  EXPECT_EQ(shaper.slot(e).room(), 2u);
  EXPECT_EQ(shaper.slot(e).cls(), 2u);
  EXPECT_FALSE(shaper.stale(e));
  const NodeStats st = shaper.policer()->class_stats(Dir::kUp, 2, 2, kInClass);
  EXPECT_EQ(st.packets, 1u);
  EXPECT_EQ(st.bytes, 100u);
}

TEST(Shaper, WithoutBandwidthEverythingPasses) {
  flow::ExtRegistry reg;
  Shaper s;
  ASSERT_TRUE(s.attach(reg));
  flow::FlowEntry e = make_flow(v4(10, 1, 0, 5), 101);
  EXPECT_TRUE(s.admit(e, nullptr, true, 1500, kInClass));  // no image at all
  std::string text = kPolicy;
  text.erase(text.find("bandwidth:"));
  text +=
      "rules:\n  - { name: r, from: [classrooms, teachers], app: [teaching, video], "
      "when: class-hours, action: allow }\n";
  s.set_image(compile(text));
  EXPECT_FALSE(s.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(s.admit(e, nullptr, true, 1500, kInClass));
  EXPECT_EQ(s.counter(Counter::kPacketsPassed), 0u) << "off: not even counted";
  // A plan installed by pointer (the live path), then removed.
  auto plan = prepare(compile(kPolicy));
  s.install(plan.get());
  EXPECT_TRUE(s.enabled());
  EXPECT_TRUE(s.admit(e, nullptr, true, 1500, kInClass));
  EXPECT_EQ(s.counter(Counter::kPacketsPassed), 1u);
  s.install(nullptr);
  EXPECT_FALSE(s.enabled());
}

}  // namespace
}  // namespace cg::qos

namespace cg::qos {
namespace {

// Per host through the Shaper with a compiled policy: every host (inside address, also when the
// flow was opened from outside) has its own 5 Mbit/s cap; the qos report lists the hosts.
TEST(ShaperPerHost, CapIsPerInsideAddressAndReported) {
  const std::string policy = R"(apiVersion: campusguard/v1
school: { id: wh-001, name: 乌海市第一中学, timezone: Asia/Shanghai }
zones:
  lab: { subnets: [10.30.0.0/16] }
bandwidth:
  uplink: { up: 100 Mbit, down: 100 Mbit }
  zones:
    lab: { rate: 20 Mbit, per: zone, per-host: { cap: 5 Mbit } }
)";
  flow::ExtRegistry reg;
  Shaper shaper;
  ASSERT_TRUE(shaper.attach(reg));
  shaper.set_image(compile(policy));
  ASSERT_TRUE(shaper.policer()->hosts_enabled());
  // Two flows of host .5 (one opened from outside: its inside end is the server), one of .6.
  flow::FlowEntry a1 = make_flow(v4(10, 30, 0, 5), 0), b = make_flow(v4(10, 30, 0, 6), 0);
  flow::FlowEntry a2 = make_flow(v4(10, 30, 0, 5), 0);  // opened by 93.184.216.34 (hi) to .5
  a2.flags = flow::FlowEntry::kInUse | flow::FlowEntry::kInitiatorOutside;
  EXPECT_EQ(&Shaper::inside_address(a2), &a2.key.lo_addr);
  EXPECT_EQ(&Shaper::inside_address(a1), &a1.key.lo_addr);
  uint64_t passed_a = 0, passed_b = 0;
  for (uint64_t t = kSec; t < 3 * kSec; t += 100'000) {  // 3 x 120 Mbit/s offered for 2 s
    for (flow::FlowEntry* e : {&a1, &a2}) {
      shaper.assign(*e, app_of(0), t);
      if (shaper.police(*e, false, 1500, t)) passed_a += 1500;
    }
    shaper.assign(b, app_of(0), t);
    if (shaper.police(b, false, 1500, t)) passed_b += 1500;
  }
  // 2 s of 5 Mbit/s in each direction the flows used + one full bucket (250 ms of 5 Mbit/s).
  const double cap_bytes = 2 * 5e6 / 8 + 156'250;
  EXPECT_NEAR(static_cast<double>(passed_a), cap_bytes * 2, cap_bytes * 0.02)
      << "host .5: 5 Mbit/s down (a1) + 5 Mbit/s up (a2, opened from outside)";
  EXPECT_NEAR(static_cast<double>(passed_b), cap_bytes, cap_bytes * 0.02);
  const nlohmann::json j = report_json(shaper, 3 * kSec);
  EXPECT_GT(j["counters"]["qos_drop_host_rate"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["counters"]["qos_host_claims"], 2u);
  EXPECT_EQ(j["hosts"]["active"], 2u);
  ASSERT_EQ(j["hosts"]["classrooms"].size(), 1u);
  EXPECT_EQ(j["hosts"]["classrooms"][0]["name"], "lab");
  EXPECT_EQ(j["hosts"]["classrooms"][0]["active_hosts"], 2u);
  EXPECT_EQ(j["hosts"]["list"][0]["address"], "10.30.0.5");  // the busiest first
  EXPECT_EQ(j["hosts"]["list"][0]["cap_bps_down"], 5'000'000u);
  EXPECT_EQ(j["hosts"]["list"][0]["share_bps_down"], 0u);  // no fair share (and no Balancer)
  EXPECT_GT(j["hosts"]["list"][1]["dropped_packets_down"].get<uint64_t>(), 0u);
}

}  // namespace
}  // namespace cg::qos
