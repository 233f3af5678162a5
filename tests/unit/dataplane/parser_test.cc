#include "dataplane/packet/parser.h"

#include <gtest/gtest.h>

#include "tests/unit/dataplane/frame_builder.h"

namespace cg::packet {
namespace {

using namespace cg::testing;

struct Result {
  bool ok;
  Parsed p{};
  Counters c;
};

Result run(const Bytes& f, LinkType link = LinkType::kEthernet, bool truncated = false) {
  Result r{};
  r.ok = parse(f.data(), static_cast<uint32_t>(f.size()), &r.p, &r.c, link, truncated);
  return r;
}

// Every malformed result names exactly one error counter and nothing past the frame is read:
// the sanitizer build runs these with exact-size heap copies.
Result run_exact(const Bytes& f) {
  std::vector<uint8_t> copy(f.begin(), f.end());
  auto* heap = new uint8_t[copy.size() ? copy.size() : 1];
  std::copy(copy.begin(), copy.end(), heap);
  Result r{};
  r.ok = parse(heap, static_cast<uint32_t>(copy.size()), &r.p, &r.c);
  delete[] heap;
  return r;
}

TEST(Parser, Ipv4Tcp) {
  auto r = run(frame(eth(0x0800), ipv4(ip4("10.0.0.1"), ip4("10.0.0.2"), 6, tcp(1234, 80, 0x02))));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.p.l3, L3Type::kIpv4);
  EXPECT_EQ(r.p.l4_proto, 6);
  EXPECT_EQ(r.p.src_port, 1234);
  EXPECT_EQ(r.p.dst_port, 80);
  EXPECT_EQ(r.p.tcp_flags, 0x02);
  EXPECT_EQ(r.p.src[15], 1);
  EXPECT_EQ(r.p.src[10], 0xff);
  EXPECT_EQ(r.p.l3_offset, 14);
  EXPECT_EQ(r.p.l4_offset, 34);
  EXPECT_EQ(r.p.payload_offset, 54);
  EXPECT_EQ(r.c.get(Counter::kIpv4), 1u);
  EXPECT_EQ(r.c.get(Counter::kTcp), 1u);
}

TEST(Parser, Ipv4OptionsAndPadding) {
  auto f = frame(eth(0x0800), ipv4(ip4("1.1.1.1"), ip4("2.2.2.2"), 17, udp(53, 5353, 4), 8));
  f.fill(10);  // Ethernet padding after the datagram is fine
  auto r = run(f);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.p.l4_offset, 14 + 28);
  EXPECT_EQ(r.p.l3_length, 28 + 12);
  EXPECT_EQ(r.c.get(Counter::kIpv4Options), 1u);
  EXPECT_EQ(r.p.dst_port, 5353);
}

TEST(Parser, VlanAndQinq) {
  auto r = run(frame(eth(0x0800, {101}), ipv4(1, 2, 1, icmp(8, 0))));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.p.vlan_outer, 101);
  EXPECT_EQ(r.p.vlan_count, 1);
  EXPECT_EQ(r.p.icmp_type, 8);
  auto q = run(frame(eth(0x0800, {200, 42}), ipv4(1, 2, 17, udp(1, 2))));
  ASSERT_TRUE(q.ok);
  EXPECT_EQ(q.p.vlan_outer, 200);
  EXPECT_EQ(q.p.vlan_inner, 42);
  EXPECT_EQ(q.c.get(Counter::kQinq), 1u);
  // 802.1ad outer TPID
  Bytes ad;
  ad.fill(12, 2).u16(0x88a8).u16(300).u16(0x8100).u16(7).u16(0x0800);
  auto a = run(frame(ad, ipv4(1, 2, 17, udp(1, 2))));
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.p.vlan_outer, 300);
  EXPECT_EQ(a.p.vlan_inner, 7);
}

TEST(Parser, NonIpIsNotMalformed) {
  Bytes arp = eth(0x0806);
  arp.fill(28);
  auto r = run(arp);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.p.is_ip());
  EXPECT_EQ(r.c.get(Counter::kArp), 1u);
  Bytes lldp = eth(0x88cc);
  lldp.fill(40);
  EXPECT_TRUE(run(lldp).ok);
  Bytes stp;  // 802.3 length field (< 0x600) + LLC
  stp.fill(12, 1).u16(38).fill(38);
  auto s = run(stp);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.c.get(Counter::kNonIp), 1u);
}

