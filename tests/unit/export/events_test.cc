#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "dataplane/export/community_id.h"
#include "dataplane/export/event_json.h"

namespace cg::exporter {
namespace {

std::array<uint8_t, 16> addr(const char* s) {
  std::array<uint8_t, 16> a{};
  if (inet_pton(AF_INET, s, a.data() + 12) == 1) {
    a[10] = a[11] = 0xff;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, s, a.data()), 1) << s;
  }
  return a;
}

struct Vector {
  uint8_t proto;
  const char* src;
  const char* dst;
  uint16_t sport, dport;  // ICMP: type, code
  const char* id;
};

// The published baseline of the Community ID spec (corelight/community-id-spec,
// baseline/baseline_deflt.json, seed 0): both directions of TCP, UDP, SCTP, ICMP, ICMPv6 (with
// and without port equivalents) and a protocol without ports (RSVP).
constexpr Vector kBaseline[] = {
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136,
     "1:zavyT/cezQr1fmImYCwYnMXbgck="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135,
     "1:zavyT/cezQr1fmImYCwYnMXbgck="},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="},
    {58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
     "1:hLZd0XGWojozrvxqE0dWB1iM6R0="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="},
    {58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
    {1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
    {46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
};

TEST(CommunityId, PublishedBaselineVectors) {
  for (const auto& v : kBaseline)
    EXPECT_EQ(community_id(addr(v.src), addr(v.dst), v.proto, v.sport, v.dport), v.id)
        << v.src << " -> " << v.dst << " proto " << int(v.proto);
}

TEST(CommunityId, SeedChangesTheHash) {
  EXPECT_NE(community_id(addr("1.2.3.4"), addr("5.6.7.8"), 6, 1, 2, 1),
            community_id(addr("1.2.3.4"), addr("5.6.7.8"), 6, 1, 2, 0));
}

TEST(EventJson, TimestampIsEveForm) {
  EXPECT_EQ(eve_timestamp(1278275057677893000ull), "2010-07-04T20:24:17.677893+0000");
  EXPECT_EQ(eve_timestamp(0), "1970-01-01T00:00:00.000000+0000");
}

TEST(EventJson, AlertFieldsAndZones) {
  Event ev;
  ev.ts_ns = 1'000'000'000ull;
  ev.seq = 17;
  ev.worker = 1;
  ev.kind = EventKind::kBlocklistDomain;
  ev.src = addr("10.1.0.5");
  ev.dst = addr("192.0.2.9");
  ev.src_port = 5353;
  ev.dst_port = 443;
  ev.proto = 6;
  ev.vlan = 101;
  ev.severity = static_cast<uint8_t>(api::Severity::kHigh);
  ev.blocked = true;
  ev.match_on = MatchOn::kTlsSni;
  ev.set_name("bad.example");
  ev.set_host("www.bad.example");
  ev.set_app("TLS");
  auto im = std::make_shared<api::PolicyImage>();
  im->school_id = "sch-7";
  api::Zone z1;
  z1.name = "staff";
  z1.v4 = {{0x0a010000, 16}};
  api::Zone z2;
  z2.name = "lab";
  z2.vlans = {{101, 101}};
  im->zones = {z1, z2};
  EventContext ctx;
  ctx.image = im;
  ctx.run_id = 0xabcdef01;
  auto j = to_json(ev, ctx);
  EXPECT_EQ(j["event_id"], "abcdef01-1-17");
  EXPECT_EQ(j["event_type"], "alert");
  EXPECT_EQ(j["src_ip"], "10.1.0.5");
  EXPECT_EQ(j["dest_port"], 443);
  EXPECT_EQ(j["proto"], "TCP");
  EXPECT_EQ(j["app_proto"], "TLS");
  EXPECT_EQ(j["zone"], "lab") << "inside endpoints match by VLAN first";
  EXPECT_EQ(j["school_id"], "sch-7");
  EXPECT_EQ(j["alert"]["severity"], 2);
  EXPECT_EQ(j["alert"]["signature_id"], 9100006);
  EXPECT_EQ(j["blocklist"]["matched_on"], "tls_sni");
  EXPECT_EQ(j["community_id"], community_id(ev.src, ev.dst, 6, 5353, 443));
  EXPECT_EQ(zone_name(*im, addr("10.1.2.3"), 0, true), "staff");
  EXPECT_EQ(zone_name(*im, addr("10.1.2.3"), 101, false), "staff") << "outside: prefix only";
  EXPECT_EQ(zone_name(*im, addr("10.2.0.1"), 0, true), "");
}

TEST(EventJson, LongNamesAreCutNotOverrun) {
  Event ev;
  ev.set_name(std::string(500, 'x').c_str());
  EXPECT_EQ(std::string(ev.name).size(), sizeof(ev.name) - 1);
  ev.set_host(nullptr);
  EXPECT_EQ(ev.host[0], '\0');
}

TEST(EventRing, FifoBoundedAndCountsDrops) {
  EventRing r(8);
  Event e;
  for (int i = 0; i < 10; ++i) {
    e.seq = static_cast<uint64_t>(i);
    EXPECT_EQ(r.push(e), i < 8);
  }
  EXPECT_EQ(r.dropped(), 2u);
  Event out[16];
  ASSERT_EQ(r.pop(out, 3), 3u);
  EXPECT_EQ(out[0].seq, 0u);
  EXPECT_EQ(out[2].seq, 2u);
  e.seq = 100;
  EXPECT_TRUE(r.push(e));
  ASSERT_EQ(r.pop(out, 16), 6u);
  EXPECT_EQ(out[5].seq, 100u);
  EXPECT_EQ(r.pop(out, 16), 0u);
}

}  // namespace
}  // namespace cg::exporter
