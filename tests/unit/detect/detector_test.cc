// Detectors through the real pipeline (hand-built frames): thresholds fire exactly once per
// window, tables stay bounded with counted evictions, blocklists drop, policy events are rate
// limited with suppressed counts carried, a full event ring counts its losses; an event hands
// its flow's first packets to the evidence store before it enters the ring.
#include "dataplane/detect/detector.h"

#include <gtest/gtest.h>

#include <cstring>

#include "dataplane/export/event_json.h"
#include "dataplane/pipeline/pipeline.h"
#include "tests/unit/dataplane/frame_builder.h"

namespace cg::detect {
namespace {

using namespace cg::testing;
using exporter::Event;
using exporter::EventKind;
using pipeline::Counter;

constexpr uint64_t kSec = 1'000'000'000ull;

struct Harness {
  pipeline::Pipeline p;
  std::vector<Event> events;
  explicit Harness(pipeline::PipelineConfig c) : p(prepare(c)) {}
  static pipeline::PipelineConfig prepare(pipeline::PipelineConfig c) {
    c.table.capacity = 4096;
    return c;
  }
  pipeline::Verdict send(const Bytes& f, uint64_t ts, uint8_t port = 0) {
    pipeline::PacketRef r{f.data(), static_cast<uint32_t>(f.size()),
                          static_cast<uint32_t>(f.size()), ts, port};
    pipeline::Verdict v;
    p.process(&r, 1, &v);
    Event buf[64];
    while (uint32_t n = p.detector().events().pop(buf, 64))
      events.insert(events.end(), buf, buf + n);
    return v;
  }
  size_t count(EventKind k) const {
    size_t n = 0;
    for (const auto& e : events) n += e.kind == k;
    return n;
  }
  const Event* first(EventKind k) const {
    for (const auto& e : events)
      if (e.kind == k) return &e;
    return nullptr;
  }
};

pipeline::PipelineConfig no_ndpi() {
  pipeline::PipelineConfig c;
  c.classify = false;
  return c;
}

Bytes syn(const char* s, const char* d, uint16_t sp, uint16_t dp) {
  return frame(eth(0x0800), ipv4(ip4(s), ip4(d), 6, tcp(sp, dp, 0x02)));
}

TEST(Detector, VerticalScanFiresOnceAtThresholdPerWindow) {
  auto c = no_ndpi();
  c.detect.scan_ports = 10;
  Harness h(c);
  for (uint16_t port = 1; port <= 9; ++port) h.send(syn("10.0.0.9", "10.0.0.1", 40000, port), kSec);
  EXPECT_EQ(h.count(EventKind::kPortScan), 0u);
  h.send(syn("10.0.0.9", "10.0.0.1", 40000, 10), kSec);
  ASSERT_EQ(h.count(EventKind::kPortScan), 1u);
  const Event& e = *h.first(EventKind::kPortScan);
  EXPECT_EQ(e.count, 10u);
  EXPECT_EQ(e.threshold, 10u);
  EXPECT_EQ(e.dst_port, 10);
  auto j = exporter::to_json(e, {});
  EXPECT_EQ(j["src_ip"], "10.0.0.9");
  EXPECT_EQ(j["dest_ip"], "10.0.0.1");
  EXPECT_EQ(j["detector"], "port_scan");
  for (uint16_t port = 11; port <= 60; ++port)
    h.send(syn("10.0.0.9", "10.0.0.1", 40000, port), kSec);
  EXPECT_EQ(h.count(EventKind::kPortScan), 1u) << "one event per window";
  // Repeats of the same port do not count as distinct.
  for (int i = 0; i < 30; ++i) h.send(syn("10.0.0.8", "10.0.0.1", 40000, 22), kSec);
  EXPECT_EQ(h.count(EventKind::kPortScan), 1u);
  // The next window may fire again.
  for (uint16_t port = 1; port <= 10; ++port)
    h.send(syn("10.0.0.9", "10.0.0.1", 40001, port), 12 * kSec);
  EXPECT_EQ(h.count(EventKind::kPortScan), 2u);
  EXPECT_EQ(h.p.detector().counter(detect::Counter::kPortScans), 2u);
}

TEST(Detector, HorizontalSweepOnOnePortAndPingSweep) {
  auto c = no_ndpi();
  c.detect.sweep_hosts = 16;
  Harness h(c);
  char dst[32];
  for (int i = 1; i <= 16; ++i) {
    std::snprintf(dst, sizeof(dst), "10.0.1.%d", i);
    h.send(syn("10.0.0.9", dst, 40000, 445), kSec);
    h.send(frame(eth(0x0800), ipv4(ip4("10.0.0.7"), ip4(dst), 1, icmp(8, 0))), kSec);
  }
  ASSERT_EQ(h.count(EventKind::kHostSweep), 2u);
  const Event& tcp_sweep = h.events[0].kind == EventKind::kHostSweep ? h.events[0] : h.events[1];
  EXPECT_EQ(tcp_sweep.count, 16u);
  EXPECT_EQ(h.count(EventKind::kPortScan), 0u);
  bool saw_icmp = false;
  for (const auto& e : h.events)
    if (e.kind == EventKind::kHostSweep && e.proto == 1) {
      saw_icmp = true;
      EXPECT_EQ(e.src_port, 8) << "ICMP type as the Community ID's source port";
    }
  EXPECT_TRUE(saw_icmp);
}

TEST(Detector, SynAndUdpFloodsTowardOneHost) {
  auto c = no_ndpi();
  c.detect.syn_flood_packets = 100;
  c.detect.udp_flood_packets = 200;
  c.detect.scan_ports = 500;  // a flood to one port is not a scan anyway
  Harness h(c);
  for (int i = 0; i < 150; ++i)
    h.send(syn("203.0.113.5", "10.0.0.80", static_cast<uint16_t>(1024 + i), 80),
           kSec + static_cast<uint64_t>(i) * 1000, 1);
  for (int i = 0; i < 250; ++i)
    h.send(frame(eth(0x0800), ipv4(ip4("203.0.113.6"), ip4("10.0.0.53"), 17, udp(5000, 53, 20))),
           kSec + static_cast<uint64_t>(i) * 1000, 1);
  ASSERT_EQ(h.count(EventKind::kSynFlood), 1u);
  ASSERT_EQ(h.count(EventKind::kUdpFlood), 1u);
  const Event& s = *h.first(EventKind::kSynFlood);
  EXPECT_EQ(s.count, 100u);
  EXPECT_TRUE(s.src_outside);
  auto j = exporter::to_json(s, {});
  EXPECT_EQ(j["dest_ip"], "10.0.0.80");
  EXPECT_EQ(j["alert"]["severity_name"], "high");
  // SYN+ACK answers and packets of established flows are not SYNs.
  EXPECT_EQ(h.first(EventKind::kUdpFlood)->count, 200u);
}

TEST(Detector, TablesStayBoundedAndCountEvictions) {
  auto c = no_ndpi();
  c.detect.scan_table = 64;  // 16 sets of 4
  c.detect.flood_table = 64;
  Harness h(c);
  char src[32];
  for (int i = 0; i < 1000; ++i) {
    std::snprintf(src, sizeof(src), "10.%d.%d.1", i / 250, i % 250);
    h.send(syn(src, "10.9.9.9", 1000, static_cast<uint16_t>(i + 1)), kSec);
  }
  EXPECT_GT(h.p.detector().counter(detect::Counter::kScanEvictions), 0u);
  EXPECT_EQ(h.count(EventKind::kPortScan), 0u) << "no source probed 20 ports";
}

TEST(Detector, IpBlocklistBlocksTheFlowAndForgetsItAtFlowEnd) {
  auto c = no_ndpi();
  c.table.timeouts.tcp_embryonic = 2 * kSec;
  Harness h(c);
  auto bl = std::make_shared<Blocklist>();
  BlocklistStats st;
  bl->add_text("198.51.100.0/24\n", "feed", &st);
  bl->finalize();
  h.p.set_blocklist(bl);
  EXPECT_EQ(h.send(syn("10.0.0.5", "198.51.100.20", 5555, 443), kSec), pipeline::Verdict::kDrop);
  EXPECT_EQ(h.send(frame(eth(0x0800),
                         ipv4(ip4("198.51.100.20"), ip4("10.0.0.5"), 6, tcp(443, 5555, 0x12))),
                   kSec),
            pipeline::Verdict::kDrop);
  EXPECT_EQ(h.send(syn("10.0.0.5", "192.0.2.1", 5555, 443), kSec), pipeline::Verdict::kForward);
  ASSERT_EQ(h.count(EventKind::kBlocklistIp), 1u);
  const Event& e = *h.first(EventKind::kBlocklistIp);
  EXPECT_TRUE(e.blocked);
  EXPECT_STREQ(e.name, "198.51.100.20");
  EXPECT_EQ(h.p.counter(Counter::kDropBlocklist), 2u);
  auto j = exporter::to_json(e, {});
  EXPECT_EQ(j["alert"]["action"], "blocked");
  EXPECT_EQ(j["blocklist"]["matched_on"], "ip");
  // The flow expires; the blocked set forgets it, a new flow is judged (and blocked) again.
  h.p.tick(10 * kSec);
  h.p.tick(20 * kSec);
  EXPECT_EQ(h.send(syn("10.0.0.5", "198.51.100.20", 5556, 443), 21 * kSec),
            pipeline::Verdict::kDrop);
  EXPECT_EQ(h.count(EventKind::kBlocklistIp), 2u);
}

TEST(Detector, EventsHandTheFlowsFirstPacketsToTheEvidenceStoreFirst) {
  Harness h(no_ndpi());
  exporter::EvidenceConfig ec;
  ec.max_packets = 4;
  exporter::EvidenceStore store(ec);
  h.p.detector().set_evidence(&store);
  auto bl = std::make_shared<Blocklist>();
  BlocklistStats st;
  bl->add_text("198.51.100.0/24\n", "feed", &st);
  bl->finalize();
  h.p.set_blocklist(bl);
  h.send(syn("10.0.0.5", "192.0.2.1", 5555, 443), kSec);  // no event: nothing handed over
  exporter::EvidenceStore::View v;
  EXPECT_FALSE(store.peek(&v));
  const Bytes hit = syn("10.0.0.5", "198.51.100.20", 5556, 443);
  h.send(hit, 2 * kSec);  // the blocked SYN is the evidence
  ASSERT_EQ(h.count(EventKind::kBlocklistIp), 1u);
  const Event& e = *h.first(EventKind::kBlocklistIp);
  ASSERT_TRUE(store.peek(&v));
  EXPECT_EQ(v.seq, e.seq);
  EXPECT_EQ(v.flow_id, e.flow_id);
  ASSERT_EQ(v.packets, 1u);
  EXPECT_EQ(v.meta[0].caplen, hit.size());
  EXPECT_EQ(std::memcmp(v.data, hit.data(), hit.size()), 0);
  store.release();
  EXPECT_EQ(store.counter(exporter::EvidenceCounter::kSnapshots), 1u);
}

TEST(Detector, BlocklistEventsAreRateLimitedPerSourceButEveryFlowIsBlocked) {
  auto c = no_ndpi();
  c.detect.policy_events_per_source = 5;
  Harness h(c);
  auto bl = std::make_shared<Blocklist>();
  BlocklistStats st;
  bl->add_text("198.51.100.7\n", "feed", &st);
  bl->finalize();
  h.p.set_blocklist(bl);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(h.send(syn("10.0.0.5", "198.51.100.7", static_cast<uint16_t>(1000 + i), 443), kSec),
              pipeline::Verdict::kDrop);
  EXPECT_EQ(h.count(EventKind::kBlocklistIp), 5u);
  EXPECT_EQ(h.p.detector().counter(detect::Counter::kBlocklistEventsSuppressed), 45u);
  EXPECT_EQ(h.p.detector().counter(detect::Counter::kBlocklistIpHits), 50u);
  h.send(syn("10.0.0.5", "198.51.100.7", 9999, 443), 100 * kSec);
  EXPECT_EQ(h.events.back().suppressed, 45u);
}

TEST(Detector, AlertOnlyBlocklistForwards) {
  auto c = no_ndpi();
  c.detect.blocklist_block = false;
  Harness h(c);
  auto bl = std::make_shared<Blocklist>();
  BlocklistStats st;
  bl->add_text("192.0.2.99\n", "feed", &st);
  bl->finalize();
  h.p.set_blocklist(bl);
  EXPECT_EQ(h.send(syn("10.0.0.5", "192.0.2.99", 1, 80), kSec), pipeline::Verdict::kForward);
  ASSERT_EQ(h.count(EventKind::kBlocklistIp), 1u);
  EXPECT_FALSE(h.first(EventKind::kBlocklistIp)->blocked);
}

// A DNS query for `name` (one question, type A).
Bytes dns_query(const std::string& name) {
  Bytes b;
  b.u16(0x1234).u16(0x0100).u16(1).u16(0).u16(0).u16(0);
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b.u8(static_cast<uint8_t>(dot - start));
    for (size_t i = start; i < dot; ++i) b.u8(static_cast<uint8_t>(name[i]));
    start = dot + 1;
  }
  b.u8(0).u16(1).u16(1);
  Bytes u;
  u.u16(53001).u16(53).u16(static_cast<uint16_t>(8 + b.size())).u16(0).add(b);
  return u;
}

TEST(Detector, DomainBlocklistMatchesTheDnsQueryWithNdpi) {
  pipeline::PipelineConfig c;  // nDPI on
  c.classifier.max_inspecting = 64;
  c.classifier.max_hostnames = 64;
  Harness h(c);
  auto bl = std::make_shared<Blocklist>();
  BlocklistStats st;
  bl->add_text("0.0.0.0 blocked.example.com\n", "hosts", &st);
  bl->finalize();
  h.p.set_blocklist(bl);
  auto q = frame(eth(0x0800),
                 ipv4(ip4("10.0.0.5"), ip4("10.0.0.53"), 17, dns_query("www.blocked.example.com")));
  EXPECT_EQ(h.send(q, kSec), pipeline::Verdict::kDrop);
  auto okf = frame(eth(0x0800),
                   ipv4(ip4("10.0.0.6"), ip4("10.0.0.53"), 17, dns_query("www.fine.example.com")));
  EXPECT_EQ(h.send(okf, kSec), pipeline::Verdict::kForward);
  ASSERT_EQ(h.count(EventKind::kBlocklistDomain), 1u);
  const Event& e = *h.first(EventKind::kBlocklistDomain);
  EXPECT_STREQ(e.name, "blocked.example.com");
  EXPECT_STREQ(e.host, "www.blocked.example.com");
  EXPECT_EQ(e.match_on, exporter::MatchOn::kDnsQuery);
  auto j = exporter::to_json(e, {});
  EXPECT_EQ(j["app_proto"], "DNS");
  EXPECT_EQ(j["blocklist"]["matched_on"], "dns_query");
}

std::shared_ptr<api::PolicyImage> deny_web() {
  auto im = std::make_shared<api::PolicyImage>();
  im->school_id = "school-42";
  api::Rule r;
  r.name = "no-web";
  r.dst_ports = {{80, 80}};
  r.action = api::Action::kDeny;
  im->rules.push_back(r);
  api::Rule a;
  a.name = "watch-ssh";
  a.dst_ports = {{22, 22}};
  a.action = api::Action::kAllow;
  a.alert = api::Severity::kHigh;
  im->rules.push_back(a);
  api::Zone z;
  z.name = "classrooms";
  z.vlans = {{100, 199}};
  im->zones.push_back(z);
  return im;
}

TEST(Detector, PolicyEventsAreRateLimitedPerSourceWithSuppressedCounts) {
  auto c = no_ndpi();
  c.detect.policy_events_per_source = 3;
  c.detect.policy_window_ns = 60 * kSec;
  c.detect.scan_ports = 500;
  Harness h(c);
  auto im = deny_web();
  h.p.set_policy(im);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(h.send(frame(eth(0x0800, {120}), ipv4(ip4("10.0.0.5"), ip4("192.0.2.1"), 6,
                                                    tcp(static_cast<uint16_t>(2000 + i), 80, 2))),
                     kSec),
              pipeline::Verdict::kDrop);
  // Another packet of a denied flow is no new decision.
  h.send(frame(eth(0x0800, {120}), ipv4(ip4("10.0.0.5"), ip4("192.0.2.1"), 6, tcp(2000, 80, 2))),
         kSec);
  EXPECT_EQ(h.count(EventKind::kPolicy), 3u);
  EXPECT_EQ(h.p.detector().counter(detect::Counter::kPolicyEventsSuppressed), 7u);
  // Another source has its own budget; an alerting allow rule raises events too.
  h.send(syn("10.0.0.6", "192.0.2.1", 3000, 80), kSec);
  h.send(syn("10.0.0.6", "192.0.2.1", 3001, 22), kSec);
  EXPECT_EQ(h.count(EventKind::kPolicy), 5u);
  // Next window: the first event carries the 7 suppressed repeats.
  h.send(frame(eth(0x0800, {120}), ipv4(ip4("10.0.0.5"), ip4("192.0.2.1"), 6, tcp(4000, 80, 2))),
         70 * kSec);
  ASSERT_EQ(h.count(EventKind::kPolicy), 6u);
  const Event& last = h.events.back();
  EXPECT_EQ(last.suppressed, 7u);
  exporter::EventContext ctx;
  ctx.image = im;
  auto j = exporter::to_json(last, ctx);
  EXPECT_EQ(j["rule"], "no-web");
  EXPECT_EQ(j["suppressed"], 7);
  EXPECT_EQ(j["alert"]["action"], "blocked");
  EXPECT_EQ(j["alert"]["signature"], "CG POLICY no-web");
  EXPECT_EQ(j["school_id"], "school-42");
  EXPECT_EQ(j["zone"], "classrooms");
  EXPECT_EQ(j["vlan"], nlohmann::json::array({120}));
  const Event* ssh = nullptr;
  for (const auto& e : h.events)
    if (e.kind == EventKind::kPolicy && e.dst_port == 22) ssh = &e;
  ASSERT_NE(ssh, nullptr);
  EXPECT_FALSE(ssh->blocked);
  EXPECT_EQ(ssh->severity, static_cast<uint8_t>(api::Severity::kHigh));
}

TEST(Detector, FullRingCountsLostEvents) {
  auto c = no_ndpi();
  c.detect.event_ring = 16;
  c.detect.blocklist_block = false;
  c.detect.policy_events_per_source = 1000;  // no rate limit here: the ring overflows
  pipeline::Pipeline p(Harness::prepare(c));
  auto bl = std::make_shared<Blocklist>();
  BlocklistStats st;
  bl->add_text("192.0.2.0/24\n", "feed", &st);
  bl->finalize();
  p.set_blocklist(bl);
  for (int i = 0; i < 40; ++i) {
    auto f = syn("10.0.0.5", "192.0.2.1", static_cast<uint16_t>(1000 + i), 443);
    pipeline::PacketRef r{f.data(), static_cast<uint32_t>(f.size()),
                          static_cast<uint32_t>(f.size()), kSec, 0};
    pipeline::Verdict v;
    p.process(&r, 1, &v);
  }
  EXPECT_EQ(p.detector().events().pushed(), 16u);
  EXPECT_EQ(p.detector().events().dropped(), 24u);
  EXPECT_EQ(p.detector().counter(detect::Counter::kEventsLost), 24u);
  auto j = exporter::to_json(exporter::overflow_event(kSec, "worker_ring", 24, 0), {});
  EXPECT_EQ(j["event_type"], "overflow");
  EXPECT_EQ(j["overflow"]["lost"], 24);
}

TEST(Detector, DisabledDetectsNothing) {
  auto c = no_ndpi();
  c.detect.enabled = false;
  c.detect.scan_ports = 2;
  Harness h(c);
  for (uint16_t port = 1; port <= 10; ++port) h.send(syn("10.0.0.9", "10.0.0.1", 1, port), kSec);
  EXPECT_TRUE(h.events.empty());
}

TEST(Detector, RiskNamesAndSeverities) {
  std::vector<std::string> unknown;
  const uint64_t m = risk_mask_of({"Self-signed Certificate", "No Such Risk"}, &unknown);
  EXPECT_EQ(__builtin_popcountll(m), 1);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0], "No Such Risk");
  EXPECT_EQ(severity_of_ndpi(4), api::Severity::kCritical);
  EXPECT_EQ(severity_of_ndpi(1), api::Severity::kLow);
}

}  // namespace
}  // namespace cg::detect