TEST(Parser, Ipv6WithExtensionHeaders) {
  Bytes ext;
  ext.u8(60).u8(0).fill(6);   // hop-by-hop → destination options
  ext.u8(17).u8(1).fill(14);  // destination options (16 bytes) → UDP
  auto r = run(frame(eth(0x86dd), ipv6("fd00::1", "fd00::2", 0, ext, udp(546, 547, 10))));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.p.l3, L3Type::kIpv6);
  EXPECT_EQ(r.p.l4_proto, 17);
  EXPECT_EQ(r.p.src_port, 546);
  EXPECT_EQ(r.p.l4_offset, 14 + 40 + 24);
  EXPECT_EQ(r.c.get(Counter::kIpv6ExtHeaders), 1u);
}

TEST(Parser, Ipv6Icmpv6) {
  auto r = run(frame(eth(0x86dd), ipv6("fe80::1", "ff02::1", 58, {}, icmp(135, 0, 20))));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.p.l4_proto, 58);
  EXPECT_EQ(r.p.icmp_type, 135);
  EXPECT_EQ(r.c.get(Counter::kIcmpv6), 1u);
}

TEST(Parser, Ipv4Fragments) {
  auto first = run(frame(eth(0x0800), ipv4(1, 2, 17, udp(1000, 53, 100, 500), 0, 0x2000)));
  ASSERT_TRUE(first.ok) << counter_name(first.p.error);
  EXPECT_TRUE(first.p.fragment);
  EXPECT_FALSE(first.p.later_fragment);
  EXPECT_TRUE(first.p.has_l4);
  EXPECT_EQ(first.p.dst_port, 53);
  Bytes data;
  data.fill(64, 7);
  auto later = run(frame(eth(0x0800), ipv4(1, 2, 17, data, 0, 13)));
  ASSERT_TRUE(later.ok);
  EXPECT_TRUE(later.p.later_fragment);
  EXPECT_FALSE(later.p.has_l4);
  EXPECT_EQ(later.p.frag_id, 0x1234u);
  EXPECT_EQ(later.c.get(Counter::kFragmentsNonFirst), 1u);
  // offset 8184*8 + payload > 65535: cannot be reassembled
  auto bad = run(frame(eth(0x0800), ipv4(1, 2, 17, data, 0, 0x1fff)));
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.p.error, Counter::kErrFragmentBad);
}

TEST(Parser, Ipv6Fragment) {
  Bytes ext;
  ext.u8(17).u8(0).u16(0x0001).u32(0xabcdef01);  // first fragment, more follow
  auto first = run(frame(eth(0x86dd), ipv6("fd00::1", "fd00::2", 44, ext, udp(5, 6, 20, 200))));
  ASSERT_TRUE(first.ok) << counter_name(first.p.error);
  EXPECT_TRUE(first.p.fragment);
  EXPECT_EQ(first.p.frag_id, 0xabcdef01u);
  Bytes ext2;
  ext2.u8(17).u8(0).u16(0x00a0).u32(0xabcdef01);  // offset 20
  Bytes data;
  data.fill(40);
  auto later = run(frame(eth(0x86dd), ipv6("fd00::1", "fd00::2", 44, ext2, data)));
  ASSERT_TRUE(later.ok);
  EXPECT_TRUE(later.p.later_fragment);
  EXPECT_EQ(later.p.l4_proto, 17);
}

TEST(Parser, OtherLinkTypes) {
  auto raw = run(ipv4(1, 2, 6, tcp(1, 2, 0x10)), LinkType::kRawIp);
  EXPECT_TRUE(raw.ok);
  EXPECT_EQ(raw.p.l3_offset, 0);
  Bytes sll;
  sll.fill(14).u16(0x86dd);
  auto s = run(frame(sll, ipv6("::1", "::2", 6, {}, tcp(1, 2, 0x10))), LinkType::kLinuxSll);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.p.l3, L3Type::kIpv6);
  Bytes null_le;
  null_le.u8(2).u8(0).u8(0).u8(0);
  EXPECT_TRUE(run(frame(null_le, ipv4(1, 2, 17, udp(1, 2))), LinkType::kNull).p.is_v4());
  Bytes null_be;
  null_be.u32(30);
  EXPECT_EQ(run(frame(null_be, ipv6("::1", "::2", 17, {}, udp(1, 2))), LinkType::kNull).p.l3,
            L3Type::kIpv6);
  Bytes ppp;
  ppp.u8(0xff).u8(0x03).u16(0x0021);
  EXPECT_TRUE(run(frame(ppp, ipv4(1, 2, 17, udp(1, 2))), LinkType::kPpp).p.is_v4());
  Bytes chdlc;
  chdlc.u8(0x0f).u8(0).u16(0x0800);
  EXPECT_TRUE(run(frame(chdlc, ipv4(1, 2, 17, udp(1, 2))), LinkType::kPpp).p.is_v4());
  EXPECT_TRUE(run(frame(chdlc, ipv4(1, 2, 17, udp(1, 2))), LinkType::kCiscoHdlc).p.is_v4());
}

