// TCP reset frames: fields per RFC 9293 for both directions, VLAN tags kept, checksums valid
// (checked by summing the received frame as a host would), and no reset for what must not get one.
#include "dataplane/packet/tcp_reset.h"

#include <gtest/gtest.h>

#include "dataplane/packet/parser.h"
#include "tests/unit/dataplane/frame_builder.h"

namespace cg::packet {
namespace {

using namespace cg::testing;

Bytes with_seq_ack(Bytes f, size_t l4, uint32_t seq, uint32_t ack) {
  for (int i = 0; i < 4; ++i) {
    f[l4 + 4 + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
    f[l4 + 8 + i] = static_cast<uint8_t>(ack >> (24 - 8 * i));
  }
  return f;
}

uint32_t rd32(const uint8_t* p) { return uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

// The TCP checksum as a receiver verifies it: over pseudo header + segment it sums to zero.
bool tcp_checksum_ok(const uint8_t* f, const Parsed& p) {
  const uint8_t* ip = f + p.l3_offset;
  size_t alen = p.is_v4() ? 4 : 16;
  const uint8_t* src = ip + (p.is_v4() ? 12 : 8);
  const uint8_t* dst = src + alen;
  uint32_t sum = 0;
  for (size_t i = 0; i < alen; i += 2) sum += (src[i] << 8 | src[i + 1]) + (dst[i] << 8 | dst[i + 1]);
  sum += 6 + 20;
  return inet_checksum(f + p.l4_offset, 20, sum) == 0;
}

struct Out {
  uint8_t buf[128];
  size_t len = 0;
  Parsed p{};
};

Out reset(const Bytes& f, ResetTo to) {
  Out o;
  o.len = build_tcp_reset(f.data(), static_cast<uint32_t>(f.size()), to, o.buf, sizeof o.buf);
  if (o.len) {
    Counters c;
    EXPECT_TRUE(parse(o.buf, static_cast<uint32_t>(o.len), &o.p, &c));
  }
  return o;
}

TEST(TcpReset, Ipv4WithVlanBothDirections) {
  // 10.1.1.1:40000 -> 93.184.216.34:443, ACK|PSH, 100 bytes, seq 1000, ack 5000, VLAN 120.
  Bytes f = with_seq_ack(frame(eth(0x0800, {120}), ipv4(ip4("10.1.1.1"), ip4("93.184.216.34"), 6,
                                                        tcp(40000, 443, 0x18, 100))),
                         18 + 20, 1000, 5000);
  Out back = reset(f, ResetTo::kSender);
  ASSERT_EQ(back.len, 18u + 20 + 20);
  EXPECT_EQ(back.p.vlan_outer, 120);
  EXPECT_EQ(back.buf[0], 0x04) << "to the sender's MAC";
  EXPECT_EQ(back.buf[6], 0x02);
  EXPECT_EQ(back.p.src_port, 443);
  EXPECT_EQ(back.p.dst_port, 40000);
  EXPECT_EQ(back.p.tcp_flags, tcpflag::kRst);
  EXPECT_EQ(rd32(back.buf + back.p.l4_offset + 4), 5000u) << "SEQ = SEG.ACK";
  EXPECT_EQ(inet_checksum(back.buf + back.p.l3_offset, 20), 0) << "IPv4 header checksum";
  EXPECT_TRUE(tcp_checksum_ok(back.buf, back.p));

  Out fwd = reset(f, ResetTo::kReceiver);
  ASSERT_EQ(fwd.len, 18u + 20 + 20);
  EXPECT_EQ(fwd.buf[0], 0x02) << "on to the receiver's MAC";
  EXPECT_EQ(fwd.p.src_port, 40000);
  EXPECT_EQ(fwd.p.dst_port, 443);
  EXPECT_EQ(fwd.p.tcp_flags, tcpflag::kRst | tcpflag::kAck);
  EXPECT_EQ(rd32(fwd.buf + fwd.p.l4_offset + 4), 1100u) << "right after the segment";
  EXPECT_EQ(rd32(fwd.buf + fwd.p.l4_offset + 8), 5000u);
  EXPECT_TRUE(tcp_checksum_ok(fwd.buf, fwd.p));
  // Addresses: swapped for the sender, kept for the receiver.
  Parsed in{};
  Counters c;
  ASSERT_TRUE(parse(f.data(), static_cast<uint32_t>(f.size()), &in, &c));
  EXPECT_EQ(back.p.src, in.dst);
  EXPECT_EQ(back.p.dst, in.src);
  EXPECT_EQ(fwd.p.src, in.src);
  EXPECT_EQ(fwd.p.dst, in.dst);
}

TEST(TcpReset, SynWithoutAckIsAcknowledged) {
  Bytes f = with_seq_ack(
      frame(eth(0x0800), ipv4(ip4("10.1.1.1"), ip4("10.2.2.2"), 6, tcp(1234, 80, tcpflag::kSyn))),
      14 + 20, 777, 0);
  Out back = reset(f, ResetTo::kSender);
  ASSERT_GT(back.len, 0u);
  EXPECT_EQ(back.p.tcp_flags, tcpflag::kRst | tcpflag::kAck);
  EXPECT_EQ(rd32(back.buf + back.p.l4_offset + 4), 0u);
  EXPECT_EQ(rd32(back.buf + back.p.l4_offset + 8), 778u) << "ACK = SEG.SEQ + 1 (the SYN)";
  EXPECT_TRUE(tcp_checksum_ok(back.buf, back.p));
}

TEST(TcpReset, Ipv6) {
  Bytes f = with_seq_ack(frame(eth(0x86dd), ipv6("fd77::1", "2001:db8::5", 6, {},
                                                 tcp(50000, 443, 0x10, 10))),
                         14 + 40, 42, 99);
  Out back = reset(f, ResetTo::kSender);
  ASSERT_EQ(back.len, 14u + 40 + 20);
  EXPECT_FALSE(back.p.is_v4());
  EXPECT_EQ(back.p.dst_port, 50000);
  EXPECT_EQ(rd32(back.buf + back.p.l4_offset + 4), 99u);
  EXPECT_TRUE(tcp_checksum_ok(back.buf, back.p));
  Out fwd = reset(f, ResetTo::kReceiver);
  EXPECT_EQ(rd32(fwd.buf + fwd.p.l4_offset + 4), 52u);
  EXPECT_TRUE(tcp_checksum_ok(fwd.buf, fwd.p));
}

TEST(TcpReset, NothingForResetsUdpFragmentsOrSmallBuffers) {
  Bytes rst = frame(eth(0x0800), ipv4(ip4("10.1.1.1"), ip4("10.2.2.2"), 6, tcp(1, 2, 0x14)));
  Bytes udp_f = frame(eth(0x0800), ipv4(ip4("10.1.1.1"), ip4("10.2.2.2"), 17, udp(1, 2, 4)));
  Bytes frag = frame(eth(0x0800),
                     ipv4(ip4("10.1.1.1"), ip4("10.2.2.2"), 6, tcp(1, 2, 0x10, 8), 0, 0x2000));
  uint8_t buf[128];
  EXPECT_EQ(build_tcp_reset(rst.data(), uint32_t(rst.size()), ResetTo::kSender, buf, 128), 0u);
  EXPECT_EQ(build_tcp_reset(udp_f.data(), uint32_t(udp_f.size()), ResetTo::kSender, buf, 128), 0u);
  EXPECT_EQ(build_tcp_reset(frag.data(), uint32_t(frag.size()), ResetTo::kSender, buf, 128), 0u);
  Bytes ok = frame(eth(0x0800), ipv4(ip4("10.1.1.1"), ip4("10.2.2.2"), 6, tcp(1, 2, 0x10)));
  EXPECT_EQ(build_tcp_reset(ok.data(), uint32_t(ok.size()), ResetTo::kSender, buf, 53), 0u);
  EXPECT_EQ(build_tcp_reset(ok.data(), uint32_t(ok.size()), ResetTo::kSender, buf, 54), 54u);
  for (uint32_t n = 0; n < ok.size(); ++n)  // every truncation: no reset, no read past n
    EXPECT_EQ(build_tcp_reset(ok.data(), n, ResetTo::kSender, buf, 128), 0u) << n;
}

}  // namespace
}  // namespace cg::packet
