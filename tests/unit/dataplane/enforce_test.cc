// The enforcer inside the pipeline with policies compiled by the real compiler: zones by VLAN
// and by IPv6 prefix, inside vs outside initiators, and re-judging after a policy swap.
#include <gtest/gtest.h>

#include "dataplane/pipeline/pipeline.h"
#include "policies/compiler/policy.h"
#include "tests/unit/dataplane/frame_builder.h"

namespace cg::pipeline {
namespace {

using namespace cg::testing;

std::shared_ptr<const api::PolicyImage> compile(const std::string& rules) {
  std::string text = R"(apiVersion: campusguard/v1
school: { id: t-1, name: test, timezone: Asia/Shanghai }
zones:
  classrooms: { vlans: [101-160] }
  wifi: { subnets: ["fd00:50::/32"] }
)" + rules + "default: allow\n";
  auto r = policy::compile_policy(text, "test.yaml");
  EXPECT_TRUE(r.ok());
  if (!r.ok())
    for (const auto& d : r.diagnostics) ADD_FAILURE() << policy::format_diagnostic(d);
  return r.image;
}

struct Harness {
  Pipeline p{[] {
    PipelineConfig c;
    c.table.capacity = 1024;
    c.classify = false;  // L3/L4/zone rules only
    return c;
  }()};
  Verdict send(const Bytes& f, uint8_t port = 0) {
    PacketRef ref{f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()),
                  1'700'000'000'000'000'000ull, port};
    Verdict v;
    p.process(&ref, 1, &v);
    return v;
  }
};

TEST(Enforce, ZoneByVlanForInsideInitiatorsOnly) {
  Harness h;
  h.p.set_policy(compile(R"(rules:
  - { name: no-web-from-classrooms, from: classrooms, protocol: tcp, dst-ports: [80], action: deny }
)"));
  auto web = [](uint16_t vlan, uint16_t sport) {
    return frame(eth(0x0800, {vlan}), ipv4(ip4("10.1.1.1"), ip4("1.2.3.4"), 6, tcp(sport, 80, 2)));
  };
  EXPECT_EQ(h.send(web(120, 1000)), Verdict::kDrop);
  EXPECT_EQ(h.send(web(20, 1001)), Verdict::kForward) << "VLAN 20 is in no zone";
  EXPECT_EQ(h.send(web(120, 1002), 1), Verdict::kForward)
      << "a flow opened from the outside port: the VLAN zone is not the client's";
  EXPECT_EQ(h.p.counter(Counter::kDropPolicy), 1u);
  EXPECT_EQ(h.p.enforcer().rule_counters()[0].flows, 1u);
  EXPECT_EQ(h.p.enforcer().default_counters().flows, 2u);
}

TEST(Enforce, ZoneByIpv6Prefix) {
  Harness h;
  h.p.set_policy(compile(R"(rules:
  - { name: wifi-off, from: wifi, action: deny }
)"));
  auto pkt = [](const char* src) {
    return frame(eth(0x86dd), ipv6(src, "2001:db8::1", 17, {}, udp(5000, 443, 10)));
  };
  EXPECT_EQ(h.send(pkt("fd00:50::5")), Verdict::kDrop);
  EXPECT_EQ(h.send(pkt("fd00:51::5")), Verdict::kForward);
}

TEST(Enforce, PolicySwapRejudgesLiveFlows) {
  Harness h;
  auto f = frame(eth(0x0800), ipv4(ip4("10.9.9.9"), ip4("8.8.8.8"), 17, udp(4000, 53, 20)));
  h.p.set_policy(compile("rules: []\n"));
  EXPECT_EQ(h.send(f), Verdict::kForward);
  h.p.set_policy(compile(R"(rules:
  - { name: no-dns-out, dst: [8.8.8.8/32], protocol: udp, dst-ports: [53], action: deny }
)"));
  EXPECT_EQ(h.send(f), Verdict::kDrop) << "the same flow is judged again under the new image";
  h.p.set_policy(nullptr);
  EXPECT_EQ(h.send(f), Verdict::kForward) << "no policy: everything passes";
}

}  // namespace
}  // namespace cg::pipeline

namespace cg::pipeline {
namespace {

// A live flow is judged again when its rule's schedule switches, both ways (the timetable clock
// moved with the clock offset, as the live clock.offset command does).
TEST(Enforce, ScheduleFlipRejudgesALiveFlowBothWays) {
  Harness h;
  h.p.set_policy(compile(R"(schedules:
  class-hours: { days: [weekdays], times: ["08:00-12:00"] }
rules:
  - { name: no-ping-in-class, protocol: icmp, when: class-hours, action: deny }
)"));
  // Harness time is 2023-11-14 22:13:20 UTC = Wed 06:13:20 in Beijing: before class.
  auto ping = frame(eth(0x0800), ipv4(ip4("10.1.1.1"), ip4("10.2.2.2"), 1, icmp(8, 0)));
  constexpr int64_t kHour = 3600'000'000'000;
  EXPECT_EQ(h.send(ping), Verdict::kForward);
  h.p.set_policy_clock_offset_ns(3 * kHour);  // 09:13: in class
  EXPECT_EQ(h.send(ping), Verdict::kDrop);
  EXPECT_EQ(h.send(ping), Verdict::kDrop);
  h.p.set_policy_clock_offset_ns(7 * kHour);  // 13:13: after class
  EXPECT_EQ(h.send(ping), Verdict::kForward);
  EXPECT_EQ(h.send(ping), Verdict::kForward);
  h.p.set_policy_clock_offset_ns(4 * kHour);  // 10:13: in class again
  EXPECT_EQ(h.send(ping), Verdict::kDrop);
  EXPECT_EQ(h.p.enforcer().counter(enforce::Counter::kPacketsDenied), 3u);
}

}  // namespace
}  // namespace cg::pipeline