TEST(Parser, Mpls) {
  Bytes l2 = eth(0x8847);
  l2.u32(0x00012000).u32(0x000131ff);  // two labels, bottom of stack on the second
  auto r = run(frame(l2, ipv4(1, 2, 6, tcp(179, 40000, 0x18))));
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.p.is_v4());
  EXPECT_EQ(r.p.src_port, 179);
  EXPECT_EQ(r.c.get(Counter::kMpls), 1u);
}

TEST(Parser, TruncatedCaptureIsNotMalformed) {
  auto f = frame(eth(0x0800), ipv4(1, 2, 17, udp(1, 2, 1000)));
  f.resize(14 + 20 + 8 + 10);  // snaplen cut
  EXPECT_FALSE(run(f).ok);
  auto r = run(f, LinkType::kEthernet, true);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.p.dst_port, 2);
}

struct MalformedCase {
  const char* name;
  Bytes frame;
  Counter expect;
};

std::vector<MalformedCase> malformed_cases() {
  std::vector<MalformedCase> v;
  Bytes shorteth;
  shorteth.fill(13);
  v.push_back({"eth_truncated", shorteth, Counter::kErrEthTruncated});
  Bytes vlan_cut;
  vlan_cut.fill(12).u16(0x8100).u8(0);
  v.push_back({"vlan_truncated", vlan_cut, Counter::kErrVlanTruncated});
  Bytes deep;
  deep.fill(12).u16(0x8100).u16(1).u16(0x8100).u16(2).u16(0x8100).u16(3).u16(0x0800);
  deep.fill(20);
  v.push_back({"vlan_too_deep", deep, Counter::kErrVlanTooDeep});
  Bytes mpls = eth(0x8847);
  mpls.u16(0x0001);
  v.push_back({"mpls_truncated", mpls, Counter::kErrMplsTruncated});
  Bytes ip_short = eth(0x0800);
  ip_short.fill(19, 0x45);
  v.push_back({"ipv4_truncated", ip_short, Counter::kErrIpv4Truncated});
  auto badver = frame(eth(0x0800), ipv4(1, 2, 17, udp(1, 2)));
  badver[14] = 0x55;
  v.push_back({"ipv4_version", badver, Counter::kErrIpv4Version});
  auto badihl = frame(eth(0x0800), ipv4(1, 2, 17, udp(1, 2)));
  badihl[14] = 0x44;
  v.push_back({"ipv4_ihl_small", badihl, Counter::kErrIpv4HeaderLength});
  auto bigihl = frame(eth(0x0800), ipv4(1, 2, 17, {}));
  bigihl[14] = 0x4f;
  v.push_back({"ipv4_ihl_past_end", bigihl, Counter::kErrIpv4HeaderLength});
  v.push_back({"ipv4_total_small", frame(eth(0x0800), ipv4(1, 2, 17, udp(1, 2), 0, 0, 10)),
               Counter::kErrIpv4TotalLength});
  v.push_back({"ipv4_total_past_end", frame(eth(0x0800), ipv4(1, 2, 17, udp(1, 2), 0, 0, 200)),
               Counter::kErrIpv4TotalLength});
  Bytes v6short = eth(0x86dd);
  v6short.fill(39, 0x60);
  v.push_back({"ipv6_truncated", v6short, Counter::kErrIpv6Truncated});
  auto v6ver = frame(eth(0x86dd), ipv6("::1", "::2", 17, {}, udp(1, 2)));
  v6ver[14] = 0x40;
  v.push_back({"ipv6_version", v6ver, Counter::kErrIpv6Version});
  v.push_back({"ipv6_payload_past_end",
               frame(eth(0x86dd), ipv6("::1", "::2", 17, {}, udp(1, 2), 100)),
               Counter::kErrIpv6PayloadLength});
  Bytes ext_cut;
  ext_cut.u8(17).u8(3).fill(6);  // claims 32 bytes, has 8
  v.push_back({"ipv6_ext_truncated", frame(eth(0x86dd), ipv6("::1", "::2", 0, ext_cut, {})),
               Counter::kErrIpv6ExtTruncated});
  Bytes loop;
  for (int i = 0; i < 9; ++i) loop.u8(60).u8(0).fill(6);
  v.push_back({"ipv6_too_many_ext", frame(eth(0x86dd), ipv6("::1", "::2", 60, loop, {})),
               Counter::kErrIpv6TooManyExt});
  Bytes tcp_cut = tcp(1, 2, 0x02);
  tcp_cut.resize(19);
  v.push_back({"tcp_truncated", frame(eth(0x0800), ipv4(1, 2, 6, tcp_cut)),
               Counter::kErrTcpTruncated});
  Bytes doff_small = tcp(1, 2, 0x02);
  doff_small[12] = 0x40;
  v.push_back({"tcp_doff_small", frame(eth(0x0800), ipv4(1, 2, 6, doff_small)),
               Counter::kErrTcpDataOffset});
  Bytes doff_big = tcp(1, 2, 0x02);
  doff_big[12] = 0xf0;
  v.push_back({"tcp_doff_past_end", frame(eth(0x0800), ipv4(1, 2, 6, doff_big)),
               Counter::kErrTcpDataOffset});
  Bytes udp_cut = udp(1, 2);
  udp_cut.resize(7);
  v.push_back({"udp_truncated", frame(eth(0x0800), ipv4(1, 2, 17, udp_cut)),
               Counter::kErrUdpTruncated});
  v.push_back({"udp_len_small", frame(eth(0x0800), ipv4(1, 2, 17, udp(1, 2, 4, 7))),
               Counter::kErrUdpLength});
  v.push_back({"udp_len_past_end", frame(eth(0x0800), ipv4(1, 2, 17, udp(1, 2, 4, 100))),
               Counter::kErrUdpLength});
  Bytes frag_data;
  frag_data.fill(64, 7);
  v.push_back({"fragment_past_64k", frame(eth(0x0800), ipv4(1, 2, 17, frag_data, 0, 0x1fff)),
               Counter::kErrFragmentBad});
  Bytes icmp_cut;
  icmp_cut.u8(8).u8(0).u8(0);
  v.push_back({"icmp_truncated", frame(eth(0x0800), ipv4(1, 2, 1, icmp_cut)),
               Counter::kErrIcmpTruncated});
  return v;
}

