#include "dataplane/packet/tcp_reset.h"

#include <cstring>

#include "dataplane/packet/parser.h"

namespace cg::packet {
namespace {

uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
void wr16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void wr32(uint8_t* p, uint32_t v) {
  wr16(p, static_cast<uint16_t>(v >> 16));
  wr16(p + 2, static_cast<uint16_t>(v));
}

}  // namespace

uint16_t inet_checksum(const uint8_t* data, size_t len, uint32_t sum) {
  uint64_t s = sum;
  for (size_t i = 0; i + 1 < len; i += 2) s += static_cast<uint32_t>(data[i]) << 8 | data[i + 1];
  if (len & 1) s += static_cast<uint32_t>(data[len - 1]) << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

size_t build_tcp_reset(const uint8_t* frame, uint32_t len, ResetTo to, uint8_t* out,
                       size_t cap) {
  Parsed p;
  Counters scratch;
  if (!parse(frame, len, &p, &scratch) || !p.is_ip() || !p.has_l4 || p.fragment ||
      p.l4_proto != ipproto::kTcp || (p.tcp_flags & tcpflag::kRst))
    return 0;
  const uint8_t* tcp = frame + p.l4_offset;
  const uint32_t seq = rd32(tcp + 4), ack = rd32(tcp + 8);
  const uint32_t l3_end = p.l3_offset + p.l3_length;
  uint32_t seg_len = l3_end > p.payload_offset ? l3_end - p.payload_offset : 0;
  if (p.tcp_flags & tcpflag::kSyn) ++seg_len;
  if (p.tcp_flags & tcpflag::kFin) ++seg_len;

  const size_t l2 = p.l3_offset, l3 = p.is_v4() ? 20 : 40, total = l2 + l3 + 20;
  if (total > cap) return 0;
  std::memcpy(out, frame, l2);  // Ethernet header with its VLAN tags and ethertype
  const bool back = to == ResetTo::kSender;
  if (back) {
    std::memcpy(out, frame + 6, 6);
    std::memcpy(out + 6, frame, 6);
  }
  const uint8_t* ip_in = frame + p.l3_offset;
  uint8_t* ip = out + l2;
  uint8_t* th = ip + l3;
  std::memset(ip, 0, l3 + 20);
  const uint8_t *src, *dst;  // addresses of the RST as sent
  size_t alen;
  if (p.is_v4()) {
    alen = 4;
    src = ip_in + (back ? 16 : 12);
    dst = ip_in + (back ? 12 : 16);
    ip[0] = 0x45;
    wr16(ip + 2, 40);
    ip[6] = 0x40;  // DF
    ip[8] = 64;
    ip[9] = ipproto::kTcp;
    std::memcpy(ip + 12, src, 4);
    std::memcpy(ip + 16, dst, 4);
    wr16(ip + 10, inet_checksum(ip, 20));
  } else {
    alen = 16;
    src = ip_in + (back ? 24 : 8);
    dst = ip_in + (back ? 8 : 24);
    ip[0] = 0x60;
    wr16(ip + 4, 20);
    ip[6] = ipproto::kTcp;
    ip[7] = 64;
    std::memcpy(ip + 8, src, 16);
    std::memcpy(ip + 24, dst, 16);
  }
  // Ports: the parser stored them in host order as sent.
  wr16(th, back ? p.dst_port : p.src_port);
  wr16(th + 2, back ? p.src_port : p.dst_port);
  if (back) {
    // RFC 9293: if the segment has ACK, <SEQ=SEG.ACK><CTL=RST>; otherwise
    // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    if (p.tcp_flags & tcpflag::kAck) {
      wr32(th + 4, ack);
      th[13] = tcpflag::kRst;
    } else {
      wr32(th + 8, seq + seg_len);
      th[13] = tcpflag::kRst | tcpflag::kAck;
    }
  } else {
    // In the sender's name, right after the segment: the receiver's next expected sequence.
    wr32(th + 4, seq + seg_len);
    wr32(th + 8, ack);
    th[13] = static_cast<uint8_t>(tcpflag::kRst | (p.tcp_flags & tcpflag::kAck));
  }
  th[12] = 5 << 4;
  // Checksum over the pseudo header (addresses, protocol, TCP length) and the header.
  uint32_t sum = 0;
  for (size_t i = 0; i < alen; i += 2) {
    sum += static_cast<uint32_t>(src[i]) << 8 | src[i + 1];
    sum += static_cast<uint32_t>(dst[i]) << 8 | dst[i + 1];
  }
  sum += ipproto::kTcp + 20;
  wr16(th + 16, inet_checksum(th, 20, sum));
  return total;
}

}  // namespace cg::packet