TEST(Parser, EveryMalformedCaseHasItsCounter) {
  std::set<Counter> covered;
  for (const auto& mc : malformed_cases()) {
    SCOPED_TRACE(mc.name);
    auto r = run_exact(mc.frame);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.p.malformed);
    EXPECT_EQ(r.p.error, mc.expect) << counter_name(r.p.error);
    EXPECT_EQ(r.c.get(mc.expect), 1u);
    uint64_t errors = 0;
    for (size_t i = static_cast<size_t>(kFirstError); i < kCounterCount; ++i) errors += r.c.v[i];
    EXPECT_EQ(errors, 1u) << "exactly one error counter per malformed frame";
    covered.insert(mc.expect);
  }
  // Every error counter the parser declares is reachable by some hand-built frame.
  for (size_t i = static_cast<size_t>(kFirstError); i < kCounterCount; ++i)
    EXPECT_TRUE(covered.count(static_cast<Counter>(i)))
        << "no test frame for " << counter_name(static_cast<Counter>(i));
}

TEST(Parser, EveryPrefixOfAValidFrameIsSafe) {
  // Truncating a frame anywhere never reads past the end (ASan build) and never crashes.
  Bytes ext;
  ext.u8(44).u8(0).fill(6);
  ext.u8(6).u8(0).u16(0).u32(7);
  auto f = frame(eth(0x86dd, {5, 6}), ipv6("fd00::1", "fd00::2", 0, ext, tcp(1, 2, 0x12, 20, 8)));
  for (size_t n = 0; n <= f.size(); ++n) {
    Bytes cut(f);
    cut.resize(n);
    run_exact(cut);
  }
}

TEST(Parser, CounterNamesAreUniqueAndComplete) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kCounterCount; ++i) {
    auto n = counter_name(static_cast<Counter>(i));
    EXPECT_FALSE(n.empty());
    EXPECT_TRUE(names.insert(n).second) << n;
  }
}

}  // namespace
}  // namespace cg::packet
